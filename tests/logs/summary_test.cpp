// `tlsprobe logs summary`: per-host aggregation in-process and through the binary, on plain,
// rotated, gzip and damaged logs.
#include "logs/summary.hpp"
#include "log_fixtures.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <sstream>

using namespace tlsprobe;
using namespace tlsprobe::logtest;
namespace json = boost::json;
using testsupport::run_tlsprobe;

namespace {

// A log with three hosts: a healthy one, one renewed half-way (two leaves), one broken.
struct SampleLog {
  testpki::Hierarchy good = testpki::make_hierarchy({"good.example.com"});
  testpki::Hierarchy renewed_old = testpki::make_hierarchy({"renew.example.com"});
  testpki::Issued renewed_new = testpki::issue(
      renewed_old.intermediate,
      spec("renew.example.com", {"renew.example.com"}, testpki::fixed_now() - std::chrono::days(1),
           testpki::fixed_now() + std::chrono::days(89), "tlsprobe test"));
  testpki::Issued broken = testpki::make_self_signed(spec(
      "broken.example.com", {"broken.example.com"}, testpki::fixed_now() - std::chrono::days(400),
      testpki::fixed_now() - std::chrono::days(5), "tlsprobe test"));

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (int i = 0; i < 3; ++i)
      out.push_back(line_of(tunnel_facts("good.example.com", good.fullchain(), i * 60s)));
    out.push_back(line_of(tunnel_facts("renew.example.com", renewed_old.fullchain(), -3600s)));
    out.push_back(line_of(tunnel_facts("renew.example.com", renewed_old.fullchain(), -1800s)));
    out.push_back(line_of(tunnel_facts("renew.example.com",
                                       {renewed_new.cert, renewed_old.intermediate.cert}, 600s)));
    for (int i = 0; i < 2; ++i) {
      auto f = tunnel_facts("broken.example.com", {broken.cert}, i * 3600s);
      f.findings.push_back(
          finding(inspect::codes::cert_self_signed, inspect::Severity::error, "broken:443"));
      f.findings.push_back(
          finding(inspect::codes::cert_expired, inspect::Severity::error, "broken:443"));
      out.push_back(line_of(f));
    }
    return out;
  }
};

json::array summary_json(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"logs", "summary", "--format", "json", "--at", at_arg()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = run_tlsprobe(argv);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out).as_array();
}

const json::object& host(const json::array& hosts, std::string_view name) {
  for (const auto& h : hosts)
    if (h.at("host").as_string() == name) return h.as_object();
  FAIL("host not in summary: " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("summary counts connections per host and orders the broken first", "[summary]") {
  SampleLog sample;
  TempDir dir;
  write_lines(dir.file("connections.jsonl"), sample.lines());
  const auto hosts = summary_json({dir.file("connections.jsonl")});
  REQUIRE(hosts.size() == 3);
  CHECK(hosts[0].at("host").as_string() == "broken.example.com");
  CHECK(hosts[0].at("status").as_string() == "error");
  CHECK(host(hosts, "good.example.com").at("connections").to_number<int>() == 3);
  CHECK(host(hosts, "good.example.com").at("status").as_string() == "ok");
  CHECK(host(hosts, "good.example.com").at("first_seen").as_string() == "2026-06-01T00:00:00Z");
  CHECK(host(hosts, "good.example.com").at("last_seen").as_string() == "2026-06-01T00:02:00Z");
  const auto& broken = host(hosts, "broken.example.com");
  CHECK(broken.at("connections").to_number<int>() == 2);
  CHECK(broken.at("failures").to_number<int>() == 2);
  CHECK(broken.at("current_leaf").at("days_left").to_number<int>() == -5);
  const auto& findings = broken.at("findings").as_array();
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].at("code").as_string() == "cert.self_signed");
  CHECK(findings[0].at("count").to_number<int>() == 2);
  CHECK(findings[0].at("first_seen").as_string() == "2026-06-01T00:00:00Z");
  CHECK(findings[0].at("last_seen").as_string() == "2026-06-01T01:00:00Z");
  CHECK(findings[0].at("remedy").as_string() == "remedy for cert.self_signed");
}

TEST_CASE("summary shows both leaves when a host's certificate changed", "[summary]") {
  SampleLog sample;
  TempDir dir;
  write_lines(dir.file("c.jsonl"), sample.lines());
  const auto hosts = summary_json({dir.file("c.jsonl")});
  const auto& renew = host(hosts, "renew.example.com");
  const auto& leaves = renew.at("leaves").as_array();
  REQUIRE(leaves.size() == 2);
  CHECK(leaves[0].at("sha256").as_string() == sample.renewed_old.leaf.cert.sha256_hex());
  CHECK(leaves[0].at("count").to_number<int>() == 2);
  CHECK(leaves[1].at("sha256").as_string() == sample.renewed_new.cert.sha256_hex());
  CHECK(renew.at("current_leaf").at("sha256").as_string() == sample.renewed_new.cert.sha256_hex());
  CHECK(renew.at("current_leaf").at("days_left").to_number<int>() == 89);
  CHECK(renew.at("chain").as_array().size() == 2);

  // The text form names both fingerprints' prefixes.
  const auto text = run_tlsprobe({"logs", "summary", "--at", at_arg(), dir.file("c.jsonl")});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find(sample.renewed_old.leaf.cert.sha256_hex().substr(0, 8)) != std::string::npos);
  CHECK(text.out.find(sample.renewed_new.cert.sha256_hex().substr(0, 8)) != std::string::npos);
  CHECK(text.out.find("2 distinct") != std::string::npos);
}

TEST_CASE("summary reads rotated, gzip and stdin input together", "[summary]") {
  SampleLog sample;
  TempDir dir;
  const auto lines = sample.lines();
  const std::vector<std::string> first(lines.begin(), lines.begin() + 3);
  const std::vector<std::string> second(lines.begin() + 3, lines.begin() + 6);
  const std::vector<std::string> third(lines.begin() + 6, lines.end());
  write_gzip(dir.file("connections.2.jsonl.gz"), first);
  write_lines(dir.file("connections.1.jsonl"), second);
  write_lines(dir.file("connections.jsonl"), third);
  const auto hosts = summary_json({dir.file("connections.2.jsonl.gz"),
                                   dir.file("connections.1.jsonl"), dir.file("connections.jsonl")});
  REQUIRE(hosts.size() == 3);
  CHECK(host(hosts, "good.example.com").at("connections").to_number<int>() == 3);
  CHECK(host(hosts, "renew.example.com").at("connections").to_number<int>() == 3);

  // stdin
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  const auto result = testsupport::run_process(
      {testsupport::tlsprobe_binary(), "logs", "summary", "--format", "json", "-"},
      std::chrono::seconds(30), all);
  REQUIRE(result.exit_code == 0);
  CHECK(json::parse(result.out).as_array().size() == 3);
}

TEST_CASE("corrupt and truncated lines are skipped and counted", "[summary]") {
  SampleLog sample;
  TempDir dir;
  auto lines = sample.lines();
  lines.insert(lines.begin() + 2, "this is not json");
  lines.insert(lines.begin() + 4, "[1,2,3]");
  lines.insert(lines.begin() + 5, "");  // blank: neither a record nor corruption
  // A crash mid-write: the last line is cut.
  lines.push_back(lines[0].substr(0, lines[0].size() / 2));
  write_lines(dir.file("c.jsonl"), lines, false, /*final_newline=*/false);
  const auto result =
      run_tlsprobe({"logs", "summary", "--format", "json", "--at", at_arg(), dir.file("c.jsonl")});
  REQUIRE(result.exit_code == 0);
  CHECK(json::parse(result.out).as_array().size() == 3);
  CHECK(result.err.find("3 corrupt lines skipped") != std::string::npos);

  logs::Summarizer summary;
  logs::ScanStats stats;
  std::string error;
  REQUIRE(logs::summarize_files({dir.file("c.jsonl")}, summary, stats, error));
  CHECK(stats.records == 8);
  CHECK(stats.corrupt == 3);
  CHECK(stats.unterminated == 1);
}

TEST_CASE("records from older versions with missing fields are summarized", "[summary]") {
  TempDir dir;
  write_lines(dir.file("old.jsonl"),
              {R"({"@timestamp":"2026-05-01T10:00:00Z","destination":{"address":"10.0.0.1"}})",
               R"({"destination":{"domain":"old.example.com","port":8443},"tlsprobe":{"chain":)"
               R"([{"subject":"CN=old","sha256":"AB","not_after":"2026-06-11T00:00:00Z"}]}})",
               R"({"tlsprobe":{"findings":[{"code":"x.y"}, 5, null]}})", R"({})"});
  const auto hosts = summary_json({dir.file("old.jsonl")});
  REQUIRE(hosts.size() == 3);
  const auto& old = host(hosts, "old.example.com:8443");
  CHECK(old.at("current_leaf").at("subject").as_string() == "CN=old");
  CHECK(old.at("current_leaf").at("days_left").to_number<int>() == 10);
  CHECK(host(hosts, "10.0.0.1").at("connections").to_number<int>() == 1);
  CHECK(host(hosts, "(unknown)").at("connections").to_number<int>() == 2);
}

TEST_CASE("summary csv has a header and one row per host", "[summary]") {
  SampleLog sample;
  TempDir dir;
  write_lines(dir.file("c.jsonl"), sample.lines());
  const auto result =
      run_tlsprobe({"logs", "summary", "--format", "csv", "--at", at_arg(), dir.file("c.jsonl")});
  REQUIRE(result.exit_code == 0);
  std::istringstream in(result.out);
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].rfind("host,status,connections,failures,", 0) == 0);
  CHECK(rows[1].rfind("broken.example.com,error,2,2,", 0) == 0);
}

TEST_CASE("unreadable input exits 64 naming the file", "[summary]") {
  TempDir dir;
  const auto missing = dir.file("nope.jsonl");
  const auto result = run_tlsprobe({"logs", "summary", missing});
  CHECK(result.exit_code == 64);
  CHECK(result.err.find(missing) != std::string::npos);
  CHECK(result.out.empty());
  CHECK(run_tlsprobe({"logs", "summary"}).exit_code == 64);
  CHECK(run_tlsprobe({"logs", "frobnicate", "x"}).exit_code == 64);
  CHECK(run_tlsprobe({"logs", "summary", "--format", "xml", "x"}).exit_code == 64);
}

TEST_CASE("distinct leaves per host are bounded", "[summary]") {
  logs::Summarizer summary;
  logs::RecordParser parser;
  logs::RecordView record;
  for (int i = 0; i < 100; ++i) {
    const std::string line =
        "{\"@timestamp\":\"2026-05-01T00:00:" + std::string(i < 10 ? "0" : "") +
        std::to_string(i % 60) + "Z\",\"destination\":{\"domain\":\"cdn\"}," +
        "\"tls\":{\"server\":{\"hash\":{\"sha256\":\"" + std::to_string(i) +
        "\"}}},\"tlsprobe\":{\"findings\":[{\"code\":\"c" + std::to_string(i) +
        "\",\"severity\":\"info\"}]}}";
    REQUIRE(parser.parse(line, record));
    summary.add(record);
  }
  const auto hosts = summary.sorted(0);
  REQUIRE(hosts.size() == 1);
  CHECK(hosts[0]->leaves.size() == logs::HostSummary::max_leaves);
  CHECK(hosts[0]->leaves.size() + hosts[0]->leaves_dropped == 100);
  CHECK(hosts[0]->findings.size() == logs::HostSummary::max_findings);
  CHECK(hosts[0]->findings_dropped == 100 - logs::HostSummary::max_findings);
}

namespace {

// One record line for `host` at minute `minute`, with `outcome` and optional findings.
std::string record_line(const std::string& host, int minute, std::string_view outcome,
                        std::string_view findings_json = "[]") {
  char ts[32];
  std::snprintf(ts, sizeof ts, "2026-05-01T%02d:%02d:00Z", (minute / 60) % 24, minute % 60);
  return std::string("{\"@timestamp\":\"") + ts + "\",\"destination\":{\"domain\":\"" + host +
         "\"},\"event\":{\"outcome\":\"" + std::string(outcome) +
         "\"},\"tlsprobe\":{\"findings\":" + std::string(findings_json) + "}}";
}

}  // namespace

TEST_CASE("a host's badge is its worst outcome or finding, never ok above a bad row", "[summary]") {
  TempDir dir;
  write_lines(
      dir.file("c.jsonl"),
      {// every connection failed, no finding at all
       record_line("down.example", 1, "failure"), record_line("down.example", 2, "failure"),
       // a warning in an earlier record, a clean latest record
       record_line("warned.example", 1, "success",
                   R"([{"code":"http.hsts_missing","severity":"warning"}])"),
       record_line("warned.example", 5, "success"),
       // one failure among successes
       record_line("flaky.example", 1, "success"), record_line("flaky.example", 2, "failure"),
       record_line("fine.example", 1, "success")});
  const auto hosts = summary_json({dir.file("c.jsonl")});
  CHECK(host(hosts, "down.example").at("status").as_string() == "error");
  CHECK(host(hosts, "warned.example").at("status").as_string() == "warning");
  CHECK(host(hosts, "flaky.example").at("status").as_string() == "warning");
  CHECK(host(hosts, "fine.example").at("status").as_string() == "ok");
  const auto text = run_tlsprobe({"logs", "summary", "--at", at_arg(), dir.file("c.jsonl")});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("ERROR    down.example") != std::string::npos);
  CHECK(text.out.find("WARNING  warned.example") != std::string::npos);
}

TEST_CASE("summary memory is bounded by --top; the rest is one (others) row", "[summary]") {
  // 20,000 hosts, one of them broken and seen first: the eviction must never fold it away.
  constexpr int host_total = 20000;
  constexpr std::size_t top = 50;
  logs::Summarizer summary(top);
  logs::RecordParser parser;
  logs::RecordView record;
  std::size_t most_kept = 0;
  for (int i = 0; i < host_total; ++i) {
    const std::string line =
        i == 0 ? record_line("broken.example", 0, "success",
                             R"([{"code":"cert.expired","severity":"error"}])")
               : record_line("h" + std::to_string(i) + ".example", i % 1440, "success");
    REQUIRE(parser.parse(line, record));
    summary.add(record);
    most_kept = std::max(most_kept, summary.host_count());
  }
  CHECK(most_kept <= 2 * top);
  const auto hosts = summary.sorted(0);
  REQUIRE(hosts.size() == top);
  CHECK(hosts[0]->host == "broken.example");
  const auto& others = summary.others();
  CHECK(others.hosts + hosts.size() == host_total);
  std::uint64_t connections = others.connections;
  for (const auto* h : hosts) connections += h->connections;
  CHECK(connections == host_total);
  CHECK(others.worst == -1);  // only ok hosts were folded

  TempDir dir;
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i) lines.push_back(record_line("h" + std::to_string(i), i, "success"));
  lines.push_back(record_line("bad", 40, "failure"));
  write_lines(dir.file("c.jsonl"), lines);
  const auto capped = summary_json({"--top", "5", dir.file("c.jsonl")});
  REQUIRE(capped.size() == 6);
  CHECK(capped[0].at("host").as_string() == "bad");
  CHECK(capped[5].at("host").as_string() == "(others)");
  CHECK(capped[5].at("hosts").to_number<int>() == 26);
  CHECK(capped[5].at("connections").to_number<int>() == 26);
  const auto text =
      run_tlsprobe({"logs", "summary", "--top", "5", "--at", at_arg(), dir.file("c.jsonl")});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.rfind("31 hosts, 31 connections", 0) == 0);
  CHECK(text.out.find("(others)  26 more hosts not listed (--top): 26 connections; 26 ok") !=
        std::string::npos);
}
