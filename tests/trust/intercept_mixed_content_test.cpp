// Mixed content through the real intercepting proxy (issue 15 item 4): an HTTPS favicon
// that redirects to http:// is caught from the redirect response, a redirect to https:// is
// not; a page whose subresources sit on its own HSTS host, or whose CSP upgrades them, gets
// no http.mixed_content, while the same page without either does.
#include "intercept/http_peers.hpp"
#include "intercept/intercept_fixture.hpp"

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

// An upstream that answers each request from `responses` by target (404 otherwise).
std::unique_ptr<ScriptedUpstream> site(const GoodSiteLab& lab,
                                       std::map<std::string, std::string> responses) {
  return std::make_unique<ScriptedUpstream>(
      ServedChain::of(lab.good), [responses = std::move(responses)](TlsIo& io) {
        for (int i = 0; i < 10; ++i) {
          const auto req = io.read_message(false, 5s);
          if (!req.complete) return;
          const auto it = responses.find(std::string(req.head.target()));
          if (!io.write(it == responses.end() ? http_response(404, "Not Found", "no") : it->second))
            return;
        }
      });
}

Message get(const InterceptingProxy& proxy, std::uint16_t port, const std::string& path,
            const std::string& extra = "") {
  ProxyClient c(proxy.port(), "good.test", port, proxy.ca_path(), std::string("good.test"));
  return c.request("GET", path, "good.test", extra);
}

constexpr const char* kHsts = "Strict-Transport-Security: max-age=600\r\n";

}  // namespace

TEST_CASE("intercept: an https favicon redirecting to http:// is mixed content",
          "[trust][mixed_content][redirect]") {
  GoodSiteLab lab;
  auto up = site(lab, {{"/favicon.ico",
                        http_response(301, "Moved Permanently", "",
                                      std::string(kHsts) + "Location: "
                                                           "http://static.test/favicon.ico\r\n")}});
  InterceptingProxy proxy(lab.proxy_options());
  const auto r = get(proxy, up->port(), "/favicon.ico", "Sec-Fetch-Dest: image\r\n");
  REQUIRE(r.complete);
  CHECK(r.head.status() == 301);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto* f = finding(lines[0], "http.mixed_content");
  REQUIRE(f);
  CHECK(evidence(*f, "redirect") == "true");
  CHECK(evidence(*f, "location") == "http://static.test/favicon.ico");
  CHECK(evidence(*f, "url") == "https://good.test/favicon.ico");
  CHECK(evidence(*f, "fetch_dest") == "image");
}

TEST_CASE("intercept: a favicon redirecting to https:// is not mixed content",
          "[trust][mixed_content][redirect]") {
  GoodSiteLab lab;
  auto up = site(
      lab, {{"/favicon.ico",
             http_response(301, "Moved Permanently", "",
                           std::string(kHsts) + "Location: https://static.test/favicon.ico\r\n")}});
  InterceptingProxy proxy(lab.proxy_options());
  const auto r = get(proxy, up->port(), "/favicon.ico", "Sec-Fetch-Dest: image\r\n");
  REQUIRE(r.complete);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(finding(lines[0], "http.mixed_content") == nullptr);
}

TEST_CASE("intercept: subresources upgraded by HSTS or CSP are not mixed content",
          "[trust][mixed_content][upgrade]") {
  GoodSiteLab lab;
  const std::string page =
      "<html><head></head><body><script src=\"http://good.test/app.js\"></script>"
      "<img src=\"http://good.test/logo.png\"></body></html>";
  const auto html = [&](const std::string& headers) {
    return http_response(200, "OK", page, headers, "text/html");
  };
  auto up = site(lab, {{"/hsts", html(kHsts)},
                       {"/csp", html("Content-Security-Policy: upgrade-insecure-requests\r\n")},
                       {"/plain", html("")}});
  struct Case {
    const char* path;
    bool mixed;
  };
  for (auto c : {Case{"/hsts", false}, Case{"/csp", false}, Case{"/plain", true}}) {
    INFO(c.path);
    InterceptingProxy proxy(lab.proxy_options());  // a fresh session: no HSTS learnt before
    const auto r = get(proxy, up->port(), c.path);
    REQUIRE(r.complete);
    CHECK(r.body == page);
    const auto lines = proxy.log_lines();
    REQUIRE(lines.size() == 1);
    const auto* f = finding(lines[0], "http.mixed_content");
    CHECK((f != nullptr) == c.mixed);
    if (f) {
      CHECK(evidence(*f, "blocked_count") == "1");
      CHECK(evidence(*f, "auto_upgraded_count") == "1");
    }
  }
}
