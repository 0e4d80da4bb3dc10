// The record fragments memo (proxy/observe/fragment_memo.hpp) and the lines that write its
// texts (connection_record_line): every line must equal the text written without the memo
// (line_of checks it), whether its certificates and findings were built or memoised.
#include "proxy/observe/fragment_memo.hpp"
#include "log_fixtures.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::logtest;
namespace json = boost::json;

namespace {

proxy::FragmentMemo::Text text_of(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

const json::array& findings_in(const json::object& record) {
  return record.at("tlsprobe").as_object().at("findings").as_array();
}

}  // namespace

TEST_CASE("the fragment memo gives back what was put and starts over past its bound",
          "[log_record][fragment_memo]") {
  proxy::FragmentMemo memo(100);
  CHECK(memo.find("a") == nullptr);
  memo.put("a", text_of("{\"x\":1}"));
  REQUIRE(memo.find("a") != nullptr);
  CHECK(*memo.find("a") == "{\"x\":1}");
  CHECK(memo.bytes() == 8);
  memo.put("a", text_of("ignored: the first text stays"));
  CHECK(*memo.find("a") == "{\"x\":1}");

  memo.put("b", text_of(std::string(80, 'b')));  // 8 + 81 bytes: fits
  CHECK(memo.size() == 2);
  memo.put("c", text_of(std::string(20, 'c')));  // past 100: everything else goes
  CHECK(memo.size() == 1);
  CHECK(memo.find("a") == nullptr);
  CHECK(*memo.find("c") == std::string(20, 'c'));

  memo.put("huge", text_of(std::string(200, 'h')));  // never fits: not kept at all
  CHECK(memo.find("huge") == nullptr);
  CHECK(memo.size() == 0);
  memo.put("null", nullptr);
  CHECK(memo.find("null") == nullptr);
}

TEST_CASE("a line whose certificates and findings come from the memo is the record's text",
          "[log_record][fragment_memo]") {
  const auto pki = testpki::make_hierarchy({"memo.example.com"});
  auto facts = tunnel_facts("memo.example.com", pki.fullchain());
  facts.findings.push_back(
      finding(inspect::codes::name_mismatch, inspect::Severity::error, "memo.example.com:443"));
  facts.findings.push_back(finding(inspect::codes::client_sni_host_mismatch,
                                   inspect::Severity::warning, "memo.example.com:443",
                                   inspect::Role::client));
  const std::string first = line_of(facts);  // builds and memoises
  const std::string again = line_of(facts);  // written from the memo
  CHECK(again == first);

  // Per-connection fields around the memoised parts still change.
  auto next = facts;
  next.client_port = 50999;
  const std::string other = line_of(next);
  CHECK(other != first);
  CHECK(other.find("50999") != std::string::npos);
  const json::object r = json::parse(other).as_object();
  CHECK(findings_in(r).size() == 2);
  CHECK(r.at("tlsprobe").as_object().at("chain").as_array().size() == pki.fullchain().size());
  CHECK(r.at("tls").as_object().at("server").as_object().contains("x509"));
}

TEST_CASE("findings that differ in any field get their own text", "[log_record][fragment_memo]") {
  const auto pki = testpki::make_hierarchy({"memo2.example.com"});
  auto base = tunnel_facts("memo2.example.com", pki.fullchain());
  auto f = finding(inspect::codes::name_mismatch, inspect::Severity::error, "memo2:443");

  std::vector<inspect::Finding> variants(7, f);
  variants[1].evidence["depth"] = "1";
  variants[2].severity = inspect::Severity::warning;
  variants[3].browser_shows = true;
  variants[4].equivalents["chrome"] = "net::ERR_CERT_COMMON_NAME_INVALID";
  // The same bytes split differently between two fields: no separator can be forged.
  variants[5].code = "ab";
  variants[5].subject = "c";
  variants[6].code = "a";
  variants[6].subject = "bc";
  std::vector<std::string> lines;
  for (const auto& v : variants) {
    auto facts = base;
    facts.findings = {v};
    lines.push_back(line_of(facts));
    lines.push_back(line_of(facts));  // from the text kept with the finding
    CHECK(lines[lines.size() - 1] == lines[lines.size() - 2]);
  }
  for (std::size_t i = 0; i < lines.size(); i += 2)
    for (std::size_t j = i + 2; j < lines.size(); j += 2) CHECK(lines[i] != lines[j]);
  const json::object r = json::parse(lines[2]).as_object();
  CHECK(findings_in(r)[0].at("evidence").at("depth").as_int64() == 1);
}

TEST_CASE("0xFF bytes in built and memoised parts are logged as U+FFFD",
          "[log_record][fragment_memo]") {
  // 0xFF never occurs in UTF-8: a certificate or finding field with that byte is made valid
  // UTF-8 (U+FFFD) before it reaches the line, whether the part is built or memoised.
  const auto pki = testpki::make_hierarchy({"marker.example.com"});
  auto facts = tunnel_facts(
      "\xFF"
      "0",
      pki.fullchain());
  facts.reason =
      "\"\xFF"
      "1\"";
  auto f = finding(inspect::codes::name_mismatch, inspect::Severity::error,
                   "\xFF"
                   "0");
  f.evidence
      ["\xFF"
       "1"] =
      "\xFF"
      "2";
  facts.findings = {f};
  for (int round = 0; round < 2; ++round) {
    const std::string line = line_of(facts);
    const json::object r = json::parse(line).as_object();  // strict: valid UTF-8 throughout
    CHECK(r.at("destination").at("domain").as_string() ==
          "\xEF\xBF\xBD"
          "0");
    CHECK(r.at("event").at("reason").as_string() ==
          "\"\xEF\xBF\xBD"
          "1\"");
    const auto& logged = findings_in(r)[0].as_object();
    CHECK(logged.at("subject").as_string() ==
          "\xEF\xBF\xBD"
          "0");
    CHECK(logged.at("evidence")
              .at("\xEF\xBF\xBD"
                  "1")
              .as_string() ==
          "\xEF\xBF\xBD"
          "2");
  }
}
