// Every code diagnose() can emit has a message, a remedy and the four client equivalents.
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::inspect;

TEST_CASE("every probe-visible code has text, a remedy and four equivalents", "[remedies]") {
  for (auto code : codes::all) {
    if (code.rfind("http.", 0) == 0) continue;  // check_http.cpp explains its own codes
    INFO(code);
    Finding f;
    f.code = std::string(code);
    f.subject = "www.example.test:443";
    detail::explain(f);
    CHECK(!f.message.empty());
    CHECK(!f.remedy.empty());
    for (auto key : {"openssl", "chrome", "firefox", "curl"}) {
      INFO(key);
      CHECK(f.equivalents.count(key) == 1);
    }
  }
}

TEST_CASE("placeholders are filled from evidence; variants override the base row", "[remedies]") {
  Finding f;
  f.code = "chain.incomplete";
  f.evidence["aia_url"] = "http://ca.example.test/i.crt";
  f.evidence["missing_issuer"] = "CN=Issuing CA";
  f.evidence["certificate"] = "CN=www.example.test";
  detail::explain(f);
  CHECK(f.remedy.find("http://ca.example.test/i.crt") != std::string::npos);
  CHECK(f.message.find('{') == std::string::npos);

  Finding g;
  g.code = "name.mismatch";
  g.evidence["requested_name"] = "192.0.2.1";
  detail::explain(g, "ip_address");
  CHECK(g.equivalents.at("openssl").rfind("64 ", 0) == 0);
  CHECK(g.equivalents.at("chrome") == "net::ERR_CERT_COMMON_NAME_INVALID");  // from the base row
}

TEST_CASE("a huge evidence value is cut in the sentence, kept whole in the evidence",
          "[remedies]") {
  Finding f;
  f.code = "chain.verify_failed";
  f.evidence["certificate"] = "CN=" + std::string(30000, 'a');
  f.evidence["openssl_text"] = "unspecified certificate verification error";
  detail::explain(f);
  CHECK(f.message.size() < 3000);
  CHECK(f.message.find("more bytes)") != std::string::npos);
  CHECK(f.evidence.at("certificate").size() == 30003);
}
