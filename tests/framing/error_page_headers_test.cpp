// Issue 12 item 10: the explanation page is served under a name the browser trusts (our minted
// leaf), so it must not run or load anything, be sniffed, cached or leak its URL, and its only
// link is the tlsprobe CA page. Before, it carried only Cache-Control and no link policy.
#include "framing/harness.hpp"
#include "proxy/http/error_page.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::framing_test;

namespace {

const std::vector<std::pair<std::string, std::string>> kPolicy = {
    {"content-security-policy", "default-src 'none'; style-src 'unsafe-inline'"},
    {"x-content-type-options", "nosniff"},
    {"cache-control", "no-store"},
    {"referrer-policy", "no-referrer"}};

// Every href="..." value in `html` (escaped text like href=&quot; is no link).
std::vector<std::string> links(const std::string& html) {
  std::vector<std::string> out;
  for (auto at = html.find("href="); at != std::string::npos; at = html.find("href=", at + 5)) {
    const char quote = html[at + 5];
    if (quote != '"' && quote != '\'') continue;
    const auto start = at + 6;
    out.push_back(html.substr(start, html.find(quote, start) - start));
  }
  return out;
}

}  // namespace

TEST_CASE("error page: security headers on both forms, the CA page its only link", "[framing]") {
  inspect::Finding f;
  f.code = "chain.incomplete";
  f.severity = inspect::Severity::error;
  f.message = "see <a href=\"https://evil.example/\">here</a>";
  f.evidence["aia_url"] = "http://evil.example/ca.crt";
  for (const bool html : {true, false}) {
    const auto page = proxy::render_error_page({f}, html, "bad.example.test");
    for (const auto& [name, value] : kPolicy) {
      INFO(name);
      bool found = false;
      for (const auto& [n, v] : page.headers)
        if (certs::ascii_lower(n) == name) found = v == value;
      CHECK(found);
    }
    if (html) CHECK(links(page.body) == std::vector<std::string>{"http://tlsprobe.ca/"});
  }
  // Reverse mode's refusal is the same page with the same headers.
  const auto refusal = proxy::render_origin_refusal({f}, "text/html", "origin.test:443");
  for (const auto& [name, value] : kPolicy) {
    INFO(name);
    CHECK(certs::ascii_lower(refusal).find(name + ": " + certs::ascii_lower(value)) !=
          std::string::npos);
  }
}

TEST_CASE("intercept explain: the 502 page carries the security headers", "[framing]") {
  TlsBackend upstream(testsupport::ServedChain::of(pki()));
  intercept_test::ProxyOptions o;  // no anchors: the upstream's chain is untrusted
  o.resolve = {{"www.example.test", "127.0.0.1"}};
  intercept_test::InterceptingProxy proxy(o);
  intercept_test::ProxyClient client(proxy.port(), "www.example.test", upstream.port(),
                                     proxy.ca_path(), "www.example.test");
  const auto res = client.request("GET", "/", "www.example.test", "Accept: text/html\r\n");
  REQUIRE(res.complete);
  CHECK(res.head.status() == 502);
  for (const auto& [name, value] : kPolicy) {
    INFO(name);
    CHECK(res.head.get(name) == value);
  }
  CHECK(links(res.body) == std::vector<std::string>{"http://tlsprobe.ca/"});
  for (const auto& conn : upstream.log().take()) CHECK(conn.empty());  // not one byte of HTTP
}
