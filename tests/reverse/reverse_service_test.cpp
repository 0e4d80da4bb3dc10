// ReverseService pure parts: --upstream parsing, routing by Host (SNI rules), the 502 page.
#include "reverse/reverse_fixture.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::proxy;

TEST_CASE("parse_upstream_url takes https://host[:port] only", "[reverse][unit]") {
  auto a = parse_upstream_url("https://Origin.Example");
  REQUIRE(a);
  CHECK(a->host == "origin.example");
  CHECK(a->port == 443);
  auto b = parse_upstream_url("https://10.0.0.5:8443/");
  REQUIRE(b);
  CHECK(b->host == "10.0.0.5");
  CHECK(b->port == 8443);
  auto v6 = parse_upstream_url("https://[::1]:9443");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK_FALSE(parse_upstream_url("http://origin.example"));
  CHECK_FALSE(parse_upstream_url("https://origin.example/path"));
  CHECK_FALSE(parse_upstream_url("https://user@origin.example"));
  CHECK_FALSE(parse_upstream_url("https://origin.example:99999"));
  CHECK_FALSE(parse_upstream_url("origin.example:443"));
}

TEST_CASE("route: SNI is the Host without port, never an IP literal; sites and --upstream-sni win",
          "[reverse][unit]") {
  auto o = reverse_test::service_options("127.0.0.1:8443");
  o.sites["api.example.test"].address = *parse_authority("10.0.0.7:443");
  o.sites["pinned.example.test"].address = *parse_authority("10.0.0.8:443");
  o.sites["pinned.example.test"].sni = "origin-pinned.example.test";
  ReverseService svc(std::move(o));

  auto r = svc.route("WWW.Example.Test:8443");
  CHECK(r.connect.host == "127.0.0.1");
  CHECK(r.connect.port == 8443);
  REQUIRE(r.sni);
  CHECK(*r.sni == "www.example.test");
  CHECK(r.name == "www.example.test");
  CHECK_FALSE(r.from_site);

  auto ip = svc.route("192.0.2.1:8443");
  CHECK_FALSE(ip.sni);
  CHECK(ip.name == "192.0.2.1");

  auto none = svc.route("");  // HTTP/1.0 without Host: the upstream's own name (an IP here)
  CHECK_FALSE(none.sni);

  auto api = svc.route("api.example.test");
  CHECK(api.from_site);
  CHECK(api.connect.host == "10.0.0.7");
  CHECK(*api.sni == "api.example.test");

  auto pinned = svc.route("pinned.example.test");
  CHECK(*pinned.sni == "origin-pinned.example.test");
  CHECK(pinned.key() != api.key());
}

TEST_CASE("route: --upstream-sni replaces the Host as SNI for the default upstream",
          "[reverse][unit]") {
  auto o = reverse_test::service_options("127.0.0.1:8443");
  o.upstream.sni = "origin.internal";
  ReverseService svc(std::move(o));
  auto r = svc.route("www.example.test");
  REQUIRE(r.sni);
  CHECK(*r.sni == "origin.internal");
  CHECK(r.request_host == "www.example.test");
}

TEST_CASE("render_origin_refusal: 502, HTML for browsers, text otherwise, origin findings only",
          "[reverse][unit]") {
  inspect::Finding err;
  err.code = "chain.untrusted_root";
  err.severity = inspect::Severity::error;
  err.role = inspect::Role::origin;
  err.message = "<script>x</script>";
  inspect::Finding client;
  client.code = "client.no_sni";
  client.severity = inspect::Severity::warning;
  client.role = inspect::Role::client;
  const inspect::Findings fs{err, client};

  const auto html = render_origin_refusal(fs, "text/html,*/*", "www.example.test:443");
  CHECK(html.rfind("HTTP/1.1 502 ", 0) == 0);
  CHECK(html.find("Content-Type: text/html") != std::string::npos);
  CHECK(html.find("chain.untrusted_root") != std::string::npos);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("client.no_sni") == std::string::npos);

  const auto text = render_origin_refusal(fs, "*/*", "www.example.test:443");
  CHECK(text.find("Content-Type: text/plain") != std::string::npos);
  CHECK(text.find("chain.untrusted_root") != std::string::npos);
}
