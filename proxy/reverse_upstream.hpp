// The reverse proxy's TLS handshake with the origin, over an already connected TCP socket:
// SNI as routed (none for an IP literal), ALPN http/1.1, any certificate accepted during the
// handshake (the session verifies the chain right after, strictly, with verify_chain and
// diagnose, so that the chain's facts survive a failed verification), the chain captured as
// sent. The result is always an observation (role origin), never an exception.
//
// Written for reverse mode because the intercept side's proxy/upstream_tls.hpp had no
// implementation yet when this landed; both follow the same rules (DESIGN.md section 8).
#pragma once

#include "inspect/observation.hpp"
#include "proxy/session_common.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace tlsprobe::proxy {

using OriginStream = boost::asio::ssl::stream<tcp::socket&>;

struct OriginHandshakeSpec {
  std::string name;  // the name the origin must cover (SNI, else host)
  std::uint16_t port = 443;
  std::string address;             // "ip:port" connected to
  std::optional<std::string> sni;  // sent exactly; nullopt = none
  std::chrono::milliseconds timeout{10'000};
};

// Runs the client handshake on `stream` within spec.timeout (conn's deadline: the watchdog
// cancels the socket). outcome ok with chain, version, cipher and ALPN; or handshake_failed
// with a reason a person understands (timeout, closed, not TLS, alert, versions).
asio::awaitable<inspect::HandshakeObservation> origin_handshake(SessionConnection& conn,
                                                                OriginStream& stream,
                                                                const OriginHandshakeSpec& spec);

// "ip:port", "[v6]:port": the address form the prober writes in observations (the
// sni.default_cert witness must be the same server).
std::string observation_address(const tcp::endpoint& ep);

}  // namespace tlsprobe::proxy
