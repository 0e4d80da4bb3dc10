// `tlsprobe probe` at scale, run as a user runs it: progress on a terminal (a pseudo-terminal
// here), results streamed as jsonl or summary lines, and Ctrl-C (SIGINT) mid-run keeping
// what finished, with a tally and exit status 130.
#include "certs/pem.hpp"
#include "cli/cli_process.hpp"
#include "pki/test_pki.hpp"
#include "support/loopback_server.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <signal.h>

#include <sstream>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::ServedChain;
using testsupport::serving;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

// root -> intermediate -> leaf for the IP 127.0.0.1, so that "127.0.0.1:PORT" targets need
// no --connect and several servers can be probed in one run.
const testpki::Hierarchy& ip_hierarchy() {
  static const auto h = [] {
    auto root = testpki::make_root({.common_name = "CLI Test Root"});
    auto intermediate =
        testpki::issue(root, {.common_name = "CLI Test Intermediate", .is_ca = true});
    auto leaf =
        testpki::issue(intermediate, {.common_name = "127.0.0.1", .ip_names = {"127.0.0.1"}});
    return testpki::Hierarchy{root, intermediate, leaf};
  }();
  return h;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("probe --format jsonl: one object per line, the same shape for one target or many",
          "[cli]") {
  TlsTestServer server(serving(ip_hierarchy()));
  testpki::TempPemFile ca(certs::write_pem(ip_hierarchy().root.cert));
  const std::vector<std::string> common{
      "--ca-file", ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText,
      "--format",  "jsonl",   "--timeout",         "5"};
  auto one_args = std::vector<std::string>{"probe", server.address()};
  one_args.insert(one_args.end(), common.begin(), common.end());
  const auto one = testsupport::run_tlsprobe(one_args, 30s);
  INFO(one.err);
  CHECK(one.exit_code == 0);
  const auto one_lines = lines_of(one.out);
  REQUIRE(one_lines.size() == 1);
  const auto doc = boost::json::parse(one_lines[0]);
  REQUIRE(doc.is_object());  // not an array, even though json would also give an object
  CHECK(doc.at("target").as_string() == server.address());
  CHECK(doc.at("observations").as_array().size() >= 1);
  CHECK(doc.at("findings").as_array().empty());

  auto many_args =
      std::vector<std::string>{"probe", server.address(), server.address(), server.address()};
  many_args.insert(many_args.end(), common.begin(), common.end());
  const auto many = testsupport::run_tlsprobe(many_args, 30s);
  INFO(many.err);
  CHECK(many.exit_code == 0);
  const auto many_lines = lines_of(many.out);
  REQUIRE(many_lines.size() == 3);
  for (const auto& line : many_lines) {
    const auto d = boost::json::parse(line);
    REQUIRE(d.is_object());
    CHECK(d.as_object().size() == doc.as_object().size());  // same keys as the single one
    CHECK(d.at("target").as_string() == server.address());
  }
  // Not a terminal: no progress line, and no tally for a run that finished.
  CHECK(many.err.find("done") == std::string::npos);
  CHECK(many.err.find("tally") == std::string::npos);
}

TEST_CASE("probe --format summary: a line per target with its class, days and worst finding",
          "[cli]") {
  TlsTestServer good(serving(ip_hierarchy()));
  // A leaf for another name: name.mismatch on 127.0.0.1, an error that still has days left.
  const auto other = testpki::make_hierarchy({"other.test"});
  TlsTestServer wrong(serving(other));
  testpki::TempPemFile ca(
      certs::write_pem(certs::Chain{ip_hierarchy().root.cert, other.root.cert}));
  const std::string refused = "127.0.0.1:" + std::to_string(testsupport::unused_port());
  const auto r =
      testsupport::run_tlsprobe({"probe", good.address(), wrong.address(), refused, "--ca-file",
                                 ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText,
                                 "--format", "summary", "--timeout", "5", "--concurrency", "1"},
                                30s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);  // the worst class decides
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  // --concurrency 1 finishes them in order.
  CHECK(lines[0].rfind(good.address(), 0) == 0);
  CHECK(lines[0].find(" ok ") != std::string::npos);
  CHECK(lines[0].find("no findings") != std::string::npos);
  CHECK(lines[0].find(" 365d ") != std::string::npos);  // the leaf ends fixed_now + 365 days
  CHECK(lines[1].rfind(wrong.address(), 0) == 0);
  CHECK(lines[1].find(" error ") != std::string::npos);
  CHECK(lines[1].find("error name.mismatch") != std::string::npos);
  CHECK(lines[2].rfind(refused, 0) == 0);
  CHECK(lines[2].find(" unreachable ") != std::string::npos);
  CHECK(lines[2].find(" - ") != std::string::npos);  // no chain, no days
  CHECK(lines[2].find("probe.unreachable") != std::string::npos);
  CHECK(lines[3].rfind("tally: 3 of 3 targets, 1 ok, 1 error, 1 unreachable, ", 0) == 0);
}

TEST_CASE("probe on a terminal: a refreshing progress line on stderr, then the tally", "[cli]") {
  TlsTestServer good(serving(ip_hierarchy()));
  testsupport::SilentServer silent;  // each of these targets takes the whole --timeout
  testpki::TempPemFile ca(certs::write_pem(ip_hierarchy().root.cert));
  const auto run =
      testcli::run_on_pty({"probe", good.address(), silent.address(), silent.address(), "--ca-file",
                           ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText,
                           "--format", "summary", "--timeout", "1.5", "--concurrency", "3"},
                          30s);
  INFO(run.output);
  REQUIRE_FALSE(run.timed_out);
  CHECK(run.exit_code == 2);
  // The line is redrawn in place (carriage return, erase line) while the silent ones wait.
  CHECK(count_of(run.output, "\r\x1b[Ktlsprobe probe: ") >= 2);
  CHECK(run.output.find("/3 done, ") != std::string::npos);
  CHECK(run.output.find("1/3 done, 0 unreachable, 0 with errors, ") != std::string::npos);
  CHECK(run.output.find("tally: 3 of 3 targets, 1 ok, 0 error, 2 unreachable") !=
        std::string::npos);
}

TEST_CASE("Ctrl-C mid-run of many targets: what finished, the tally, exit 130", "[cli]") {
  TlsTestServer good(serving(ip_hierarchy()));
  testsupport::SilentServer silent;
  testpki::TempPemFile ca(certs::write_pem(ip_hierarchy().root.cert));
  std::string list = good.address() + "\n" + good.address() + "\n";
  for (int i = 0; i < 40; ++i) list += silent.address() + "\n";
  testpki::TempPemFile targets(list);

  SECTION("summary") {
    const auto r = testsupport::run_process_signalling(
        {testsupport::tlsprobe_binary(), "probe", "--targets", targets.path(), "--ca-file",
         ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText, "--format", "summary",
         "--timeout", "3", "--concurrency", "2"},
        SIGINT, [](const testsupport::ProcessResult& p) { return lines_of(p.out).size() >= 2; },
        60s);
    INFO(r.out << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 130);
    // 40 silent targets at 3 s each, two at a time, would take a minute: it stopped at once.
    CHECK(r.elapsed_ms < 20000);
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() >= 3);
    CHECK(lines[0].find(" ok ") != std::string::npos);
    CHECK(lines[1].find(" ok ") != std::string::npos);
    CHECK(lines.back().find("tally: ") == 0);
    CHECK(lines.back().find(" of 42 targets, 2 ok, ") != std::string::npos);
    CHECK(lines.back().find("not finished (interrupted)") != std::string::npos);
  }
  SECTION("jsonl: finished objects on stdout, the tally on stderr") {
    const auto r = testsupport::run_process_signalling(
        {testsupport::tlsprobe_binary(), "probe", "--targets", targets.path(), "--ca-file",
         ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText, "--format", "jsonl",
         "--timeout", "3", "--concurrency", "2"},
        SIGINT, [](const testsupport::ProcessResult& p) { return lines_of(p.out).size() >= 2; },
        60s);
    INFO(r.out << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 130);
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() >= 2);
    for (const auto& line : lines) CHECK(boost::json::parse(line).is_object());
    CHECK(r.err.find("tlsprobe probe: tally: ") != std::string::npos);
    CHECK(r.err.find("(interrupted)") != std::string::npos);
  }
}
