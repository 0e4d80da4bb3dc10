// The intercepting proxy's upstream TLS side (issue 4 point 3, DESIGN.md sections 7 and 8):
// - one shared client SSL_CTX: TLS 1.2 or newer (1.3 only when the client offered only 1.3:
//   the upstream never gets weaker versions than the client offered), OpenSSL's default
//   cipher lists at the default security level (no RC4, NULL, export, single DES), ALPN
//   http/1.1 only, and a per (host, port, SNI) session store for resumption;
// - SNI exactly as the client sent it, none when it sent none, never an IP literal;
// - strict verification after the handshake: certs::verify_chain with the proxy's trust
//   (system plus configured anchors, host name, current time) AND inspect::diagnose: any
//   error finding (weak key, SHA-1 signature, wrong name, ...) fails the upstream too;
// - the name verified is the client's SNI; the CONNECT host only when the client sent no
//   SNI (verified_name()): the CONNECT authority says where to connect, never what the
//   minted leaf may claim (issue 12 item 1);
// - the verdict cached per (verified name, chain SHA-256) for the cache TTL (VerdictCache),
//   so a new connection to a known upstream costs the two handshakes and nothing more;
// - the decision on the result: inspect::upstream_acceptable (the same rule for reverse's
//   origins, which use this class too).
#pragma once

#include "certs/trust_store.hpp"
#include "certs/verify.hpp"
#include "inspect/diagnose.hpp"
#include "inspect/observation.hpp"
#include "proxy/tls/verdict_cache.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tlsprobe::proxy {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

// The upstream's verification result, shared by every connection with the same key: the
// one verdict type of intercept (role direct) and reverse (role origin).
struct UpstreamVerdict {
  std::string name;                            // the name verified (UpstreamTls::verified_name)
  inspect::Role role = inspect::Role::direct;  // the handshake's role: direct or origin
  // Not inspect::upstream_acceptable(verify, findings, role), or no certificate at all:
  // never vouched for (never laundered behind a minted leaf, never forwarded to).
  bool failed = false;
  certs::VerifyResult verify;  // OpenSSL's path verification (a fact, not the decision)
  inspect::Findings findings;  // the upstream's findings (client.* left out), worst first
};

struct UpstreamSpec {
  std::string host;  // CONNECT host (name or IP literal): verified only when there is no SNI
  std::uint16_t port = 443;
  std::string address;             // "ip:port" dialled
  std::optional<std::string> sni;  // what the client sent (an IP literal is dropped here)
  bool tls13_only = false;         // the client offered nothing older than TLS 1.3
};

class UpstreamTls {
 public:
  struct Options {
    certs::TrustStore trust;
    int warn_days = 21;
    std::chrono::seconds verdict_ttl{600};
    std::size_t max_verdicts = 10'000;
    std::size_t max_sessions = 10'000;
    // The proxy's diagnosis (inspect::diagnose with its configured options); empty: diagnose
    // with `trust` and `warn_days` only.
    std::function<inspect::Findings(const inspect::Observations&)> diagnose = nullptr;
  };
  explicit UpstreamTls(Options options);
  ~UpstreamTls();
  UpstreamTls(const UpstreamTls&) = delete;
  UpstreamTls& operator=(const UpstreamTls&) = delete;

  boost::asio::ssl::context& context() { return ctx_; }
  const certs::TrustStore& trust() const { return options_.trust; }
  int warn_days() const { return options_.warn_days; }

  // Prepares `stream`'s SSL for `spec` (SNI, ALPN, versions, a stored session) and runs the
  // handshake. Never throws; the observation says ok or handshake_failed (with the reason).
  // The caller bounds it with its connection deadline.
  boost::asio::awaitable<inspect::HandshakeObservation> handshake(TlsStream& stream,
                                                                  const UpstreamSpec& spec);

  // The verdict for an ok handshake: from the cache, or verified and diagnosed now.
  // `extra` (nosni/othersni handshakes of the side probe) only refines name findings into
  // sni.default_cert; a verdict computed with extras is cached the same way.
  std::shared_ptr<const UpstreamVerdict> verdict(
      const inspect::HandshakeObservation& direct,
      const std::vector<inspect::HandshakeObservation>& extra = {});
  // A cached verdict, or null.
  std::shared_ptr<const UpstreamVerdict> cached_verdict(const inspect::HandshakeObservation& h);

  // Diagnosis of a failed handshake (tls.handshake_failed and friends).
  inspect::Findings diagnose_failure(const inspect::HandshakeObservation& h) const;

  std::uint64_t verifications() const { return verifications_; }
  const VerdictCache& verdicts() const { return verdicts_; }
  std::uint64_t resumed() const { return resumed_; }

  // The name a handshake is verified for and a leaf may be minted for: its SNI (normalized),
  // or its host when it was made without SNI.
  static std::string verified_name(const inspect::HandshakeObservation& h);
  static std::string verdict_key(const inspect::HandshakeObservation& h);
  static std::string session_key(const UpstreamSpec& spec);

 private:
  // A resumable session with what its full handshake stapled: a resumed handshake carries
  // no staple and no TLS-extension SCTs, and must not read as a server that sends none.
  struct StoredSession {
    std::shared_ptr<SSL_SESSION> session;
    std::string ocsp_staple;
    std::vector<std::string> tls_scts;
  };

  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  // Takes ownership of `session` (a copy of the connection's, see on_new_session).
  void store_session(const std::string& key, SSL* ssl, SSL_SESSION* session);

  Options options_;
  boost::asio::ssl::context ctx_;
  std::mutex mutex_;
  VerdictCache verdicts_;
  std::unordered_map<std::string, StoredSession> sessions_;
  std::uint64_t verifications_ = 0, resumed_ = 0;
};

}  // namespace tlsprobe::proxy
