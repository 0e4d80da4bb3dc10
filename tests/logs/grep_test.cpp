// `tlsprobe logs grep`: filters by host, code, severity, role and time; json and text output.
#include "log_fixtures.hpp"
#include "logs/filter.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <sstream>

using namespace tlsprobe;
using namespace tlsprobe::logtest;
namespace json = boost::json;
using testsupport::run_tlsprobe;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

struct GrepLog {
  TempDir dir;
  std::string path = dir.file("connections.jsonl");
  std::vector<std::string> lines;

  GrepLog() {
    const auto a = testpki::make_hierarchy({"www.example.com"});
    const auto b = testpki::make_hierarchy({"api.example.org"});
    // 0: healthy www at T
    lines.push_back(line_of(tunnel_facts("www.example.com", a.fullchain(), 0s)));
    // 1: api with an error, T+1h
    auto f = tunnel_facts("api.example.org", {b.leaf.cert}, 3600s);
    f.findings.push_back(
        finding(inspect::codes::chain_incomplete, inspect::Severity::error, "api:443"));
    lines.push_back(line_of(f));
    // 2: www edge with a warning, T+2h
    auto g = tunnel_facts("www.example.com", a.fullchain(), 7200s);
    g.role = inspect::Role::edge;
    g.findings.push_back(finding(inspect::codes::edge_stale, inspect::Severity::warning, "www:443",
                                 inspect::Role::edge));
    lines.push_back(line_of(g));
    // 3: api, info finding on the origin, T+3h
    auto h = tunnel_facts("api.example.org", b.fullchain(), 10800s);
    h.findings.push_back(finding(inspect::codes::chain_contains_root, inspect::Severity::info,
                                 "api:443", inspect::Role::origin));
    lines.push_back(line_of(h));
    write_lines(path, lines);
  }

  std::vector<std::string> grep(std::vector<std::string> args) {
    std::vector<std::string> argv = {"logs", "grep", "--at", "2026-06-01T04:00:00Z"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(path);
    const auto result = run_tlsprobe(argv);
    INFO(result.err);
    // Like grep: 0 when something matched, 1 when nothing did.
    REQUIRE(result.exit_code == (result.out.empty() ? 1 : 0));
    return split_lines(result.out);
  }
};

}  // namespace

TEST_CASE("grep prints the original lines of matching records", "[grep]") {
  GrepLog log;
  CHECK(log.grep({}) == log.lines);
  CHECK(log.grep({"--host", "api.*"}) == std::vector<std::string>{log.lines[1], log.lines[3]});
  CHECK(log.grep({"--host", "WWW.EXAMPLE.COM"}) ==
        std::vector<std::string>{log.lines[0], log.lines[2]});
  CHECK(log.grep({"--host", "192.0.2.10"}).size() == 4);
  CHECK(log.grep({"--code", "chain.incomplete"}) == std::vector<std::string>{log.lines[1]});
  CHECK(log.grep({"--code", "chain.*"}) == std::vector<std::string>{log.lines[1], log.lines[3]});
  CHECK(log.grep({"--severity", "warning"}) ==
        std::vector<std::string>{log.lines[1], log.lines[2]});
  CHECK(log.grep({"--severity", "error"}) == std::vector<std::string>{log.lines[1]});
  CHECK(log.grep({"--role", "edge"}) == std::vector<std::string>{log.lines[2]});
  CHECK(log.grep({"--role", "origin"}) == std::vector<std::string>{log.lines[3]});
  // Code and role must hold for the same finding.
  CHECK(log.grep({"--code", "chain.incomplete", "--role", "origin"}).empty());
}

TEST_CASE("grep --since and --until take RFC 3339 and relative times", "[grep]") {
  GrepLog log;
  CHECK(log.grep({"--since", "2026-06-01T01:00:00Z"}).size() == 3);
  CHECK(log.grep({"--until", "2026-06-01T01:00:00.250Z"}).size() == 2);
  // --at is 04:00; 1h ago = 03:00.
  CHECK(log.grep({"--since", "1h"}) == std::vector<std::string>{log.lines[3]});
  CHECK(log.grep({"--since", "1d", "--until", "2h"}) ==
        std::vector<std::string>{log.lines[0], log.lines[1]});
  const auto bad = run_tlsprobe({"logs", "grep", "--since", "yesterday", log.path});
  CHECK(bad.exit_code == 64);
}

TEST_CASE("grep --format text prints one readable line per record", "[grep]") {
  GrepLog log;
  const auto lines = log.grep({"--format", "text", "--severity", "error"});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("2026-06-01T01:00:00.250Z api.example.org ", 0) == 0);
  CHECK(lines[0].find("error:chain.incomplete[direct]") != std::string::npos);
}

TEST_CASE("text output escapes control and bidi characters from certificates", "[grep]") {
  TempDir dir;
  auto evil = testpki::make_self_signed(
      spec("evil\x1b[2J\xe2\x80\xae"
           "moc.example",
           {"evil.example"}, testpki::fixed_now() - std::chrono::days(30),
           testpki::fixed_now() + std::chrono::days(365), "tlsprobe test"));
  auto f = tunnel_facts("evil.example", {evil.cert});
  f.findings.push_back(
      finding(inspect::codes::cert_self_signed, inspect::Severity::error, "evil\x07"));
  write_lines(dir.file("c.jsonl"), {line_of(f)});
  const auto result = run_tlsprobe({"logs", "grep", "--format", "text", dir.file("c.jsonl")});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find('\x1b') == std::string::npos);
  CHECK(result.out.find("\xe2\x80\xae") == std::string::npos);
  const auto summary = run_tlsprobe({"logs", "summary", dir.file("c.jsonl")});
  REQUIRE(summary.exit_code == 0);
  CHECK(summary.out.find('\x1b') == std::string::npos);
  CHECK(summary.out.find('\x07') == std::string::npos);
  CHECK(summary.out.find("\xe2\x80\xae") == std::string::npos);
}

TEST_CASE("time arguments parse RFC 3339 and durations", "[grep]") {
  using logs::parse_rfc3339_ms;
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:01Z") == 1000);
  CHECK(parse_rfc3339_ms("1970-01-01T01:00:00.5+01:00") == 500);
  CHECK(parse_rfc3339_ms("1970-01-02") == logs::ms_per_day);
  CHECK_FALSE(parse_rfc3339_ms("1970-01-01T00:00:00"));
  CHECK_FALSE(parse_rfc3339_ms("garbage"));
  CHECK(logs::parse_time_arg("2h", 10'000'000) == 10'000'000 - 7'200'000);
  CHECK(logs::parse_time_arg("7d", 0) == -7 * logs::ms_per_day);
  CHECK_FALSE(logs::parse_time_arg("7x", 0));
  CHECK_FALSE(logs::parse_time_arg("h", 0));
}

TEST_CASE("grep exits 1 when nothing matched, like grep", "[grep]") {
  GrepLog log;
  const auto none = run_tlsprobe({"logs", "grep", "--code", "no.such.code", log.path});
  CHECK(none.exit_code == 1);
  CHECK(none.out.empty());
  CHECK(none.err.empty());
  const auto some = run_tlsprobe({"logs", "grep", "--code", "chain.*", log.path});
  CHECK(some.exit_code == 0);
}
