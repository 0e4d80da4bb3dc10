// One TLS client handshake against one address, as plain data: resolve (or dial a given
// address), TCP connect, TLS handshake that accepts any certificate (diagnosis judges the
// chain afterwards), capture of the chain exactly as sent. Each step is bounded by the
// handshake's deadline; the result is always an inspect::HandshakeObservation, never an
// exception. Used by Prober (prober.hpp); other code should go through Prober.
#pragma once

#include "certs/ossl.hpp"
#include "inspect/observation.hpp"
#include "proxy/probe/client_identity.hpp"
#include "proxy/probe/ip_family.hpp"
#include "proxy/probe/starttls.hpp"
#include "proxy/tls/tls_failure.hpp"

#include <openssl/ssl.h>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tlsprobe::proxy {

// The client SSL_CTXs a prober uses, created once (SSL_CTX creation is expensive) and
// shared by every handshake. Session resumption is off: a resumed session skips the
// Certificate message, and a probe exists to see it.
class ClientContexts {
 public:
  ClientContexts();
  // TLS 1.2 and 1.3, default security level: what a current client offers.
  SSL_CTX* modern() const { return modern_.get(); }
  // TLS 1.0 and 1.1 only at security level 0: used once per target, only when the modern
  // handshake failed in a way a version mismatch explains (tls.protocol_old).
  SSL_CTX* legacy() const { return legacy_.get(); }

 private:
  certs::SslCtxPtr modern_, legacy_;
};

enum class TlsFlavor { modern, legacy };

struct HandshakeSpec {
  inspect::Role role = inspect::Role::direct;
  std::string host;  // the name asked for (recorded in the observation; resolved unless `dial`)
  std::uint16_t port = 443;
  // "ADDR:PORT" to connect to instead of resolving `host` (--connect, [resolve]); empty:
  // resolve. A host name here ("other.example:8443") is resolved in its place.
  std::string dial;
  IpFamily family = IpFamily::any;                 // -4 / -6: only addresses of this family
  StartTls starttls = StartTls::none;              // plaintext dialogue before TLS (--starttls)
  std::shared_ptr<const ClientIdentity> identity;  // client certificate offered (--cert/--key)
  std::optional<std::string> sni;  // sent exactly as given; nullopt: no SNI extension
  TlsFlavor flavor = TlsFlavor::modern;
  // Set: called on the new SSL (of the flavor's context) before the handshake, to offer
  // something else (versions, suites, groups, security level: proxy/probe/tls_scan.hpp). False
  // fails the handshake with FailureKind::other ("cannot offer ...").
  std::function<bool(SSL*)> configure;
  std::chrono::steady_clock::time_point deadline;  // bounds every step
};

using HandshakeDone = std::function<void(inspect::HandshakeObservation)>;

// Starts one handshake on `executor` (give each handshake its own strand when the
// io_context runs on several threads). `done` is called exactly once, on that executor.
// `contexts` must outlive the handshake.
void async_handshake(const boost::asio::any_io_executor& executor, const ClientContexts& contexts,
                     HandshakeSpec spec, HandshakeDone done);

// True when a failed modern handshake may be a protocol-version problem, so that a legacy
// handshake is worth trying (alert protocol_version / handshake_failure, no common version).
bool worth_legacy_retry(const inspect::HandshakeObservation& obs);
// Stable name of a failure kind for output ("connect_timeout").
std::string_view failure_name(inspect::FailureKind kind);

}  // namespace tlsprobe::proxy
