// Minted identity = verified identity (issue 12 item 1). The attack: CONNECT good.test (whose
// server holds a certificate for good.test only) with SNI bank.test. Before the fix the
// upstream was verified for the CONNECT host and the leaf minted for the SNI, so the client
// got a valid tlsprobe-signed bank.test leaf over good.test's page. Now the upstream is
// verified for the SNI (the CONNECT host only says where to connect): the client gets the 502
// explanation (or, under mirror, a certificate it rejects), never good.test's bytes, and the
// log says client.sni_host_mismatch. Without SNI the CONNECT host is verified and minted.
#include "http_peers.hpp"
#include "intercept_fixture.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

constexpr const char* kSecret = "good-test-private-page";

struct IdentityLab {
  testpki::Hierarchy good = testpki::make_hierarchy({"good.test"}, testpki::now());
  ProxyOptions proxy_options(
      config::UpstreamErrorPolicy policy = config::UpstreamErrorPolicy::explain) const {
    return {.anchors = {good.root.cert},
            .policy = policy,
            .resolve = {{"good.test", "127.0.0.1"}, {"bank.test", "127.0.0.1"}}};
  }
};

// good.test's server: one certificate (good.test only) whatever the SNI; counts the requests
// that reach it.
struct GoodSite {
  std::shared_ptr<std::atomic<int>> requests = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<ScriptedUpstream> server;
  explicit GoodSite(const IdentityLab& lab) {
    server =
        std::make_unique<ScriptedUpstream>(ServedChain::of(lab.good), [n = requests](TlsIo& io) {
          for (int i = 0; i < 10; ++i) {
            const auto req = io.read_message(false, 5s);
            if (!req.complete) return;
            ++*n;
            if (!io.write(http_response(200, "OK", kSecret))) return;
          }
        });
  }
  std::uint16_t port() const { return server->port(); }
};

// The DNS names of the peer's leaf (what the minted certificate claims).
std::vector<std::string> peer_names(SSL* ssl) {
  certs::X509Ptr leaf{SSL_get1_peer_certificate(ssl)};
  if (!leaf) return {};
  return certs::Certificate::from_x509(leaf.get()).names();
}

}  // namespace

TEST_CASE(
    "intercept identity: SNI bank.test through CONNECT good.test never gets good.test's page") {
  IdentityLab lab;
  GoodSite site(lab);
  InterceptingProxy proxy(lab.proxy_options());
  // The client trusts the tlsprobe CA and checks the leaf for bank.test, as s_client
  // -verify_hostname does: our leaf for bank.test is accepted, so what it carries decides.
  ProxyClient c(proxy.port(), "good.test", site.port(), proxy.ca_path(), "bank.test");
  const auto res = c.request("GET", "/", "bank.test");
  INFO(res.head.raw << res.body);
  CHECK(res.head.status() == 502);
  CHECK(res.body.find(kSecret) == std::string::npos);
  CHECK(site.requests->load() == 0);
  c.close();

  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto codes = finding_codes(lines[0]);
  // Verified for bank.test: good.test's certificate does not cover it (the side probe sees the
  // same certificate without SNI, so it is the server's default certificate).
  CHECK((has_code(codes, "name.mismatch") || has_code(codes, "sni.default_cert")));
  CHECK(str_at(lines[0], {"event", "outcome"}) == "failure");
  const auto* m = finding(lines[0], "client.sni_host_mismatch");
  REQUIRE(m);
  CHECK(evidence(*m, "sni") == "bank.test");
  CHECK(evidence(*m, "connect_host") == "good.test:" + std::to_string(site.port()));
}

TEST_CASE("intercept identity: a verdict cached for good.test is never reused for bank.test") {
  IdentityLab lab;
  GoodSite site(lab);
  InterceptingProxy proxy(lab.proxy_options());
  {  // warm the verdict cache with the honest connection
    ProxyClient c(proxy.port(), "good.test", site.port(), proxy.ca_path(), "good.test");
    const auto res = c.request("GET", "/", "good.test");
    CHECK(res.head.status() == 200);
    CHECK(res.body == kSecret);
    CHECK(peer_names(c.io().ssl()) == std::vector<std::string>{"good.test"});
  }
  CHECK(site.requests->load() == 1);
  ProxyClient c(proxy.port(), "good.test", site.port(), proxy.ca_path(), "bank.test");
  const auto res = c.request("GET", "/", "bank.test");
  CHECK(res.head.status() == 502);
  CHECK(res.body.find(kSecret) == std::string::npos);
  CHECK(site.requests->load() == 1);
}

TEST_CASE("intercept identity: the verdict names what it verified, keyed by that name") {
  IdentityLab lab;
  proxy::UpstreamTls upstream(proxy::UpstreamTls::Options{
      certs::TrustStore::from_anchors({lab.good.root.cert}, certs::SystemTrust::exclude)});
  inspect::HandshakeObservation h;
  h.outcome = inspect::HandshakeOutcome::ok;
  h.host = "good.test";  // the CONNECT host
  h.port = 443;
  h.address = "127.0.0.1:443";
  h.tls_version = "1.3";
  h.chain = lab.good.fullchain();

  SECTION("SNI bank.test: verified for bank.test, and that fails") {
    h.sni = "bank.test";
    CHECK(proxy::UpstreamTls::verified_name(h) == "bank.test");
    const auto v = upstream.verdict(h);
    CHECK(v->name == "bank.test");
    CHECK(v->failed);
    CHECK_FALSE(v->verify.ok);
    CHECK(proxy::UpstreamTls::verdict_key(h).rfind("bank.test|", 0) == 0);
  }
  SECTION("no SNI: the CONNECT host is verified") {
    CHECK(proxy::UpstreamTls::verified_name(h) == "good.test");
    const auto v = upstream.verdict(h);
    CHECK(v->name == "good.test");
    CHECK_FALSE(v->failed);
  }
  SECTION("the cache of good.test's verdict does not answer for bank.test") {
    CHECK_FALSE(upstream.verdict(h)->failed);  // no SNI: good.test, cached
    h.sni = "bank.test";
    CHECK(upstream.cached_verdict(h) == nullptr);
    CHECK(upstream.verdict(h)->failed);
    h.sni = "GOOD.test.";  // same name as verified: the cached verdict
    CHECK(proxy::UpstreamTls::verified_name(h) == "good.test");
    CHECK(upstream.cached_verdict(h) != nullptr);
  }
}

TEST_CASE("intercept identity: without SNI the CONNECT host is verified and minted") {
  IdentityLab lab;
  GoodSite site(lab);
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", site.port(), proxy.ca_path(), "");
  CHECK(peer_names(c.io().ssl()) == std::vector<std::string>{"good.test"});
  const auto res = c.request("GET", "/", "good.test");
  CHECK(res.head.status() == 200);
  CHECK(res.body == kSecret);
  c.close();
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto codes = finding_codes(lines[0]);
  CHECK(has_code(codes, "client.no_sni"));
  CHECK_FALSE(has_code(codes, "client.sni_host_mismatch"));
  CHECK_FALSE(has_code(codes, "name.mismatch"));
}

TEST_CASE("intercept identity: SNI good.test through CONNECT bank.test is verified for good.test") {
  // The other way round: the client asks for good.test (what the server proves) through a
  // tunnel named bank.test. The leaf says good.test, which was verified; the log notes the
  // disagreement.
  IdentityLab lab;
  GoodSite site(lab);
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "bank.test", site.port(), proxy.ca_path(), "good.test");
  CHECK(peer_names(c.io().ssl()) == std::vector<std::string>{"good.test"});
  CHECK(c.request("GET", "/", "good.test").head.status() == 200);
  c.close();
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto* m = finding(lines[0], "client.sni_host_mismatch");
  REQUIRE(m);
  CHECK(evidence(*m, "sni") == "good.test");
}

// The reproduction of the review, with a real OpenSSL client:
//   openssl s_client -proxy 127.0.0.1:P -connect good.test:PORT -servername bank.test
//                    -verify_hostname bank.test -CAfile <tlsprobe CA>
TEST_CASE(
    "intercept identity: openssl s_client -proxy with SNI bank.test gets no good.test bytes") {
  IdentityLab lab;
  GoodSite site(lab);
  const std::string request = "GET / HTTP/1.1\r\nHost: bank.test\r\nConnection: close\r\n\r\n";
  auto s_client = [&](const InterceptingProxy& proxy) {
    return testsupport::run_process(
        {"openssl", "s_client", "-proxy", "127.0.0.1:" + std::to_string(proxy.port()), "-connect",
         "good.test:" + std::to_string(site.port()), "-servername", "bank.test", "-verify_hostname",
         "bank.test", "-CAfile", proxy.ca_path(), "-verify_return_error", "-ign_eof"},
        std::chrono::seconds(30), request);
  };
  SECTION("explain: a valid bank.test leaf, but only the 502 page behind it") {
    InterceptingProxy proxy(lab.proxy_options());
    const auto r = s_client(proxy);
    INFO(r.out << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.out.find(kSecret) == std::string::npos);
    CHECK(r.out.find("HTTP/1.1 502") != std::string::npos);
    CHECK(site.requests->load() == 0);
    const auto lines = proxy.log_lines();
    REQUIRE(lines.size() == 1);
    CHECK(has_code(finding_codes(lines[0]), "client.sni_host_mismatch"));
  }
  SECTION("mirror: the leaf for bank.test is untrusted, s_client refuses it") {
    InterceptingProxy proxy(lab.proxy_options(config::UpstreamErrorPolicy::mirror));
    const auto r = s_client(proxy);
    INFO(r.out << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code != 0);
    CHECK(r.out.find(kSecret) == std::string::npos);
    CHECK(site.requests->load() == 0);
  }
  SECTION("control: SNI good.test gets good.test's page through a verified good.test leaf") {
    InterceptingProxy proxy(lab.proxy_options());
    const auto r = testsupport::run_process(
        {"openssl", "s_client", "-proxy", "127.0.0.1:" + std::to_string(proxy.port()), "-connect",
         "good.test:" + std::to_string(site.port()), "-servername", "good.test", "-verify_hostname",
         "good.test", "-CAfile", proxy.ca_path(), "-verify_return_error", "-ign_eof"},
        std::chrono::seconds(30), "GET / HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(kSecret) != std::string::npos);
    CHECK(site.requests->load() == 1);
  }
}
