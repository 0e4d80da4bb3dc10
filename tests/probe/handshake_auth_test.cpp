// Handshakes that authenticate less than they should: a server that offers only anonymous
// suites never yields an "ok" handshake (the legacy fallback offers no aNULL/eNULL suite),
// and a server that refuses us for want of a client certificate still has the chain it sent
// captured and judged, in TLS 1.2 and in TLS 1.3 (where the refusal comes after our
// Finished). Issue 11, items 7 and 9.
#include "certs/trust_store.hpp"
#include "inspect/codes.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/probe/handshake.hpp"
#include "proxy/probe/prober.hpp"
#include "support/loopback_server.hpp"
#include "support/probe_once.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <atomic>
#include <stdexcept>

using namespace tlsprobe;
using namespace std::chrono_literals;
using inspect::FailureKind;
using inspect::HandshakeOutcome;

namespace {

// A TLS 1.0-1.2 server at security level 0 whose only suites are anonymous (ADH/AECDH):
// it has no certificate at all.
class AnonymousOnlyServer : public testsupport::LoopbackServer {
 public:
  AnonymousOnlyServer()
      : LoopbackServer([this](int fd) { serve(fd); }, 2, Deferred{}),
        ctx_(SSL_CTX_new(TLS_server_method())) {
    if (!ctx_) throw std::runtime_error("SSL_CTX_new");
    SSL_CTX_set_security_level(ctx_.get(), 0);
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx_.get(), TLS1_2_VERSION);  // TLS 1.3 has no anon suite
    if (SSL_CTX_set_cipher_list(ctx_.get(), "aNULL:!eNULL:@SECLEVEL=0") != 1)
      throw std::runtime_error("no anonymous suite in this OpenSSL");
    SSL_CTX_set_dh_auto(ctx_.get(), 1);
    start();
  }
  ~AnonymousOnlyServer() override { stop(); }
  std::size_t completed() const { return completed_.load(); }

 private:
  void serve(int fd) {
    timeval tv{5, 0};  // a blocking handshake, bounded
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) {
      ++completed_;
      SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
  }
  certs::SslCtxPtr ctx_;
  std::atomic<std::size_t> completed_{0};
};

inspect::Observations probe_at(const std::string& address) {
  proxy::ProbeRequest r;
  r.host = "auth.test";
  r.connect = address;
  r.sni_checks = proxy::SniChecks::off;
  r.timeout = 8s;
  return testsupport::probe_once(std::move(r));
}

}  // namespace

TEST_CASE("the legacy fallback offers no anonymous or NULL suite", "[handshake][anon]") {
  proxy::ClientContexts contexts;
  for (SSL_CTX* ctx : {contexts.modern(), contexts.legacy()}) {
    certs::SslPtr ssl{SSL_new(ctx)};
    STACK_OF(SSL_CIPHER)* offered = SSL_get1_supported_ciphers(ssl.get());
    REQUIRE(offered);
    REQUIRE(sk_SSL_CIPHER_num(offered) > 0);
    for (int i = 0; i < sk_SSL_CIPHER_num(offered); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(offered, i);
      INFO(SSL_CIPHER_get_name(c));
      CHECK(SSL_CIPHER_get_auth_nid(c) != NID_auth_null);
      CHECK(SSL_CIPHER_get_cipher_nid(c) != NID_undef);
    }
    sk_SSL_CIPHER_free(offered);
  }
}

TEST_CASE("a server with only anonymous suites: a failed handshake, never ok",
          "[handshake][anon]") {
  AnonymousOnlyServer server;
  const auto obs = probe_at(server.address());
  REQUIRE(obs.handshakes.size() == 1);
  const auto& h = obs.handshakes[0];
  INFO(h.failure_detail);
  CHECK(h.outcome == HandshakeOutcome::handshake_failed);
  CHECK(h.chain.empty());
  // The only handshake that may complete is the diagnostic "offer anything" attempt made
  // after the refusal (it names what the server speaks); it judges nothing and trusts nothing.
  // The server counts a completed handshake after the client may have returned: at most one.
  CHECK(server.completed() <= 1);
  REQUIRE(obs.compat.anything.has_value());
  INFO(obs.compat.anything->cipher);
  CHECK(obs.compat.anything->ok);
  CHECK((obs.compat.anything->cipher.find("ADH") != std::string::npos ||
         obs.compat.anything->cipher.find("AECDH") != std::string::npos));
  const auto trust = certs::TrustStore::from_anchors({});
  inspect::DiagnoseOptions o;
  o.at = testpki::fixed_now();
  o.trust = &trust;
  const auto fs = inspect::diagnose(obs, o);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == inspect::codes::tls_handshake_failed);
}

TEST_CASE("client certificate required: the chain sent before the refusal is captured and judged",
          "[handshake][clientauth]") {
  // A chain with a fault of its own: the leaf is sent without its intermediate.
  static const auto h = testpki::make_hierarchy({"auth.test"});
  const auto trust = certs::TrustStore::from_anchors({h.root.cert});
  const auto version =
      GENERATE(testsupport::TlsVersions::tls12_only, testsupport::TlsVersions::tls13_only);
  const std::string version_name =
      version == testsupport::TlsVersions::tls12_only ? "TLS 1.2" : "TLS 1.3";
  INFO(version_name);
  testsupport::TlsServerOptions so;
  so.default_chain = testsupport::ServedChain::of(h.leaf);
  so.require_client_cert = true;
  so.versions = version;
  testsupport::TlsTestServer server(so);
  const auto obs = probe_at(server.address());
  REQUIRE(obs.handshakes.size() == 1);
  const auto& hs = obs.handshakes[0];
  INFO(hs.failure_detail);
  CHECK(hs.outcome == HandshakeOutcome::handshake_failed);
  CHECK(hs.failure == FailureKind::client_cert_required);
  REQUIRE(hs.chain.size() == 1);
  CHECK(hs.chain[0] == h.leaf.cert);
  CHECK(inspect::chain_judged(hs));

  inspect::DiagnoseOptions o;
  o.at = testpki::fixed_now();
  o.trust = &trust;
  const auto fs = inspect::diagnose(obs, o);
  bool refusal = false, incomplete = false;
  for (const auto& f : fs) {
    if (f.code == inspect::codes::tls_handshake_failed) refusal = true;
    if (f.code == inspect::codes::chain_incomplete) incomplete = true;
  }
  CHECK(refusal);
  CHECK(incomplete);
}
