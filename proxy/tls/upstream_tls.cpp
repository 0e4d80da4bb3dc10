#include "proxy/tls/upstream_tls.hpp"

#include "certs/leaf_minter.hpp"
#include "inspect/upstream_acceptable.hpp"
#include "proxy/http/http_util.hpp"
#include "proxy/probe/staple_capture.hpp"
#include "proxy/tls/tls_failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/err.h>

#include <cstring>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// SSL ex_data slot holding the session-store key of a connection (an OPENSSL_strdup copy,
// freed by OpenSSL with the SSL): TLS 1.3 tickets arrive after the handshake, during reads,
// when only the SSL is at hand.
void free_key(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { OPENSSL_free(ptr); }
// SSL_CTX ex_data slot for the owning UpstreamTls (not app_data: Asio's ssl::context keeps
// its verify callback there and deletes it in its destructor).
int owner_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int key_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_key);
  return index;
}

std::string version_text(int v) {
  switch (v) {
    case TLS1_3_VERSION:
      return "1.3";
    case TLS1_2_VERSION:
      return "1.2";
    case TLS1_1_VERSION:
      return "1.1";
    case TLS1_VERSION:
      return "1.0";
    default:
      return "";
  }
}

// The facts of a failed Asio handshake for the shared classifier (proxy/tls/tls_failure.hpp):
// the connection's watchdog cancels the socket at the deadline (operation_aborted); a
// received alert comes as OpenSSL's reason in the error code.
TlsFailureFacts failure_facts(const boost::system::error_code& ec) {
  TlsFailureFacts f;
  f.transport_error = ec.message();
  if (ec == asio::error::operation_aborted) {
    f.transport = TransportEnd::timed_out;
  } else if (ec == asio::error::eof || ec == asio::error::connection_reset ||
             ec == asio::ssl::error::stream_truncated) {
    f.transport = TransportEnd::peer_closed;
  } else if (ec.category() == asio::error::get_ssl_category()) {
    f.transport = TransportEnd::open;
    f.openssl_reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    f.openssl_text = ec.message();
  } else {
    f.transport = TransportEnd::error;
  }
  return f;
}

}  // namespace

UpstreamTls::UpstreamTls(Options options)
    : options_(std::move(options)),
      ctx_(asio::ssl::context::tls_client),
      verdicts_(options_.verdict_ttl, options_.max_verdicts) {
  SSL_CTX* c = ctx_.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  // Verification is ours, after the handshake (verify_chain + diagnose, cached): the
  // handshake itself accepts any chain so that a bad one can be explained, and no byte
  // of the upstream's is relayed before the verdict.
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  // Client-side session cache without OpenSSL's internal store: we keep one session per
  // (host, port, SNI) ourselves and hand it to the next connection.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_set_ex_data(c, owner_index(), this);
  SSL_CTX_sess_set_new_cb(c, &UpstreamTls::on_new_session);
  key_index();
}

UpstreamTls::~UpstreamTls() = default;

std::string UpstreamTls::session_key(const UpstreamSpec& spec) {
  return spec.address + "|" + spec.host + "|" + (spec.sni ? *spec.sni : std::string("\x01")) +
         (spec.tls13_only ? "|13" : "");
}

int UpstreamTls::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<UpstreamTls*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), owner_index()));
  const auto* key = static_cast<const char*>(SSL_get_ex_data(ssl, key_index()));
  if (!self || !key) return 0;
  // A copy, not `session` itself: `session` stays the connection's, and OpenSSL marks it
  // not resumable when that SSL is freed without sending close_notify (ssl_clear_bad_session),
  // which is how the proxy ends most upstream connections (the client went away). Stored
  // as it was, a later connection offered a dead ticket and made a full handshake (and the
  // server stapled again) whenever the first connection had been freed by then.
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (!copy) return 0;
  self->store_session(key, ssl, copy);
  return 0;  // `session` stays OpenSSL's (SSL_CTX_sess_set_new_cb contract)
}

void UpstreamTls::store_session(const std::string& key, SSL* ssl, SSL_SESSION* session) {
  StoredSession stored{std::shared_ptr<SSL_SESSION>(session, &SSL_SESSION_free), {}, {}};
  const bool resumed = SSL_session_reused(ssl) == 1;
  if (!resumed) {
    inspect::HandshakeObservation full;
    capture_staple_and_scts(ssl, full);
    stored.ocsp_staple = std::move(full.ocsp_staple);
    stored.tls_scts = std::move(full.tls_scts);
  }
  std::lock_guard lock(mutex_);
  if (resumed) {
    // A ticket issued on a resumed connection: the staple is still the full handshake's.
    if (auto it = sessions_.find(key); it != sessions_.end()) {
      stored.ocsp_staple = it->second.ocsp_staple;
      stored.tls_scts = it->second.tls_scts;
    }
  }
  if (sessions_.size() >= options_.max_sessions) sessions_.clear();  // crude bound, rare
  sessions_[key] = std::move(stored);
}

asio::awaitable<inspect::HandshakeObservation> UpstreamTls::handshake(TlsStream& stream,
                                                                      const UpstreamSpec& spec) {
  inspect::HandshakeObservation h;
  h.role = inspect::Role::direct;
  h.host = spec.host;
  h.port = spec.port;
  h.address = spec.address;
  // An IP literal is never sent as SNI (RFC 6066 section 3, DESIGN.md section 8).
  if (spec.sni && !spec.sni->empty() && !is_ip_literal(certs::normalize_host(*spec.sni)))
    h.sni = spec.sni;
  SSL* ssl = stream.native_handle();
  if (h.sni) SSL_set_tlsext_host_name(ssl, h.sni->c_str());
  static constexpr unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(ssl, alpn, sizeof alpn);
  if (spec.tls13_only) SSL_set_min_proto_version(ssl, TLS1_3_VERSION);
  const std::string key = session_key(spec);
  SSL_set_ex_data(ssl, key_index(), OPENSSL_strdup(key.c_str()));
  // Revocation and transparency facts, as every handshake of the prober asks for them: the
  // diagnosis reads a missing staple as ocsp.not_stapled (proxy/probe/staple_capture.hpp).
  request_staple_and_scts(ssl);
  std::optional<StoredSession> offered;
  {
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(key); it != sessions_.end()) offered = it->second;
  }
  if (offered) SSL_set_session(ssl, offered->session.get());  // takes its own reference
  const auto started = std::chrono::steady_clock::now();
  ERR_clear_error();
  auto [ec] =
      co_await stream.async_handshake(asio::ssl::stream_base::client, as_tuple(use_awaitable));
  h.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (ec) {
    record_failure(h, classify_tls_failure(failure_facts(ec)));
    co_return h;
  }
  capture_staple_and_scts(ssl, h);
  if (SSL_session_reused(ssl)) {
    // The server staples in full handshakes only: the session's own full handshake's.
    if (offered && h.ocsp_staple.empty()) h.ocsp_staple = offered->ocsp_staple;
    if (offered && h.tls_scts.empty()) h.tls_scts = offered->tls_scts;
    std::lock_guard lock(mutex_);
    ++resumed_;
  }
  h.outcome = inspect::HandshakeOutcome::ok;
  h.tls_version = version_text(SSL_version(ssl));
  if (const char* cipher = SSL_get_cipher_name(ssl)) h.cipher = cipher;
  const unsigned char* sel = nullptr;
  unsigned sel_len = 0;
  SSL_get0_alpn_selected(ssl, &sel, &sel_len);
  if (sel) h.alpn.assign(reinterpret_cast<const char*>(sel), sel_len);
  // Client side: the stack holds the leaf first, as sent (kept in a resumed session too).
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i)
      h.chain.push_back(certs::Certificate::from_x509(sk_X509_value(chain, i)));
  }
  co_return h;
}

std::string UpstreamTls::verified_name(const inspect::HandshakeObservation& h) {
  if (h.sni && !h.sni->empty()) return certs::normalize_host(*h.sni);
  return certs::normalize_host(h.host);
}

std::string UpstreamTls::verdict_key(const inspect::HandshakeObservation& h) {
  // The name the verdict vouches for, then the chain: a verdict for good.example's chain is
  // never found under bank.example, whatever host the tunnel was opened to.
  std::string key = verified_name(h);
  for (const auto& c : h.chain) key += "|" + c.sha256_hex();
  return key;
}

std::shared_ptr<const UpstreamVerdict> UpstreamTls::cached_verdict(
    const inspect::HandshakeObservation& h) {
  return verdicts_.find(verdict_key(h));
}

std::shared_ptr<const UpstreamVerdict> UpstreamTls::verdict(
    const inspect::HandshakeObservation& direct,
    const std::vector<inspect::HandshakeObservation>& extra) {
  if (extra.empty())
    if (auto v = cached_verdict(direct)) return v;
  auto v = std::make_shared<UpstreamVerdict>();
  v->name = verified_name(direct);
  v->role = direct.role;
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  if (direct.chain.empty()) {
    v->verify.openssl_text = "no certificate";
  } else {
    certs::VerifyOptions vo;
    vo.at = now;
    vo.host = v->name;
    v->verify = certs::verify_chain(direct.chain, options_.trust, vo);
  }
  // The diagnosis checks names against the handshake's host: make that the verified name
  // (the SNI), so that name.mismatch is about the name the client asked for, not the CONNECT
  // authority (which only said where to connect).
  inspect::HandshakeObservation checked = direct;
  checked.host = v->name;
  inspect::Observations obs;
  obs.host = checked.host;
  obs.port = checked.port;
  obs.target = config::format_host_port(checked.host, checked.port);
  obs.handshakes.push_back(std::move(checked));
  for (const auto& e : extra)
    if (e.role == inspect::Role::nosni || e.role == inspect::Role::othersni)
      obs.handshakes.push_back(e);
  inspect::Findings findings;
  if (options_.diagnose) {
    findings = options_.diagnose(obs);
  } else {
    inspect::DiagnoseOptions o;
    o.at = now;
    o.warn_days = options_.warn_days;
    o.trust = &options_.trust;
    findings = inspect::diagnose(obs, o);
  }
  for (auto& f : findings)
    if (f.role != inspect::Role::client) v->findings.push_back(std::move(f));
  v->failed =
      direct.chain.empty() || !inspect::upstream_acceptable(v->verify, v->findings, v->role);
  {
    std::lock_guard lock(mutex_);
    ++verifications_;
  }
  verdicts_.store(verdict_key(direct), v);
  return v;
}

inspect::Findings UpstreamTls::diagnose_failure(const inspect::HandshakeObservation& h) const {
  inspect::Observations obs;
  obs.host = h.host;
  obs.port = h.port;
  obs.target = config::format_host_port(h.host, h.port);
  obs.handshakes.push_back(h);
  if (options_.diagnose) return options_.diagnose(obs);
  inspect::DiagnoseOptions o;
  o.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  o.warn_days = options_.warn_days;
  o.trust = &options_.trust;
  return inspect::diagnose(obs, o);
}

}  // namespace tlsprobe::proxy
