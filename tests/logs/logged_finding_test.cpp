// LoggedFinding and FindingList (proxy/observe/logged_finding.hpp): a record's findings are
// shared, read like a vector of findings, and a finding's JSON text is built once.
#include "proxy/observe/logged_finding.hpp"
#include "log_fixtures.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

using namespace tlsprobe;
using namespace tlsprobe::logtest;
using proxy::FindingList;
using proxy::LoggedFinding;

TEST_CASE("a finding list reads like a vector of findings", "[logged_finding]") {
  FindingList list = {
      finding(inspect::codes::cert_expired, inspect::Severity::error, "a:443"),
      finding(inspect::codes::chain_contains_root, inspect::Severity::info, "a:443")};
  list.push_back(finding(inspect::codes::cert_expiring_soon, inspect::Severity::warning, "b:443"));
  REQUIRE(list.size() == 3);
  CHECK(list.front().code == inspect::codes::cert_expired);
  CHECK(list[1].code == inspect::codes::chain_contains_root);
  CHECK(list.back().subject == "b:443");
  std::vector<std::string> codes;
  for (const auto& f : list) codes.push_back(f.code);
  REQUIRE(codes.size() == 3);
  CHECK(codes[0] == inspect::codes::cert_expired);
  CHECK(codes[1] == inspect::codes::chain_contains_root);
  CHECK(codes[2] == inspect::codes::cert_expiring_soon);
  CHECK(std::distance(list.begin(), list.end()) == 3);
  CHECK(list.copy().size() == 3);

  // Worst first, stable: the warning moves before the info, the error stays first.
  proxy::sort_by_severity(list);
  CHECK(list[0].code == inspect::codes::cert_expired);
  CHECK(list[1].code == inspect::codes::cert_expiring_soon);
  CHECK(list[2].code == inspect::codes::chain_contains_root);

  // A copy of the list shares its findings.
  const FindingList copy = list;
  CHECK(copy.refs()[0] == list.refs()[0]);
}

TEST_CASE("a logged finding's text is built once, whoever asks", "[logged_finding]") {
  const LoggedFinding f(finding(inspect::codes::name_mismatch, inspect::Severity::error, "a:443"));
  std::atomic<int> built{0};
  const auto build = [&built](const inspect::Finding& x) {
    ++built;
    return "{\"code\":\"" + x.code + "\"}";
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) CHECK(f.json(build) == "{\"code\":\"name.mismatch\"}");
    });
  for (auto& t : threads) t.join();
  CHECK(built == 1);
}

TEST_CASE("the de-duplication key: code, subject and evidence; hsts_missing per header value",
          "[logged_finding]") {
  auto a = finding(inspect::codes::chain_incomplete, inspect::Severity::error, "a:443");
  a.evidence["depth"] = "1";
  auto b = a;
  b.message = "reworded";  // not part of the key
  CHECK(proxy::finding_dedup_key(a) == proxy::finding_dedup_key(b));
  b.evidence["depth"] = "2";
  CHECK(proxy::finding_dedup_key(a) != proxy::finding_dedup_key(b));

  auto h1 = finding(inspect::codes::http_hsts_missing, inspect::Severity::warning, "a");
  h1.evidence = {{"url", "/1"}, {"hsts", ""}};
  auto h2 = h1;
  h2.evidence["url"] = "/2";
  CHECK(proxy::finding_dedup_key(h1) == proxy::finding_dedup_key(h2));
  CHECK(LoggedFinding(h1).dedup_key() == proxy::finding_dedup_key(h1));
}
