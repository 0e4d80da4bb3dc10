// The reverse proxy's TLS handshake with the origin, over an already connected TCP socket:
// the intercept side's UpstreamTls handshake (SNI as routed, never an IP literal; ALPN
// http/1.1; any chain accepted during the handshake, verified strictly right after; session
// resumption per origin), recorded as an observation of role origin and bounded by the
// connection's deadline.
#pragma once

#include "inspect/observation.hpp"
#include "proxy/net/session_connection.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace tlsprobe::proxy {

using OriginStream = TlsStream;  // ssl::stream<tcp::socket&>, context: UpstreamTls::context()

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
                                                                UpstreamTls& tls,
                                                                OriginStream& stream,
                                                                const OriginHandshakeSpec& spec);

// "ip:port", "[v6]:port": the address form the prober writes in observations (the
// sni.default_cert witness must be the same server).
std::string observation_address(const tcp::endpoint& ep);

}  // namespace tlsprobe::proxy
