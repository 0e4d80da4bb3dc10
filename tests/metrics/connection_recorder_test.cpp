// ConnectionRecorder: one object per connection opens its metrics at once, collects its
// findings under one de-duplication and cap rule, and writes, announces and counts exactly
// once (issue 14 item 6). Metrics in memory, the log in a temporary file.
#include "proxy/observe/connection_recorder.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/metrics.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace tlsprobe;
using proxy::ConnectionFacts;
using proxy::ConnectionRecorder;
using proxy::LogMode;
using proxy::Metrics;

namespace {

inspect::Finding finding(std::string code, std::string subject,
                         std::map<std::string, std::string> evidence = {},
                         inspect::Severity severity = inspect::Severity::warning) {
  inspect::Finding f;
  f.code = std::move(code);
  f.severity = severity;
  f.role = inspect::Role::direct;
  f.subject = std::move(subject);
  f.evidence = std::move(evidence);
  return f;
}

ConnectionFacts opening(LogMode mode) {
  ConnectionFacts f;
  f.mode = mode;
  f.start = std::chrono::system_clock::now();
  f.client_address = "127.0.0.1";
  f.client_port = 40000;
  return f;
}

// A connection log in a fresh temporary directory; lines() stops it and reads them back.
class TempLog {
 public:
  TempLog() {
    proxy::ConnectionLogOptions o;
    o.path = (dir_ / "c.jsonl").string();
    o.announce_findings = false;  // keep the test's stderr quiet
    log_.emplace(o);
  }
  ~TempLog() { log_.reset(); }
  proxy::ConnectionLog* get() { return &*log_; }
  std::vector<boost::json::object> lines() {
    log_->stop();
    std::vector<boost::json::object> out;
    std::ifstream in(dir_ / "c.jsonl");
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) out.push_back(boost::json::parse(l).as_object());
    return out;
  }

 private:
  testsupport::TempDir dir_{"rec"};
  std::optional<proxy::ConnectionLog> log_;
};

}  // namespace

TEST_CASE("recorder: the connection is counted from construction, closed exactly once",
          "[recorder]") {
  Metrics m;
  {
    ConnectionRecorder rec(nullptr, &m, opening(LogMode::reverse));
    CHECK(m.counter_value("tlsprobe_connections_total", {"reverse"}) == 1);
    CHECK(m.open_connections() == 1);
    rec.close(100, 2000);
    CHECK(m.open_connections() == 0);
    rec.close(100, 2000);  // again: nothing
    CHECK(m.open_connections() == 0);
  }  // nor from the destructor
  CHECK(m.open_connections() == 0);
  CHECK(m.counter_value("tlsprobe_connections_total", {"reverse"}) == 1);
  CHECK(m.counter_value("tlsprobe_bytes_total", {"reverse", "client_to_server"}) == 100);
  CHECK(m.counter_value("tlsprobe_bytes_total", {"reverse", "server_to_client"}) == 2000);
}

TEST_CASE("recorder: a session that never closes it is still written and counted once",
          "[recorder]") {
  Metrics m;
  TempLog log;
  {
    ConnectionRecorder rec(log.get(), &m, opening(LogMode::intercept));
    rec.add_findings({finding("cert.expiring_soon", "a.test:443")});
  }
  CHECK(m.open_connections() == 0);
  CHECK(m.counter_value("tlsprobe_findings_total", {"cert.expiring_soon", "direct", "warning"}) ==
        1);
  CHECK(log.lines().size() == 1);
}

TEST_CASE("recorder: one log line per record, written once whatever calls write and close",
          "[recorder]") {
  Metrics m;
  TempLog log;
  {
    ConnectionRecorder rec(log.get(), &m, opening(LogMode::forward));
    rec.facts().destination_domain = "one.test";
    rec.add_findings({finding("http.no_https_redirect", "one.test:80")});
    rec.next_record();  // writes one.test's record
    rec.facts().destination_domain = "two.test";
    CHECK(rec.facts().findings.empty());  // the next record starts clean
    CHECK(rec.write_record());
    CHECK_FALSE(rec.write_record());
    rec.close(10, 20);
    rec.close(10, 20);
  }
  const auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].at("destination").at("domain").as_string() == "one.test");
  CHECK(lines[1].at("destination").at("domain").as_string() == "two.test");
  CHECK(m.counter_value("tlsprobe_connections_total", {"forward"}) == 1);
  CHECK(m.counter_value("tlsprobe_findings_total",
                        {"http.no_https_redirect", "direct", "warning"}) == 1);
}

TEST_CASE("recorder: a finding repeated by a keep-alive page load is listed once", "[recorder]") {
  ConnectionRecorder rec(nullptr, nullptr, opening(LogMode::intercept));
  const auto mixed = finding("http.mixed_content", "https://a.test/", {{"url", "http://x/1.js"}});
  rec.add_findings({mixed, mixed});
  rec.add_findings({mixed});
  // Other evidence is another finding.
  rec.add_findings({finding("http.mixed_content", "https://a.test/", {{"url", "http://x/2.js"}})});
  CHECK(rec.facts().findings.size() == 2);
}

TEST_CASE("recorder: http.hsts_missing once per host and header value, whatever the URL",
          "[recorder]") {
  ConnectionRecorder rec(nullptr, nullptr, opening(LogMode::intercept));
  rec.add_findings({finding("http.hsts_missing", "a.test", {{"url", "/1"}, {"hsts", ""}})});
  rec.add_findings({finding("http.hsts_missing", "a.test", {{"url", "/2"}, {"hsts", ""}})});
  rec.add_findings(
      {finding("http.hsts_missing", "a.test", {{"url", "/3"}, {"hsts", "max-age=0"}})});
  CHECK(rec.facts().findings.size() == 2);
}

TEST_CASE("recorder: at most 16 findings of a code, the last says how many more", "[recorder]") {
  TempLog log;
  {
    ConnectionRecorder rec(log.get(), nullptr, opening(LogMode::intercept));
    for (int i = 0; i < 20; ++i)
      rec.add_findings({finding("http.mixed_content", "https://a.test/" + std::to_string(i))});
    rec.add_findings({finding("cert.expiring_soon", "a.test:443")});
    CHECK(rec.facts().findings.size() == ConnectionRecorder::kMaxFindingsPerCode + 1);
    rec.close(0, 0);
    std::size_t with_note = 0;
    for (const auto& f : rec.facts().findings)
      if (auto it = f.evidence.find("not_listed"); it != f.evidence.end()) {
        ++with_note;
        CHECK(it->second == "4");
        CHECK(f.code == "http.mixed_content");
      }
    CHECK(with_note == 1);
  }
  CHECK(log.lines().size() == 1);
}

TEST_CASE("recorder: shared findings are held, not copied, and never changed for others",
          "[recorder]") {
  // A tunnel's findings come from its side probe's cache entry, which every tunnel to the
  // host shares: 20 of one code there, so this record notes the 4 it does not list.
  proxy::FindingList cached;
  for (int i = 0; i < 20; ++i)
    cached.push_back(finding("chain.incomplete", "a.test:443", {{"n", std::to_string(i)}}));
  TempLog log;
  {
    ConnectionRecorder rec(log.get(), nullptr, opening(LogMode::tunnel));
    rec.add_shared_findings(cached);
    rec.add_shared_findings(cached);  // the same ones again: listed once
    REQUIRE(rec.facts().findings.size() == ConnectionRecorder::kMaxFindingsPerCode);
    for (std::size_t i = 0; i < rec.facts().findings.size(); ++i)
      CHECK(rec.facts().findings.refs()[i] == cached.refs()[i]);  // the same objects
    rec.close(0, 0);
    const auto& last = rec.facts().findings.back();
    CHECK(last.evidence.at("not_listed") == "4");
    CHECK(rec.facts().findings.refs().back() != cached.refs()[15]);  // a changed copy
  }
  // The cache's findings are as they were, for the next tunnel.
  for (const auto& f : cached) CHECK(f.evidence.count("not_listed") == 0);
  const auto lines = log.lines();
  REQUIRE(lines.size() == 1);
  const auto& logged = lines[0].at("tlsprobe").at("findings").as_array();
  REQUIRE(logged.size() == ConnectionRecorder::kMaxFindingsPerCode);
  CHECK(logged.back().at("evidence").at("not_listed").as_string() == "4");
  CHECK_FALSE(logged.front().at("evidence").as_object().contains("not_listed"));
}
