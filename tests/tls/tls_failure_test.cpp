// classify_tls_failure: the one reading of a failed TLS client handshake, for the prober's
// engine and the proxy's upstream TLS. The rules on hand-made facts, then on what a real
// OpenSSL client reports (memory BIOs, no network) for two failures users meet.
#include "proxy/tls/tls_failure.hpp"
#include "certs/ossl.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <string>

using namespace tlsprobe;
using inspect::FailureKind;
using proxy::TlsFailureFacts;
using proxy::TransportEnd;

namespace {

TlsFailureFacts tls_error(int reason, std::string text = "") {
  TlsFailureFacts f;
  f.transport = TransportEnd::open;
  f.openssl_reason = reason;
  f.openssl_text = std::move(text);
  return f;
}

int alert_reason(int description) { return SSL_AD_REASON_OFFSET + description; }

// A client handshake over memory BIOs: `server_bytes` is all the server ever says (or, with
// `server_ctx`, a real server over a second pair of BIOs answers). Returns the facts the
// prober's engine would gather: OpenSSL's first error reason and its text.
TlsFailureFacts client_facing(const std::string& server_bytes, SSL_CTX* server_ctx,
                              int client_max_version) {
  certs::SslCtxPtr cctx{SSL_CTX_new(TLS_client_method())};
  REQUIRE(cctx);
  if (client_max_version) SSL_CTX_set_max_proto_version(cctx.get(), client_max_version);
  certs::SslPtr client{SSL_new(cctx.get())};
  REQUIRE(client);
  BIO* c_in = BIO_new(BIO_s_mem());
  BIO* c_out = BIO_new(BIO_s_mem());
  SSL_set_bio(client.get(), c_in, c_out);  // the SSL owns both BIOs from here
  SSL_set_connect_state(client.get());
  certs::SslPtr server;
  BIO *s_in = nullptr, *s_out = nullptr;
  if (server_ctx) {
    server.reset(SSL_new(server_ctx));
    REQUIRE(server);
    s_in = BIO_new(BIO_s_mem());
    s_out = BIO_new(BIO_s_mem());
    SSL_set_bio(server.get(), s_in, s_out);  // owned by the server SSL
    SSL_set_accept_state(server.get());
  } else {
    BIO_write(c_in, server_bytes.data(), static_cast<int>(server_bytes.size()));
  }
  TlsFailureFacts facts;
  for (int round = 0; round < 8; ++round) {  // bounded: a handshake takes a few flights
    ERR_clear_error();
    const int r = SSL_do_handshake(client.get());
    const int err = SSL_get_error(client.get(), r);
    if (r <= 0 && err != SSL_ERROR_WANT_READ) {
      facts.openssl_reason = ERR_GET_REASON(ERR_peek_error());
      facts.openssl_text = certs::openssl_errors();
      return facts;
    }
    if (!server) break;
    // Shuttle the flights both ways.
    char buf[16384];
    for (int n; (n = BIO_read(c_out, buf, sizeof buf)) > 0;) BIO_write(s_in, buf, n);
    ERR_clear_error();
    SSL_do_handshake(server.get());
    for (int n; (n = BIO_read(s_out, buf, sizeof buf)) > 0;) BIO_write(c_in, buf, n);
  }
  FAIL("the client handshake did not fail");
  return facts;
}

}  // namespace

TEST_CASE("tls failure: how the socket ended comes first", "[tls_failure]") {
  TlsFailureFacts f;
  f.transport = TransportEnd::timed_out;
  f.openssl_reason = SSL_R_WRONG_VERSION_NUMBER;
  CHECK(proxy::classify_tls_failure(f).kind == FailureKind::handshake_timeout);

  f = {};
  f.transport = TransportEnd::peer_closed;
  f.transport_error = "End of file";
  const auto closed = proxy::classify_tls_failure(f);
  CHECK(closed.kind == FailureKind::closed);
  CHECK(closed.detail.find("End of file") != std::string::npos);

  f.certificate_requested = true;  // it asked for a certificate, then hung up on us
  CHECK(proxy::classify_tls_failure(f).kind == FailureKind::client_cert_required);

  f = {};
  f.transport = TransportEnd::error;
  f.transport_error = "Network is unreachable";
  CHECK(proxy::classify_tls_failure(f).kind == FailureKind::network);
}

TEST_CASE("tls failure: client certificates, versions, alerts, not TLS", "[tls_failure]") {
  // A received alert reaches the Asio engine only as OpenSSL's reason.
  auto f = tls_error(alert_reason(proxy::kAlertCertificateRequired));
  auto c = proxy::classify_tls_failure(f);
  CHECK(c.kind == FailureKind::client_cert_required);
  CHECK(c.alert == "certificate_required");

  // handshake_failure after a CertificateRequest: our missing certificate; without one, an
  // ordinary alert.
  f = tls_error(0);
  f.alert_received = proxy::kAlertHandshakeFailure;
  CHECK(proxy::classify_tls_failure(f).kind == FailureKind::alert);
  CHECK(proxy::classify_tls_failure(f).alert == "handshake_failure");
  f.certificate_requested = true;
  CHECK(proxy::classify_tls_failure(f).kind == FailureKind::client_cert_required);

  CHECK(proxy::classify_tls_failure(tls_error(alert_reason(proxy::kAlertProtocolVersion))).kind ==
        FailureKind::no_common_version);
  CHECK(proxy::classify_tls_failure(tls_error(SSL_R_UNSUPPORTED_PROTOCOL)).kind ==
        FailureKind::no_common_version);
  f = tls_error(0);
  f.alert_sent = proxy::kAlertProtocolVersion;  // we refused the server's version
  CHECK(proxy::classify_tls_failure(f).kind == FailureKind::no_common_version);
  CHECK(proxy::classify_tls_failure(f).alert == "protocol_version");

  CHECK(proxy::classify_tls_failure(tls_error(alert_reason(proxy::kAlertUnknownCa))).kind ==
        FailureKind::alert);
  CHECK(proxy::classify_tls_failure(tls_error(SSL_R_WRONG_VERSION_NUMBER)).kind ==
        FailureKind::not_tls);
  CHECK(proxy::classify_tls_failure(tls_error(SSL_R_PACKET_LENGTH_TOO_LONG)).kind ==
        FailureKind::not_tls);
  const auto other = proxy::classify_tls_failure(tls_error(SSL_R_BAD_ECPOINT, "bad ecpoint"));
  CHECK(other.kind == FailureKind::other);
  CHECK(other.detail == "bad ecpoint");
}

TEST_CASE("tls failure: a server that answers in HTTP does not speak TLS (real OpenSSL)",
          "[tls_failure]") {
  const auto facts =
      client_facing("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", nullptr, 0);
  CAPTURE(facts.openssl_reason, facts.openssl_text);
  CHECK(proxy::classify_tls_failure(facts).kind == FailureKind::not_tls);
}

TEST_CASE(
    "tls failure: a TLS 1.2 client and a TLS 1.3-only server share no version (real "
    "OpenSSL)",
    "[tls_failure]") {
  certs::SslCtxPtr sctx{SSL_CTX_new(TLS_server_method())};
  REQUIRE(sctx);
  SSL_CTX_set_min_proto_version(sctx.get(), TLS1_3_VERSION);
  const auto facts = client_facing("", sctx.get(), TLS1_2_VERSION);
  CAPTURE(facts.openssl_reason, facts.openssl_text);
  const auto c = proxy::classify_tls_failure(facts);
  CHECK(c.kind == FailureKind::no_common_version);
  CHECK(c.alert == "protocol_version");
}

TEST_CASE("tls failure: record_failure fills the observation", "[tls_failure]") {
  inspect::HandshakeObservation h;
  proxy::record_failure(h, proxy::classify_tls_failure(tls_error(alert_reason(40))));
  CHECK(h.outcome == inspect::HandshakeOutcome::handshake_failed);
  CHECK(h.failure == FailureKind::alert);
  CHECK(h.alert == "handshake_failure");
  CHECK_FALSE(h.failure_detail.empty());
}
