// is_page_load: which plain-HTTP exchanges forward mode hands to the redirect checks.
#include "proxy/http/page_load.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using proxy::is_page_load;

namespace {

inspect::HttpExchange exchange(std::string method, int status,
                               std::vector<std::pair<std::string, std::string>> headers) {
  inspect::HttpExchange ex;
  ex.method = std::move(method);
  ex.host = "shop.test";
  ex.status = status;
  ex.response_headers = std::move(headers);
  return ex;
}

}  // namespace

TEST_CASE("page load: a GET answered with an HTML page is one", "[page_load]") {
  CHECK(is_page_load(exchange("GET", 200, {{"Content-Type", "text/html; charset=utf-8"}})));
  CHECK(is_page_load(exchange("GET", 200, {{"content-type", " Application/XHTML+XML "}})));
}

TEST_CASE("page load: subresources, API answers and other methods are not", "[page_load]") {
  CHECK_FALSE(is_page_load(exchange("GET", 200, {{"Content-Type", "image/png"}})));
  CHECK_FALSE(is_page_load(exchange("GET", 200, {{"Content-Type", "application/json"}})));
  CHECK_FALSE(is_page_load(exchange("GET", 200, {})));  // no type: not known to be a page
  CHECK_FALSE(is_page_load(exchange("POST", 200, {{"Content-Type", "text/html"}})));
  CHECK_FALSE(is_page_load(exchange("HEAD", 200, {{"Content-Type", "text/html"}})));
}

TEST_CASE("page load: a redirect with a Location is one, whatever its body", "[page_load]") {
  CHECK(is_page_load(exchange("GET", 301, {{"Location", "https://shop.test/"}})));
  CHECK(is_page_load(
      exchange("GET", 302, {{"Location", "http://other.test/"}, {"Content-Type", "image/gif"}})));
  CHECK_FALSE(is_page_load(exchange("GET", 304, {})));  // revalidation
  CHECK_FALSE(is_page_load(exchange("GET", 300, {})));  // no Location: no answer
}

TEST_CASE("page load: errors and interim answers say nothing about HTTPS", "[page_load]") {
  CHECK_FALSE(is_page_load(exchange("GET", 404, {{"Content-Type", "text/html"}})));
  CHECK_FALSE(is_page_load(exchange("GET", 503, {{"Content-Type", "text/html"}})));
  CHECK_FALSE(is_page_load(exchange("GET", 0, {})));  // no response
}

TEST_CASE("html type: parameters, case and spaces aside", "[page_load]") {
  CHECK(proxy::is_html_type("text/html"));
  CHECK(proxy::is_html_type("TEXT/HTML;charset=utf-8"));
  CHECK_FALSE(proxy::is_html_type("text/plain"));
  CHECK_FALSE(proxy::is_html_type("text/htmlx"));
  CHECK_FALSE(proxy::is_html_type(""));
}
