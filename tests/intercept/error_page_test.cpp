// Pure tests of the explain page, the intercept policy and the streaming HTTP inspector.
#include "proxy/http/error_page.hpp"
#include "pki/test_pki.hpp"
#include "proxy/http/http_inspector.hpp"
#include "proxy/session/intercept_policy.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using proxy::render_error_page;

namespace {

inspect::Finding finding(std::string code, inspect::Severity sev = inspect::Severity::error) {
  inspect::Finding f;
  f.code = std::move(code);
  f.severity = sev;
  f.message = "the message";
  f.remedy = "the remedy";
  return f;
}

}  // namespace

TEST_CASE("error page: status 502, plain text for non-browsers, every finding and the leaf") {
  auto leaf = testpki::make_self_signed({.common_name = "bad.test", .dns_names = {"bad.test"}});
  const inspect::Findings fs = {finding("cert.self_signed"),
                                finding("cert.expiring_soon", inspect::Severity::warning)};
  const auto page = render_error_page(fs, false, "bad.test", &leaf.cert);
  CHECK(page.status == 502);
  CHECK(page.content_type.rfind("text/plain", 0) == 0);
  CHECK(page.body.find("cert.self_signed") != std::string::npos);
  CHECK(page.body.find("cert.expiring_soon") != std::string::npos);
  CHECK(page.body.find("the remedy") != std::string::npos);
  CHECK(page.body.find(certs::format_rfc3339(leaf.cert.not_after())) != std::string::npos);
  CHECK(page.body.find(leaf.cert.sha256_hex()) != std::string::npos);
}

TEST_CASE("error page: HTML escapes certificate and finding strings") {
  auto leaf = testpki::make_self_signed(
      {.common_name = "<script>alert(1)</script>", .dns_names = {"x.test"}});
  auto f = finding("name.mismatch");
  f.evidence["requested_name"] = "<img src=x onerror=alert(1)>";
  f.evidence["names"] = "<b>\"quoted\"</b>";
  f.message = "a <i>message</i> & more";
  const auto page = render_error_page({f}, true, "<evil>.test", &leaf.cert);
  CHECK(page.content_type.rfind("text/html", 0) == 0);
  CHECK(page.body.find("<script>alert") == std::string::npos);
  CHECK(page.body.find("<b>\"quoted") == std::string::npos);
  CHECK(page.body.find("<i>message") == std::string::npos);
  CHECK(page.body.find("<evil>") == std::string::npos);
  CHECK(page.body.find("&lt;img src=x") != std::string::npos);
  CHECK(page.body.find("name.mismatch") != std::string::npos);
}

TEST_CASE("error page: no leaf (handshake failure) and no findings still render") {
  const auto page = render_error_page({}, true, "down.test", nullptr);
  CHECK(page.status == 502);
  CHECK(page.body.find("down.test") != std::string::npos);
}

TEST_CASE("accepts_html") {
  CHECK(proxy::accepts_html("text/html,application/xhtml+xml,*/*;q=0.8"));
  CHECK(proxy::accepts_html("application/xhtml+xml"));
  CHECK(proxy::accepts_html("TEXT/HTML; q=0.5"));
  CHECK_FALSE(proxy::accepts_html("*/*"));
  CHECK_FALSE(proxy::accepts_html(""));
  CHECK_FALSE(proxy::accepts_html("application/json"));
  CHECK_FALSE(proxy::accepts_html("text/html;q=0"));
}

TEST_CASE("html_escape") { CHECK(proxy::html_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;"); }

TEST_CASE("host globs: case-insensitive, * spans labels, ? one character") {
  using proxy::host_glob_match;
  CHECK(host_glob_match("*.bank.test", "www.bank.test"));
  CHECK(host_glob_match("*.bank.test", "a.b.bank.test"));
  CHECK_FALSE(host_glob_match("*.bank.test", "bank.test"));
  CHECK(host_glob_match("bank.test", "BANK.test"));
  CHECK(host_glob_match("api?.test", "api1.test"));
  CHECK_FALSE(host_glob_match("api?.test", "api12.test"));
  CHECK(host_glob_match("*", "anything"));
  CHECK_FALSE(host_glob_match("", "x"));
  // Pathological pattern stays linear.
  CHECK_FALSE(host_glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST_CASE("intercept policy: no_intercept, pinned memory and its bound") {
  proxy::InterceptPolicy p({"*.bank.test", "Pinned.Example."}, 2);
  const std::string a = "127.0.0.1";
  CHECK(p.decide(a, "www.bank.test") == proxy::InterceptDecision::no_intercept);
  CHECK(p.decide(a, "pinned.example") == proxy::InterceptDecision::no_intercept);
  CHECK(p.decide(a, "shop.test") == proxy::InterceptDecision::intercept);
  CHECK(p.mark_pinned(a, "Shop.Test."));
  CHECK_FALSE(p.mark_pinned(a, "shop.test"));
  CHECK(p.decide(a, "shop.test") == proxy::InterceptDecision::pinned);
  CHECK(p.mark_pinned(a, "b.test"));
  CHECK_FALSE(p.mark_pinned(a, "c.test"));  // full
  CHECK(p.decide(a, "c.test") == proxy::InterceptDecision::intercept);
  CHECK(p.pinned_count() == 2);
}

TEST_CASE("http inspector: keeps only html bodies, bounded, and runs check_http") {
  proxy::HttpInspector insp(proxy::Scheme::https, 64);
  boost::beast::http::fields h;
  h.set("Content-Type", "text/html; charset=utf-8");
  insp.request("GET", "shop.test", "/");
  insp.response(200, h);
  CHECK(insp.wants_body());
  const std::string page = "<html><script src=\"http://cdn.test/a.js\"></script></html>";
  insp.body(page.data(), page.size());
  auto fs = insp.finish();
  bool mixed = false, hsts = false;
  for (const auto& f : fs) {
    mixed = mixed || f.code == "http.mixed_content";
    hsts = hsts || f.code == "http.hsts_missing";
  }
  CHECK(mixed);
  CHECK(hsts);

  boost::beast::http::fields img;
  img.set("Content-Type", "image/png");
  img.set("Strict-Transport-Security", "max-age=31536000");
  insp.request("GET", "shop.test", "/a.png");
  insp.response(200, img);
  CHECK_FALSE(insp.wants_body());
  CHECK(insp.finish().empty());

  insp.request("GET", "shop.test", "/big");
  insp.response(200, h);
  const std::string big(1000, 'x');
  insp.body(big.data(), big.size());
  CHECK(insp.exchange().body.size() == 64);
  CHECK(insp.exchange().body_truncated);
  CHECK_FALSE(insp.wants_body());
}
