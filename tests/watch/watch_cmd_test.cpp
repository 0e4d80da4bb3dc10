// `tlsprobe watch` through the built binary, against in-process TLS servers on 127.0.0.1:
// exit status of --once, log lines per handshake, --format json, config errors with
// file:line:column, and the continuous mode ending on SIGTERM with a busy admin port.
// Certificates are dated around the real clock (the binary evaluates at "now").
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "watch_fixtures.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace watchtest;
namespace fs = std::filesystem;

namespace {

// A fresh directory under $TMPDIR, removed with its contents.
using tlsprobe::testsupport::TempDir;

std::string write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
  return out + "]";
}

std::string site_config(const std::string& log_file, const std::string& origin,
                        const std::vector<std::string>& edges) {
  return "warn_days = 21\n"
         "[log]\n"
         "file = \"" +
         log_file +
         "\"\n"
         "[[site]]\n"
         "host = \"" +
         site_host + "\"\norigin = \"" + origin + "\"\nedges = " + quoted_list(edges) + "\n";
}

std::vector<boost::json::object> read_records(const fs::path& p) {
  std::vector<boost::json::object> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
  return out;
}

struct Fixture {
  WatchPki pki{testpki::now()};
  TempDir dir{"watch"};
  testpki::TempPemFile root_pem{pki.root.cert_pem()};
  std::string log_file = (dir.path / "connections.jsonl").string();

  testsupport::ProcessResult watch(const std::string& config_text,
                                   std::vector<std::string> extra = {}) {
    const std::string cfg = write_file(dir.path / "watch.toml", config_text);
    std::vector<std::string> args = {"watch",         "--config",          cfg,     "--ca-file",
                                     root_pem.path(), "--no-system-trust", "--once"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testsupport::run_tlsprobe(args, std::chrono::seconds(60));
  }
};

}  // namespace

TEST_CASE("watch --once: healthy edges and origin exit 0 with one log line per handshake",
          "[watch][cli]") {
  Fixture fx;
  auto origin = fx.pki.serve(fx.pki.current);
  auto e1 = fx.pki.serve(fx.pki.current);
  auto e2 = fx.pki.serve(fx.pki.current);
  const auto r =
      fx.watch(site_config(fx.log_file, origin->address(), {e1->address(), e2->address()}));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  const auto records = read_records(fx.log_file);
  REQUIRE(records.size() == 3);
  for (const auto* s : {e1.get(), e2.get()}) {
    const auto* rec = record_for(records, s->address());
    REQUIRE(rec);
    CHECK(str(rec->at("tlsprobe").at("role")) == "edge");
    CHECK(str(rec->at("tlsprobe").at("mode")) == "watch");
  }
  REQUIRE(record_for(records, origin->address()));
  CHECK(str(record_for(records, origin->address())->at("tlsprobe").at("role")) == "origin");
}

TEST_CASE("watch --once: an edge with an expired stale certificate exits 1", "[watch][cli]") {
  Fixture fx;
  auto origin = fx.pki.serve(fx.pki.current);
  auto good = fx.pki.serve(fx.pki.current);
  auto stale = fx.pki.serve(fx.pki.old_expired);
  const auto r =
      fx.watch(site_config(fx.log_file, origin->address(), {good->address(), stale->address()}));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("edge.stale") != std::string::npos);
  const auto records = read_records(fx.log_file);
  REQUIRE(records.size() == 3);
  const auto* rec = record_for(records, stale->address());
  REQUIRE(rec);
  CHECK(has_code(*rec, "edge.stale"));
  CHECK(str(rec->at("error").at("code")).size() > 0);
  CHECK_FALSE(has_code(*record_for(records, good->address()), "edge.stale"));
  CHECK_FALSE(has_code(*record_for(records, origin->address()), "edge.stale"));
}

TEST_CASE("watch --once --format json prints one parseable document per round", "[watch][cli]") {
  Fixture fx;
  auto origin = fx.pki.serve(fx.pki.current);
  auto stale = fx.pki.serve(fx.pki.old_valid);
  const auto r = fx.watch(site_config(fx.log_file, origin->address(), {stale->address()}),
                          {"--format", "json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);  // a stale copy far from expiry is a warning
  const auto doc = boost::json::parse(r.out).as_object();
  const auto& sites = doc.at("sites").as_array();
  REQUIRE(sites.size() == 1);
  CHECK(str(sites[0].at("host")) == site_host);
  std::vector<boost::json::object> records;
  for (const auto& v : sites[0].at("records").as_array()) records.push_back(v.as_object());
  REQUIRE(records.size() == 2);
  REQUIRE(record_for(records, stale->address()));
  CHECK(has_code(*record_for(records, stale->address()), "edge.stale"));
  CHECK(doc.at("error").as_bool() == false);
}

TEST_CASE("watch --once: an edge that cannot be reached exits 2", "[watch][cli]") {
  Fixture fx;
  auto origin = fx.pki.serve(fx.pki.current);
  const std::string dead = "127.0.0.1:" + std::to_string(testsupport::unused_port());
  const auto r = fx.watch(site_config(fx.log_file, origin->address(), {dead}));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  const auto records = read_records(fx.log_file);
  REQUIRE(records.size() == 2);
  REQUIRE(record_for(records, dead));
  CHECK(has_code(*record_for(records, dead), "probe.unreachable"));
}

TEST_CASE("watch: a bad config exits 64 with file:line:column", "[watch][cli]") {
  Fixture fx;
  const std::string text = "warn_days = 21\nwatch_interval = \"soon\"\n";
  const auto r = fx.watch(text);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 64);
  const std::string cfg = (fx.dir.path / "watch.toml").string();
  CHECK(std::regex_search(
      r.err, std::regex(std::regex_replace(cfg, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                        ":2:[0-9]+: ")));
}

TEST_CASE("watch: usage errors exit 64", "[watch][cli]") {
  CHECK(testsupport::run_tlsprobe({"watch"}).exit_code == 64);  // --config is required
  CHECK(testsupport::run_tlsprobe({"watch", "--config", "/nonexistent/watch.toml"}).exit_code ==
        64);
  Fixture fx;
  auto origin = fx.pki.serve(fx.pki.current);
  CHECK(fx.watch(site_config(fx.log_file, origin->address(), {}), {"--format", "xml"}).exit_code ==
        64);
}

TEST_CASE("watch without --once runs until SIGTERM; a busy admin port is only a warning",
          "[watch][cli]") {
  Fixture fx;
  auto origin = fx.pki.serve(fx.pki.current);
  auto edge = fx.pki.serve(fx.pki.current);
  const std::string cfg = write_file(
      fx.dir.path / "watch.toml", site_config(fx.log_file, origin->address(), {edge->address()}));
  // coreutils timeout sends SIGTERM after 3 s; --preserve-status returns tlsprobe's status.
  // The admin address is the origin server's port: busy.
  const auto r = testsupport::run_process(
      {"timeout", "--preserve-status", "-s", "TERM", "3", testsupport::tlsprobe_binary(), "watch",
       "--config", cfg, "--ca-file", fx.root_pem.path(), "--no-system-trust", "--admin",
       origin->address()},
      std::chrono::seconds(30));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("warning") != std::string::npos);
  CHECK(r.err.find(origin->address()) != std::string::npos);
  // The first round ran at once and its lines were flushed on SIGTERM.
  const auto records = read_records(fx.log_file);
  CHECK(records.size() >= 2);
  CHECK(records.size() % 2 == 0);
}
