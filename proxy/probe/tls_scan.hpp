// What a server accepts, found with handshakes (issue 15 item 1). Two parts:
// - offers: SSL configurations that make one handshake offer exactly a client profile, DHE
//   suites only, TLS 1.0/1.1 only, or everything this OpenSSL has; the prober runs them as
//   the cheap compatibility handshakes of every probe (inspect::CompatFacts);
// - the bounded enumeration behind `probe --clients` / `--deep` (inspect::TlsScan): each
//   protocol version alone, then per version the classic loop "offer every suite, note the
//   one the server chose, remove it, again" (plus one handshake offering them reversed, to
//   tell whether the server enforces its own order), then each key-exchange group alone.
//   At most `max_in_flight` handshakes at once and `max_handshakes` in all, every one under
//   the probe's deadline.
// Security level 0 is set per SSL only for these handshakes: Debian 12's OpenSSL offers no
// TLS 1.0/1.1, SHA-1 signatures or small DH groups at its default level 2, so without it
// the scan could not see what old clients would get.
#pragma once

#include "inspect/client_profiles.hpp"
#include "inspect/observation.hpp"
#include "proxy/probe/handshake.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>

namespace tlsprobe::proxy {

using SslConfigure = std::function<bool(SSL*)>;

// Offers exactly what `profile` offers: its versions, suites in its order, its groups that
// OpenSSL 3.0 knows, its signature algorithms (those OpenSSL knows).
SslConfigure offer_profile(const inspect::ClientProfile& profile);
// DHE suites only (TLS 1.0-1.2), security level 0.
SslConfigure offer_dhe_only();
// TLS 1.0 and 1.1 only, every suite but NULL/anonymous ones, security level 0.
SslConfigure offer_legacy();
// TLS 1.0-1.3, every suite this OpenSSL has (NULL and anonymous included, PSK/SRP
// excluded: they need a secret), security level 0.
SslConfigure offer_anything();

// The compatibility view of one handshake.
inspect::TlsAttempt to_attempt(const inspect::HandshakeObservation& obs);

struct ScanLimits {
  int max_handshakes = 200;  // in all (OpenSSL 3.0 has 92 non-PSK suites; servers accept few)
  int max_in_flight = 4;     // at once
};

using ScanDone = std::function<void(inspect::TlsScan)>;

// Starts the enumeration against what `base` names (host, port, dial, SNI, deadline; its
// role is kept, its flavor and configure are replaced). Handshakes run on strands of
// `io`; the scan's own state and `done` (called exactly once) on `strand`. `contexts`
// must outlive the scan.
void async_tls_scan(const boost::asio::any_io_executor& io,
                    const boost::asio::any_io_executor& strand, const ClientContexts& contexts,
                    HandshakeSpec base, ScanLimits limits, ScanDone done);

}  // namespace tlsprobe::proxy
