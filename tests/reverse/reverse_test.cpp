// Reverse mode end to end: curl plays the CDN (with and without SNI) in front of in-process
// origins; faulty origins give 502/504 and a log record, never a crash.
#include "pki/test_pki.hpp"
#include "reverse/reverse_fixture.hpp"
#include "reverse/reverse_origin.hpp"
#include "support/loopback_server.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::reverse_test;
using testsupport::ServedChain;

namespace {

// One PKI for the file: building keys is the slow part.
struct Pki {
  testpki::Hierarchy www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  testpki::Issued other_leaf =
      testpki::issue(www.intermediate, {.common_name = "default.example.test",
                                        .dns_names = {"default.example.test"},
                                        .not_before = testpki::now() - std::chrono::days(1),
                                        .not_after = testpki::now() + std::chrono::days(90)});
  testpki::Issued api_leaf =
      testpki::issue(www.intermediate, {.common_name = "api.example.test",
                                        .dns_names = {"api.example.test"},
                                        .not_before = testpki::now() - std::chrono::days(1),
                                        .not_after = testpki::now() + std::chrono::days(90)});
  testpki::Hierarchy stranger = testpki::make_hierarchy({"www.example.test"}, testpki::now());

  certs::Chain anchors() const { return {www.root.cert}; }
  ServedChain www_chain() const { return ServedChain::of(www); }
  ServedChain default_chain() const { return ServedChain::of(other_leaf, {www.intermediate.cert}); }
  ServedChain api_chain() const { return ServedChain::of(api_leaf, {www.intermediate.cert}); }
};

const Pki& pki() {
  static const Pki p;
  return p;
}

OriginOptions healthy_origin() {
  OriginOptions o;
  o.default_chain = pki().default_chain();
  o.by_sni["www.example.test"] = pki().www_chain();
  o.by_sni["api.example.test"] = pki().api_chain();
  return o;
}

std::string url(std::uint16_t port, const std::string& host = "www.example.test") {
  return "https://" + host + ":" + std::to_string(port) + "/path?q=1";
}

std::string resolve(std::uint16_t port, const std::string& host = "www.example.test") {
  return host + ":" + std::to_string(port) + ":127.0.0.1";
}

}  // namespace

TEST_CASE("reverse: a CDN with SNI reaches the origin with SNI = Host and a clean record",
          "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port())});
  REQUIRE(r.http_code == 200);
  CHECK(r.body.find("sni=www.example.test") != std::string::npos);
  CHECK(r.body.find("xff=127.0.0.1") != std::string::npos);
  CHECK(r.body.find("proto=https") != std::string::npos);
  CHECK(r.body.find("via=1.1 tlsprobe-") != std::string::npos);

  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  const auto& rec = recs[0];
  CHECK(str_at(rec, "tlsprobe.mode") == "reverse");
  CHECK(str_at(rec, "tls.client.server_name") == "www.example.test");
  CHECK(str_at(rec, "destination.domain") == "www.example.test");
  CHECK(str_at(rec, "destination.address") == "127.0.0.1");
  CHECK(str_at(rec, "tls.server.hash.sha256") == pki().www.leaf.cert.sha256_hex());
  REQUIRE(find_path(rec, "http.response.status_code"));
  CHECK(find_path(rec, "http.response.status_code")->as_int64() == 200);
  REQUIRE(find_path(rec, "tlsprobe.verify.ok"));
  CHECK(find_path(rec, "tlsprobe.verify.ok")->as_bool());
  const auto c = codes(rec);
  CHECK_FALSE(has(c, "client.no_sni"));
  CHECK_FALSE(has(c, "client.sni_host_mismatch"));
  CHECK_FALSE(has(c, "name.mismatch"));
  CHECK_FALSE(has(c, "sni.default_cert"));
}

TEST_CASE(
    "reverse: a CDN pulling without SNI is client.no_sni; the origin still gets the Host as SNI",
    "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl(
      {"-H", "Host: www.example.test", "https://127.0.0.1:" + std::to_string(proxy.port()) + "/"});
  REQUIRE(r.http_code == 200);
  CHECK(r.body.find("sni=www.example.test") != std::string::npos);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tls.client.server_name") == nullptr);
  CHECK(has(codes(recs[0]), "client.no_sni"));
}

TEST_CASE("reverse: SNI and Host that disagree are client.sni_host_mismatch", "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port(), "cdn-edge.example.test"), "-H",
                       "Host: www.example.test", url(proxy.port(), "cdn-edge.example.test")});
  REQUIRE(r.http_code == 200);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(str_at(recs[0], "tls.client.server_name") == "cdn-edge.example.test");
  CHECK(has(codes(recs[0]), "client.sni_host_mismatch"));
  CHECK_FALSE(has(codes(recs[0]), "client.no_sni"));
}

TEST_CASE("reverse: --upstream-sni overrides the Host as origin SNI", "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  auto o = test_config(origin.address(), pki().anchors());
  o.cfg.upstream_sni = "api.example.test";
  ReverseProxy proxy(std::move(o));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port())});
  REQUIRE(r.http_code == 200);
  CHECK(r.body.find("sni=api.example.test") != std::string::npos);
  CHECK(r.body.find("host=www.example.test") != std::string::npos);
}

TEST_CASE("reverse: the origin's default certificate for the CDN's name is sni.default_cert, 502",
          "[reverse]") {
  OriginOptions oo;
  oo.default_chain = pki().default_chain();  // nothing configured for www.example.test
  HttpsOrigin origin(oo);
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port())});
  CHECK(r.http_code == 502);
  CHECK(r.body.find("sni.default_cert") != std::string::npos);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  const auto c = codes(recs[0]);
  CHECK(has(c, "sni.default_cert"));
  CHECK_FALSE(has(c, "name.mismatch"));
  CHECK(str_at(recs[0], "error.code") == "sni.default_cert");
  CHECK(find_path(recs[0], "http.response.status_code")->as_int64() == 502);
  CHECK_FALSE(find_path(recs[0], "tlsprobe.verify.ok")->as_bool());
}

TEST_CASE("reverse: a wrong name that is not the default certificate is name.mismatch",
          "[reverse]") {
  OriginOptions oo;
  oo.default_chain = pki().default_chain();
  oo.by_sni["www.example.test"] = pki().api_chain();  // a vhost with the wrong certificate
  HttpsOrigin origin(oo);
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port())});
  CHECK(r.http_code == 502);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(has(codes(recs[0]), "name.mismatch"));
  CHECK_FALSE(has(codes(recs[0]), "sni.default_cert"));
}

TEST_CASE("reverse: an untrusted origin is refused with 502 and an explanation, never content",
          "[reverse]") {
  OriginOptions oo;
  oo.default_chain = ServedChain::of(pki().stranger);
  HttpsOrigin origin(oo);
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r =
      curl({"-H", "Accept: text/html", "--resolve", resolve(proxy.port()), url(proxy.port())});
  CHECK(r.http_code == 502);
  CHECK(r.body.find("<html") != std::string::npos);
  CHECK(r.body.find("chain.untrusted_root") != std::string::npos);
  CHECK(origin.requests() == 0);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(has(codes(recs[0]), "chain.untrusted_root"));
  CHECK(has(codes(recs[0]), "origin.untrusted"));
}

TEST_CASE("reverse: keep-alive carries several requests over one origin connection, one record",
          "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port()), url(proxy.port()),
                       "--data-binary", "0123456789"});
  REQUIRE(r.http_code == 200);
  CHECK(origin.requests() == 2);
  CHECK(origin.handshakes() == 1);
  // A second client connection reuses the cached verdict (no second verification).
  REQUIRE(curl({"--resolve", resolve(proxy.port()), url(proxy.port())}).http_code == 200);
  CHECK(proxy.service().verdict_hits() >= 1);
  CHECK(proxy.records().size() == 2);
}

TEST_CASE("reverse: request bodies stream through to the origin", "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const std::string big(300 * 1024, 'x');
  testpki::TempPemFile file(big);
  const auto r = curl(
      {"--resolve", resolve(proxy.port()), "--data-binary", "@" + file.path(), url(proxy.port())});
  REQUIRE(r.http_code == 200);
  CHECK(r.body.find("body=" + std::to_string(big.size())) != std::string::npos);
}

TEST_CASE("reverse: several upstreams are selected by Host from the sites", "[reverse]") {
  HttpsOrigin main_origin(healthy_origin());
  OriginOptions api;
  api.default_chain = pki().default_chain();
  api.by_sni["api.example.test"] = pki().api_chain();
  HttpsOrigin api_origin(api);
  auto o = test_config(main_origin.address(), pki().anchors());
  o.add_site("api.example.test", api_origin.address());
  ReverseProxy proxy(std::move(o));
  REQUIRE(curl({"--resolve", resolve(proxy.port(), "api.example.test"),
                url(proxy.port(), "api.example.test")})
              .http_code == 200);
  REQUIRE(curl({"--resolve", resolve(proxy.port()), url(proxy.port())}).http_code == 200);
  CHECK(api_origin.requests() == 1);
  CHECK(main_origin.requests() == 1);
}

TEST_CASE("reverse: an origin that is down is 502 with a record", "[reverse]") {
  const auto port = testsupport::unused_port();
  ReverseProxy proxy(test_config("127.0.0.1:" + std::to_string(port), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port())});
  CHECK(r.http_code == 502);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(has(codes(recs[0]), "probe.unreachable"));
  CHECK(find_path(recs[0], "http.response.status_code")->as_int64() == 502);
}

TEST_CASE("reverse: an origin that never completes the handshake is 504 with a record",
          "[reverse]") {
  testsupport::SilentServer silent;
  ReverseProxy proxy(test_config(silent.address(), pki().anchors()));
  const auto r = curl({"--resolve", resolve(proxy.port()), url(proxy.port())});
  CHECK(r.http_code == 504);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(has(codes(recs[0]), "tls.handshake_failed"));
}

TEST_CASE("reverse: a slow origin is 504, a resetting origin 502, both with a record",
          "[reverse]") {
  auto slow = healthy_origin();
  slow.fault = OriginFault::slow;
  HttpsOrigin slow_origin(slow);
  auto reset = healthy_origin();
  reset.fault = OriginFault::reset;
  HttpsOrigin reset_origin(reset);
  auto o = test_config(slow_origin.address(), pki().anchors());
  o.add_site("reset.example.test", reset_origin.address(), "www.example.test");
  ReverseProxy proxy(std::move(o));
  CHECK(curl({"--resolve", resolve(proxy.port()), url(proxy.port())}).http_code == 504);
  CHECK(curl({"--resolve", resolve(proxy.port(), "reset.example.test"),
              url(proxy.port(), "reset.example.test")})
            .http_code == 502);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 2);
  for (const auto& rec : recs) {
    CHECK(str_at(rec, "tlsprobe.mode") == "reverse");
    const auto status = find_path(rec, "http.response.status_code")->as_int64();
    CHECK((status == 502 || status == 504));
  }
}

TEST_CASE("reverse: plain HTTP on the TLS port gets a 400 and a record", "[reverse]") {
  HttpsOrigin origin(healthy_origin());
  ReverseProxy proxy(test_config(origin.address(), pki().anchors()));
  const auto r = curl({"http://127.0.0.1:" + std::to_string(proxy.port()) + "/"});
  CHECK(r.http_code == 400);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 1);
  CHECK(str_at(recs[0], "event.reason").rfind("not_tls", 0) == 0);
}
