// http.mixed_content as browsers see it (issue 15 item 4): no finding for what browsers
// upgrade themselves (CSP upgrade-insecure-requests in a header or a meta in the head, HSTS
// hosts: the page's own, includeSubDomains parents, hosts seen earlier in the session), the
// rest classed as Chrome treats it, plain links never, and an HTTPS subresource that
// redirects to http:// caught. Each rule both ways.
#include "inspect/check_http.hpp"
#include "inspect/codes.hpp"
#include "inspect/diagnose_helpers.hpp"
#include "inspect/hsts_memory.hpp"
#include "inspect/html_scan.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::inspect;
using diagtest::ev;

namespace {

HttpExchange page(std::string body, std::vector<std::pair<std::string, std::string>> extra = {}) {
  HttpExchange ex;
  ex.https = true;
  ex.host = "shop.example.com";
  ex.path = "/";
  ex.status = 200;
  ex.response_headers = {{"Content-Type", "text/html"}};
  for (auto& h : extra) ex.response_headers.push_back(std::move(h));
  ex.body = std::move(body);
  return ex;
}

const Finding* mixed(const Findings& fs) {
  for (const auto& f : fs)
    if (f.code == codes::http_mixed_content) return &f;
  return nullptr;
}

const std::string kScript = "<script src=\"http://cdn.example.net/app.js\"></script>";
const std::string kImage = "<img src=\"http://cdn.example.net/logo.png\">";

}  // namespace

TEST_CASE("csp_upgrades_insecure_requests reads directives and policies", "[mixed_content][csp]") {
  CHECK(csp_upgrades_insecure_requests("upgrade-insecure-requests"));
  CHECK(csp_upgrades_insecure_requests("default-src 'self'; Upgrade-Insecure-Requests"));
  CHECK(csp_upgrades_insecure_requests("script-src 'self', upgrade-insecure-requests;"));
  CHECK(csp_upgrades_insecure_requests("  upgrade-insecure-requests  ; img-src *"));
  CHECK_FALSE(csp_upgrades_insecure_requests("default-src 'self'"));
  CHECK_FALSE(csp_upgrades_insecure_requests("block-all-mixed-content"));
  CHECK_FALSE(csp_upgrades_insecure_requests("upgrade-insecure-requests-x"));
  CHECK_FALSE(csp_upgrades_insecure_requests("report-uri /upgrade-insecure-requests"));
  CHECK_FALSE(csp_upgrades_insecure_requests(""));
}

TEST_CASE("CSP header upgrade-insecure-requests: no mixed content", "[mixed_content][csp]") {
  CHECK(mixed(check_http(page(kScript + kImage), {})) != nullptr);
  CHECK(mixed(check_http(
            page(kScript + kImage,
                 {{"Content-Security-Policy", "default-src https:; upgrade-insecure-requests"}}),
            {})) == nullptr);
  // Report-Only enforces nothing.
  CHECK(mixed(check_http(
            page(kScript, {{"Content-Security-Policy-Report-Only", "upgrade-insecure-requests"}}),
            {})) != nullptr);
  // A second CSP header counts too.
  CHECK(mixed(check_http(page(kScript, {{"Content-Security-Policy", "img-src *"},
                                        {"content-security-policy", "upgrade-insecure-requests"}}),
                         {})) == nullptr);
}

TEST_CASE("meta CSP upgrade-insecure-requests in the head upgrades what follows",
          "[mixed_content][csp]") {
  const std::string meta =
      "<meta http-equiv=\"Content-Security-Policy\" content=\"upgrade-insecure-requests\">";
  CHECK(mixed(check_http(page("<html><head>" + meta + "</head><body>" + kScript + kImage), {})) ==
        nullptr);
  // Case-insensitive http-equiv, single quotes.
  CHECK(mixed(check_http(page("<head><META HTTP-EQUIV='content-security-policy' "
                              "CONTENT='default-src https:; upgrade-insecure-requests'>" +
                              kScript),
                         {})) == nullptr);
  // A resource before the meta is fetched as written.
  const auto before = check_http(page("<head>" + kScript + meta + kImage + "</head>"), {});
  REQUIRE(mixed(before));
  CHECK(ev(*mixed(before), "count") == "1");
  CHECK(ev(*mixed(before), "resources") == "http://cdn.example.net/app.js");
  CHECK(ev(*mixed(before), "upgraded_by_meta_csp") == "1");
  // A meta CSP outside the head is ignored by browsers.
  CHECK(mixed(check_http(page("<head></head><body>" + meta + kScript + "</body>"), {})) != nullptr);
  // Another http-equiv, or a CSP without the directive, upgrades nothing.
  CHECK(mixed(check_http(page("<head><meta http-equiv=\"refresh\" "
                              "content=\"upgrade-insecure-requests\">" +
                              kScript),
                         {})) != nullptr);
  CHECK(mixed(check_http(page("<head><meta http-equiv=\"Content-Security-Policy\" "
                              "content=\"default-src https:\">" +
                              kScript),
                         {})) != nullptr);
}

TEST_CASE("the page's own HSTS host and its subdomains are upgraded", "[mixed_content][hsts]") {
  const std::string own = "<script src=\"http://shop.example.com/app.js\"></script>";
  const std::string sub = "<img src=\"http://img.shop.example.com/a.png\">";
  // Without HSTS both are mixed content.
  auto none = check_http(page(own + sub), {});
  REQUIRE(mixed(none));
  CHECK(ev(*mixed(none), "count") == "2");
  // HSTS without includeSubDomains: the host itself only.
  auto host_only =
      check_http(page(own + sub, {{"Strict-Transport-Security", "max-age=31536000"}}), {});
  REQUIRE(mixed(host_only));
  CHECK(ev(*mixed(host_only), "resources") == "http://img.shop.example.com/a.png");
  CHECK(ev(*mixed(host_only), "upgraded_by_hsts") == "1");
  // includeSubDomains covers both; a port in the URL changes nothing.
  CHECK(
      mixed(check_http(page("<script src=\"http://SHOP.example.com:8080/x.js\"></script>" + sub,
                            {{"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}}),
                       {})) == nullptr);
  // max-age=0 removes the policy: nothing is upgraded.
  CHECK(mixed(check_http(page(own, {{"Strict-Transport-Security", "max-age=0"}}), {})) != nullptr);
  // A look-alike host is not a subdomain.
  CHECK(mixed(check_http(page("<img src=\"http://evilshop.example.com/a.png\">",
                              {{"Strict-Transport-Security", "max-age=1; includeSubDomains"}}),
                         {})) != nullptr);
}

TEST_CASE("HSTS hosts seen earlier in the session (includeSubDomains parents)",
          "[mixed_content][hsts]") {
  HstsMemory memory;
  HttpCheckOptions opt;
  opt.hsts_memory = &memory;
  const std::string cdn = "<script src=\"http://static.cdn.example.org/a.js\"></script>";
  CHECK(mixed(check_http(page(cdn), opt)) != nullptr);
  memory.note("cdn.example.org:443", "max-age=600");  // no includeSubDomains: not a parent
  CHECK(mixed(check_http(page(cdn), opt)) != nullptr);
  memory.note("example.org", "max-age=600; includeSubDomains");
  CHECK(mixed(check_http(page(cdn), opt)) == nullptr);
  memory.note("example.org", "max-age=0");  // removed again
  CHECK(mixed(check_http(page(cdn), opt)) != nullptr);
  memory.note("static.cdn.example.org", "max-age=600");  // the host itself
  CHECK(mixed(check_http(page(cdn), opt)) == nullptr);
}

TEST_CASE("HstsMemory: parsing, IP literals, bounds", "[mixed_content][hsts]") {
  CHECK(parse_hsts("max-age=10")->max_age == 10);
  CHECK(parse_hsts("MAX-AGE=\"20\"; includeSubDomains")->include_subdomains);
  CHECK_FALSE(parse_hsts("includeSubDomains").has_value());
  CHECK_FALSE(parse_hsts("max-age=abc").has_value());
  CHECK(hsts_host("WWW.Example.COM.:8443") == "www.example.com");
  CHECK(hsts_host("127.0.0.1:443").empty());
  CHECK(hsts_host("[::1]:443").empty());
  HstsMemory m;
  m.note("127.0.0.1:8443", "max-age=100; includeSubDomains");
  CHECK(m.size() == 0);  // browsers keep no HSTS for IP addresses
  CHECK_FALSE(m.covers("127.0.0.1"));
  m.note("a.test", "garbage");
  CHECK(m.size() == 0);
  for (std::size_t i = 0; i < HstsMemory::kMaxHosts + 5; ++i)
    m.note("h" + std::to_string(i) + ".test", "max-age=1");
  CHECK(m.size() == HstsMemory::kMaxHosts);
}

TEST_CASE("the remaining items are classed as Chrome treats them", "[mixed_content][kinds]") {
  const std::string html =
      "<body><img src=\"http://c.example/i.png\"><video src=\"http://c.example/v.mp4\" "
      "poster=\"http://c.example/p.jpg\"></video><audio src=\"http://c.example/a.mp3\"></audio>"
      "<script src=\"http://c.example/s.js\"></script><iframe src=\"http://c.example/f\"></iframe>"
      "<link rel=\"stylesheet\" href=\"http://c.example/c.css\"><form "
      "action=\"http://c.example/post\">"
      "</form><a href=\"http://c.example/plain-link\">a link</a></body>";
  const auto fs = check_http(page(html), {});
  const auto* f = mixed(fs);
  REQUIRE(f);
  CHECK(ev(*f, "count") == "8");
  CHECK(ev(*f, "auto_upgraded_count") == "4");
  CHECK(ev(*f, "blocked_count") == "3");
  CHECK(ev(*f, "form_count") == "1");
  CHECK(ev(*f, "blocked") ==
        "script http://c.example/s.js\niframe http://c.example/f\n"
        "link rel=stylesheet http://c.example/c.css");
  CHECK(ev(*f, "auto_upgraded").find("img http://c.example/i.png") == 0);
  CHECK(ev(*f, "forms") == "form action http://c.example/post");
  CHECK(f->message.find("blocked") != std::string::npos);
  CHECK(f->message.find("auto-upgraded") != std::string::npos);
  // Plain links are never mixed content.
  CHECK(ev(*f, "resources").find("plain-link") == std::string::npos);
  CHECK(mixed(check_http(page("<a href=\"http://c.example/x\">x</a><a href='http://d/'>"), {})) ==
        nullptr);
}

TEST_CASE("an HTTPS subresource that redirects to http:// is mixed content",
          "[mixed_content][redirect]") {
  HttpExchange ex;
  ex.https = true;
  ex.host = "shop.example.com";
  ex.path = "/favicon.ico";
  ex.status = 301;
  ex.response_headers = {{"Location", "http://static.example.net/favicon.ico"},
                         {"Strict-Transport-Security", "max-age=600"}};
  const auto fs = check_http(ex, {});
  const auto* f = mixed(fs);
  REQUIRE(f);
  CHECK(ev(*f, "redirect") == "true");
  CHECK(ev(*f, "location") == "http://static.example.net/favicon.ico");
  CHECK(ev(*f, "url") == "https://shop.example.com/favicon.ico");

  // Sec-Fetch-Dest decides when present: an image is a subresource, a document is not.
  ex.path = "/logo";
  CHECK(mixed(check_http(ex, {})) == nullptr);  // no header, path not a static file
  ex.fetch_dest = "image";
  CHECK(mixed(check_http(ex, {})) != nullptr);
  ex.fetch_dest = "document";
  ex.path = "/favicon.ico";
  CHECK(mixed(check_http(ex, {})) == nullptr);  // a page navigation (a downgrade, not this)

  // An https:// redirect target is fine.
  ex.fetch_dest = "image";
  ex.response_headers[0].second = "https://static.example.net/favicon.ico";
  CHECK(mixed(check_http(ex, {})) == nullptr);
  // Relative Location: same scheme, fine.
  ex.response_headers[0].second = "/img/favicon.ico";
  CHECK(mixed(check_http(ex, {})) == nullptr);
}
