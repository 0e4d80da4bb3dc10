// HTTP findings never quote a URL's query or fragment unless keep_query (issue 12 item 8):
// the page URL, a redirect's Location and mixed-content subresources all lose them, in the
// evidence, the message and the browser equivalents alike.
#include "inspect/check_http.hpp"

#include "inspect/codes.hpp"
#include "inspect/diagnose_helpers.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::inspect;
using diagtest::find;

namespace {

// Every string a finding carries, joined: what a log line or a stderr announcement can show.
std::string all_text(const Findings& fs) {
  std::string out;
  for (const auto& f : fs) {
    out += f.subject + "\n" + f.message + "\n" + f.remedy + "\n";
    for (const auto& [k, v] : f.evidence) out += k + "=" + v + "\n";
    for (const auto& [k, v] : f.equivalents) out += k + "=" + v + "\n";
  }
  return out;
}

HttpExchange mixed_page() {
  HttpExchange ex;
  ex.https = true;
  ex.host = "shop.test";
  ex.path = "/account?session=SECRET1#frag";
  ex.status = 200;
  ex.response_headers = {{"Content-Type", "text/html"}};  // no HSTS: http.hsts_missing too
  ex.body = "<img src=\"http://cdn.test/pixel.gif?uid=SECRET2\">";
  return ex;
}

HttpExchange plain_redirect() {
  HttpExchange ex;
  ex.https = false;
  ex.host = "shop.test";
  ex.path = "/login?code=SECRET3";
  ex.status = 302;
  ex.response_headers = {{"Location", "https://shop.test/callback?token=SECRET4"}};
  return ex;
}

}  // namespace

TEST_CASE("http findings drop URL queries by default", "[http][privacy]") {
  const HttpCheckOptions o;
  const auto page = check_http(mixed_page(), o);
  REQUIRE(find(page, codes::http_mixed_content));
  REQUIRE(find(page, codes::http_hsts_missing));
  CHECK(find(page, codes::http_mixed_content)->evidence.at("url") == "https://shop.test/account");
  CHECK(find(page, codes::http_mixed_content)->evidence.at("resources") ==
        "http://cdn.test/pixel.gif");
  CHECK(all_text(page).find("SECRET") == std::string::npos);

  const auto redirect = check_http(plain_redirect(), o);
  const auto* f = find(redirect, codes::http_redirect_not_permanent);
  REQUIRE(f);
  CHECK(f->evidence.at("url") == "http://shop.test/login");
  CHECK(f->evidence.at("location") == "https://shop.test/callback");
  CHECK(all_text(redirect).find("SECRET") == std::string::npos);

  auto other = plain_redirect();  // a redirect elsewhere: http.no_https_redirect's message
  other.response_headers = {{"Location", "http://shop.test/next?token=SECRET5"}};
  const auto moved = check_http(other, o);
  REQUIRE(find(moved, codes::http_no_https_redirect));
  CHECK(all_text(moved).find("SECRET") == std::string::npos);
}

TEST_CASE("keep_query keeps URLs as seen", "[http][privacy]") {
  HttpCheckOptions o;
  o.keep_query = true;
  const auto page = check_http(mixed_page(), o);
  CHECK(find(page, codes::http_mixed_content)->evidence.at("url") ==
        "https://shop.test/account?session=SECRET1#frag");
  CHECK(find(page, codes::http_mixed_content)->evidence.at("resources") ==
        "http://cdn.test/pixel.gif?uid=SECRET2");
  const auto redirect = check_http(plain_redirect(), o);
  CHECK(find(redirect, codes::http_redirect_not_permanent)->evidence.at("location") ==
        "https://shop.test/callback?token=SECRET4");
}
