#include "inspect/check_http.hpp"

#include "inspect/codes.hpp"
#include "inspect/diagnose_helpers.hpp"

#include <zlib.h>
#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe::inspect;
using diagtest::find;

namespace {

// Compresses with zlib: window_bits 31 = gzip, 15 = zlib ("deflate"), -15 = raw deflate.
std::string compress(std::string_view in, int window_bits) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

HttpExchange https_page(std::string body) {
  HttpExchange ex;
  ex.https = true;
  ex.host = "www.example.com";
  ex.path = "/shop";
  ex.status = 200;
  ex.response_headers = {{"Content-Type", "text/html; charset=utf-8"},
                         {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}};
  ex.body = std::move(body);
  return ex;
}

HttpExchange plain(int status, std::string location) {
  HttpExchange ex;
  ex.https = false;
  ex.host = "www.example.com";
  ex.path = "/";
  ex.status = status;
  if (!location.empty()) ex.response_headers.push_back({"Location", location});
  return ex;
}

const char* mixed_html =
    "<html><img src=\"http://cdn.example/a.png\"><script src=\"http://cdn.example/b.js\">"
    "</script><a href=\"http://other.example/\">link</a></html>";

}  // namespace

TEST_CASE("a healthy HTTPS page has no findings") {
  auto fs = check_http(https_page("<img src=\"/a.png\">"), {});
  CHECK(fs.empty());
}

TEST_CASE("http.mixed_content lists the insecure resources") {
  auto fs = check_http(https_page(mixed_html), {});
  const Finding* f = find(fs, codes::http_mixed_content);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(f->role == Role::direct);
  CHECK(f->subject == "www.example.com");
  CHECK(f->evidence.at("resources") == "http://cdn.example/a.png\nhttp://cdn.example/b.js");
  CHECK(f->evidence.at("count") == "2");
  CHECK(f->evidence.at("url") == "https://www.example.com/shop");
  CHECK_FALSE(f->remedy.empty());
  CHECK(f->equivalents.count("chrome") == 1);
  CHECK_FALSE(find(fs, codes::http_hsts_missing));
}

TEST_CASE("http.mixed_content reads gzip and both deflate forms") {
  for (int bits : {31, 15, -15}) {
    INFO("window bits " << bits);
    auto ex = https_page(compress(mixed_html, bits));
    ex.response_headers.push_back({"Content-Encoding", bits == 31 ? "gzip" : "deflate"});
    auto fs = check_http(ex, {});
    const Finding* f = find(fs, codes::http_mixed_content);
    REQUIRE(f);
    CHECK(f->evidence.at("count") == "2");
    CHECK(f->evidence.count("body_partial") == 0);
  }
}

TEST_CASE("mixed content is only looked for in HTML over HTTPS") {
  auto json = https_page(mixed_html);
  json.response_headers[0].second = "application/json";
  CHECK_FALSE(find(check_http(json, {}), codes::http_mixed_content));
  auto http = https_page(mixed_html);
  http.https = false;
  CHECK_FALSE(find(check_http(http, {}), codes::http_mixed_content));
  auto brotli = https_page(mixed_html);
  brotli.response_headers.push_back({"Content-Encoding", "br"});
  CHECK_FALSE(find(check_http(brotli, {}), codes::http_mixed_content));
}

TEST_CASE("decompression is bounded and survives corrupt or cut-off bodies") {
  // A zip bomb: 50 MB of zeros compresses to ~50 KB; decoding stops at the bound.
  std::string zeros(50 * 1024 * 1024, '\0');
  auto bomb = compress(zeros, 31);
  auto d = decode_body(bomb, "gzip", 1024 * 1024);
  REQUIRE(d);
  CHECK(d->text.size() == 1024 * 1024);
  CHECK(d->truncated);

  std::string page = std::string(100000, ' ') + mixed_html;
  auto gz = compress(page, 31);
  auto cut = decode_body(std::string_view(gz).substr(0, gz.size() / 2), "gzip", 1 << 21);
  REQUIRE(cut);
  CHECK(cut->corrupt);
  CHECK_FALSE(decode_body("not gzip at all", "gzip", 1 << 21)->text.size() > 0);
  CHECK(decode_body("plain", "identity", 100)->text == "plain");
  CHECK_FALSE(decode_body("x", "zstd", 100));

  auto ex = https_page(gz.substr(0, gz.size() - 10));  // trailer cut: content still scanned
  ex.body_truncated = true;
  ex.response_headers.push_back({"Content-Encoding", "gzip"});
  auto partial = check_http(ex, {});
  const Finding* f = find(partial, codes::http_mixed_content);
  REQUIRE(f);
  CHECK(f->evidence.at("body_partial") == "true");
}

TEST_CASE("http.hsts_missing on HTTPS responses without a usable HSTS header") {
  auto ex = https_page("<p>hi</p>");
  ex.response_headers.pop_back();
  auto fs = check_http(ex, {});
  const Finding* f = find(fs, codes::http_hsts_missing);
  REQUIRE(f);
  CHECK(f->severity == Severity::info);
  CHECK(f->role == Role::direct);
  CHECK(f->evidence.at("status") == "200");
  CHECK(f->remedy.find("Strict-Transport-Security") != std::string::npos);

  auto zero = https_page("");
  zero.response_headers[1].second = "max-age=0";
  auto zero_findings = check_http(zero, {});
  const Finding* z = find(zero_findings, codes::http_hsts_missing);
  REQUIRE(z);
  CHECK(z->evidence.at("hsts") == "max-age=0");

  // Redirects to another host are not exempt (see check_http.hpp).
  auto redirect = https_page("");
  redirect.status = 301;
  redirect.response_headers = {{"Location", "https://www.example.org/"}};
  CHECK(find(check_http(redirect, {}), codes::http_hsts_missing));

  auto lower = https_page("");
  lower.response_headers[1].first = "strict-transport-security";
  CHECK_FALSE(find(check_http(lower, {}), codes::http_hsts_missing));
}

TEST_CASE("a permanent redirect to https on the same host is healthy") {
  CHECK(check_http(plain(301, "https://www.example.com/"), {}).empty());
  CHECK(check_http(plain(308, "HTTPS://WWW.example.com:443/x"), {}).empty());
  auto with_port = plain(301, "https://www.example.com/");
  with_port.host = "www.example.com:80";
  CHECK(check_http(with_port, {}).empty());
}

TEST_CASE("http.no_https_redirect when plain HTTP is served or redirected elsewhere") {
  auto served = check_http(plain(200, ""), {});
  const Finding* f = find(served, codes::http_no_https_redirect);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(f->subject == "www.example.com");
  CHECK(f->evidence.at("status") == "200");
  CHECK(f->remedy.find("return 301 https://$host$request_uri;") != std::string::npos);

  auto slash = check_http(plain(301, "http://www.example.com/x/"), {});
  const Finding* to_http = find(slash, codes::http_no_https_redirect);
  REQUIRE(to_http);
  CHECK(to_http->evidence.at("location") == "http://www.example.com/x/");
  CHECK(find(check_http(plain(301, "https://evil.example/"), {}), codes::http_no_https_redirect));
  CHECK(find(check_http(plain(302, "/login"), {}), codes::http_no_https_redirect));
  CHECK(find(check_http(plain(404, ""), {}), codes::http_no_https_redirect));
  CHECK_FALSE(
      find(check_http(plain(301, "https://www.example.com/"), {}), codes::http_no_https_redirect));
}

TEST_CASE("http.redirect_not_permanent for 302, 303 and 307 to https") {
  for (int status : {302, 303, 307}) {
    INFO(status);
    auto fs = check_http(plain(status, "https://www.example.com/"), {});
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].code == codes::http_redirect_not_permanent);
    CHECK(fs[0].severity == Severity::info);
    CHECK(fs[0].evidence.at("status") == std::to_string(status));
    CHECK(fs[0].evidence.at("location") == "https://www.example.com/");
  }
}

TEST_CASE("no response means no HTTP findings") {
  HttpExchange ex;
  ex.host = "www.example.com";
  CHECK(check_http(ex, {}).empty());
}
