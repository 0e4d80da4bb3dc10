#include "proxy/reverse_upstream.hpp"

#include "certs/ossl.hpp"
#include "proxy/handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace tlsprobe::proxy {

using asio::as_tuple;
using asio::use_awaitable;
using inspect::FailureKind;
using inspect::HandshakeOutcome;

namespace {

// Our own ex_data slot: asio keeps its verify callback in the SSL's app data and deletes
// whatever it finds there, so the alert slot must live elsewhere.
int alert_slot() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Records the last TLS alert the origin sent into the int the slot points at (set only
// while the handshake runs, cleared before that int goes away).
void on_info(const SSL* ssl, int where, int ret) {
  if (!(where & SSL_CB_READ_ALERT)) return;
  auto* alert = static_cast<int*>(SSL_get_ex_data(ssl, alert_slot()));
  if (alert) *alert = ret & 0xff;
}

}  // namespace

std::string observation_address(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(ep.port())
                   : a.to_string() + ":" + std::to_string(ep.port());
}

asio::awaitable<inspect::HandshakeObservation> origin_handshake(SessionConnection& conn,
                                                                OriginStream& stream,
                                                                const OriginHandshakeSpec& spec) {
  inspect::HandshakeObservation obs;
  obs.role = inspect::Role::origin;
  obs.host = spec.name;
  obs.port = spec.port;
  obs.address = spec.address;
  obs.sni = spec.sni;
  SSL* ssl = stream.native_handle();
  if (spec.sni) SSL_set_tlsext_host_name(ssl, spec.sni->c_str());
  int alert = -1;
  SSL_set_ex_data(ssl, alert_slot(), &alert);
  SSL_set_info_callback(ssl, on_info);
  const auto started = std::chrono::steady_clock::now();
  conn.expires_after(spec.timeout);
  ERR_clear_error();
  auto [ec] =
      co_await stream.async_handshake(asio::ssl::stream_base::client, as_tuple(use_awaitable));
  SSL_set_info_callback(ssl, nullptr);
  SSL_set_ex_data(ssl, alert_slot(), nullptr);
  obs.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i)
      obs.chain.push_back(certs::Certificate::from_x509(sk_X509_value(chain, i)));
  }
  if (ec) {
    obs.outcome = HandshakeOutcome::handshake_failed;
    if (conn.timed_out) {
      obs.failure = FailureKind::handshake_timeout;
      obs.failure_detail = "the origin did not complete the TLS handshake within " +
                           std::to_string(spec.timeout.count()) + " ms";
    } else if (alert >= 0) {
      obs.failure = FailureKind::alert;
      obs.alert = alert_name(alert);
      obs.failure_detail = "the origin sent the TLS alert " + obs.alert;
    } else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
               ec == asio::error::connection_reset) {
      obs.failure = FailureKind::closed;
      obs.failure_detail = "the origin closed the connection during the handshake";
    } else if (ec.category() == asio::error::get_ssl_category() &&
               ERR_GET_REASON(ec.value()) == SSL_R_WRONG_VERSION_NUMBER) {
      obs.failure = FailureKind::not_tls;
      obs.failure_detail = "the origin does not speak TLS (" + ec.message() + ")";
    } else if (ec.category() == asio::error::get_ssl_category() &&
               (ERR_GET_REASON(ec.value()) == SSL_R_UNSUPPORTED_PROTOCOL ||
                ERR_GET_REASON(ec.value()) == SSL_R_NO_PROTOCOLS_AVAILABLE)) {
      obs.failure = FailureKind::no_common_version;
      obs.failure_detail = "no protocol version in common (" + ec.message() + ")";
    } else {
      obs.failure = FailureKind::other;
      obs.failure_detail = "the TLS handshake with the origin failed: " + ec.message();
    }
    ERR_clear_error();
    co_return obs;
  }
  std::string version = SSL_get_version(ssl);  // "TLSv1.3"
  if (version.rfind("TLSv", 0) == 0) version = version.substr(4);
  obs.tls_version = version;
  obs.cipher = SSL_get_cipher_name(ssl);
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn) obs.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  co_return obs;
}

}  // namespace tlsprobe::proxy
