// Client certificates against real servers (issue 15 item 3): the CA names of a
// CertificateRequest are recorded by the prober's handshake (the client-certificate
// callback) and reported: tls.client_cert_requested when the handshake completes without a
// certificate (nginx `ssl_verify_client optional` and `on`: nginx refuses at the HTTP level,
// not in the handshake), the accepted CAs in tls.handshake_failed when the server refuses the
// handshake (an OpenSSL server with SSL_VERIFY_FAIL_IF_NO_PEER_CERT, TLS 1.2 and 1.3), and
// nothing when the server asks for nothing.
#include "certs/trust_store.hpp"
#include "inspect/codes.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/probe/prober.hpp"
#include "support/nginx_server.hpp"
#include "support/probe_once.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace std::chrono_literals;
using inspect::FailureKind;
using inspect::HandshakeOutcome;

namespace {

inspect::Observations probe_at(const std::string& address) {
  proxy::ProbeRequest r;
  r.host = "auth.test";
  r.connect = address;
  r.sni_checks = proxy::SniChecks::off;
  r.timeout = 8s;
  return testsupport::probe_once(std::move(r));
}

inspect::Findings diagnose(const inspect::Observations& obs, const testpki::Hierarchy& h) {
  const auto trust = certs::TrustStore::from_anchors({h.root.cert});
  inspect::DiagnoseOptions o;
  o.at = testpki::now();
  o.trust = &trust;
  return inspect::diagnose(obs, o);
}

const inspect::Finding* find(const inspect::Findings& fs, std::string_view code) {
  for (const auto& f : fs)
    if (f.code == code) return &f;
  return nullptr;
}

testpki::Issued client_ca(const std::string& cn) {
  testpki::CertSpec s;
  s.common_name = cn;
  s.organization = "Partner Org";
  s.not_before = testpki::now() - std::chrono::days(1);
  s.not_after = testpki::now() + std::chrono::days(365);
  return testpki::make_root(s);
}

std::string nginx_block(const std::string& verify) {
  std::string b = R"(
  server {
    listen 127.0.0.1:@PORT@ ssl default_server;
    server_name auth.test;
    ssl_certificate @DIR@/site.crt;
    ssl_certificate_key @DIR@/site.key;
)";
  if (!verify.empty())
    b += "    ssl_client_certificate @DIR@/client_ca.pem;\n    ssl_verify_client " + verify + ";\n";
  return b + "    location / { return 200 \"ok\\n\"; }\n  }\n";
}

}  // namespace

TEST_CASE("nginx ssl_verify_client optional/on: tls.client_cert_requested lists its CA",
          "[trust][client_cert][nginx]") {
  static const auto h = testpki::make_hierarchy({"auth.test"}, testpki::now());
  static const auto ca = client_ca("Partner Client CA");
  const std::string verify = GENERATE(std::string("optional"), std::string("on"));
  INFO("ssl_verify_client " << verify);
  testsupport::NginxServer nginx(nginx_block(verify),
                                 {{"site.crt", h.leaf.cert_pem() + h.intermediate.cert_pem()},
                                  {"site.key", h.leaf.key_pem()},
                                  {"client_ca.pem", ca.cert_pem()}});
  const auto obs = probe_at(nginx.address());
  REQUIRE(obs.handshakes.size() == 1);
  const auto& hs = obs.handshakes[0];
  INFO(hs.failure_detail << nginx.error_log());
  CHECK(hs.outcome == HandshakeOutcome::ok);
  CHECK(hs.client_cert_requested);
  REQUIRE(hs.client_ca_names.size() == 1);
  CHECK(hs.client_ca_names[0] == ca.cert.subject());
  const auto fs = diagnose(obs, h);
  const auto* f = find(fs, inspect::codes::tls_client_cert_requested);
  REQUIRE(f);
  CHECK(f->severity == inspect::Severity::info);
  CHECK(f->evidence.at("accepted_cas") == ca.cert.subject());
  CHECK(f->message.find("Partner Client CA") != std::string::npos);
  CHECK_FALSE(inspect::has_error(fs));
}

TEST_CASE("nginx without client authentication: no tls.client_cert_requested",
          "[trust][client_cert][nginx]") {
  static const auto h = testpki::make_hierarchy({"auth.test"}, testpki::now());
  testsupport::NginxServer nginx(nginx_block(""),
                                 {{"site.crt", h.leaf.cert_pem() + h.intermediate.cert_pem()},
                                  {"site.key", h.leaf.key_pem()}});
  const auto obs = probe_at(nginx.address());
  REQUIRE(obs.handshakes.size() == 1);
  CHECK(obs.handshakes[0].outcome == HandshakeOutcome::ok);
  CHECK_FALSE(obs.handshakes[0].client_cert_requested);
  CHECK(obs.handshakes[0].client_ca_names.empty());
  const auto fs = diagnose(obs, h);
  CHECK(find(fs, inspect::codes::tls_client_cert_requested) == nullptr);
  CHECK(fs.empty());
}

TEST_CASE("a server that refuses the handshake without a certificate names its CAs",
          "[trust][client_cert]") {
  static const auto h = testpki::make_hierarchy({"auth.test"}, testpki::now());
  static const auto ca1 = client_ca("Partner Client CA One");
  static const auto ca2 = client_ca("Partner Client CA Two");
  const auto version =
      GENERATE(testsupport::TlsVersions::tls12_only, testsupport::TlsVersions::tls13_only);
  INFO((version == testsupport::TlsVersions::tls12_only ? "TLS 1.2" : "TLS 1.3"));
  testsupport::TlsServerOptions so;
  so.default_chain = testsupport::ServedChain::of(h);
  so.require_client_cert = true;
  so.client_cas = {ca1.cert, ca2.cert};
  so.versions = version;
  testsupport::TlsTestServer server(so);
  const auto obs = probe_at(server.address());
  REQUIRE(obs.handshakes.size() == 1);
  const auto& hs = obs.handshakes[0];
  INFO(hs.failure_detail);
  CHECK(hs.outcome == HandshakeOutcome::handshake_failed);
  CHECK(hs.failure == FailureKind::client_cert_required);
  CHECK(hs.client_cert_requested);
  REQUIRE(hs.client_ca_names.size() == 2);
  CHECK(hs.client_ca_names[0] == ca1.cert.subject());
  CHECK(hs.client_ca_names[1] == ca2.cert.subject());
  const auto fs = diagnose(obs, h);
  const auto* f = find(fs, inspect::codes::tls_handshake_failed);
  REQUIRE(f);
  CHECK(f->evidence.at("accepted_cas") == ca1.cert.subject() + "; " + ca2.cert.subject());
  CHECK(f->message.find("Partner Client CA Two") != std::string::npos);
  CHECK(f->remedy.find("--cert") != std::string::npos);
  CHECK(f->remedy.find("--key") != std::string::npos);
}
