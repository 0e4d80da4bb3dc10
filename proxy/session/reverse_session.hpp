// ReverseSession: one client (a CDN edge, or curl playing one) in reverse mode.
//
//   1. Peeks at the ClientHello without consuming it (bounded: limits.client_hello_bytes,
//      timeouts.client_hello) and records SNI, ALPN and versions; a plain-HTTP client gets a
//      400 saying the port speaks TLS.
//   2. Completes the TLS handshake with the configured certificate or one minted for the SNI.
//   3. Relays HTTP/1.1 requests with keep-alive and streamed bodies: hop-by-hop headers
//      removed, X-Forwarded-For / X-Forwarded-Proto / Via added, each request to the origin its
//      Host routes to (ReverseService::route), over TLS with that route's SNI. One origin
//      connection at a time, reused while the route stays the same.
//   4. Verifies every new origin chain strictly (cached per chain): a failure answers 502 with
//      the findings, never origin content. When the leaf does not cover the name, the side
//      probe's nosni/othersni handshakes (cached per host) tell sni.default_cert from
//      name.mismatch. Unreachable origin: 502; connect or response timeout: 504.
//   5. Writes one log line (tlsprobe.mode "reverse") when the client connection closes: the
//      ClientHello, the origin handshake and chain, the verification, the findings (origin and
//      client roles) and the last HTTP exchange.
#pragma once

#include "proxy/net/session_connection.hpp"

#include <functional>
#include <memory>

namespace tlsprobe::proxy {

class ReverseService;

// Starts serving `conn` (admitted by the listener) on its strand.
void start_reverse_session(std::shared_ptr<SessionConnection> conn,
                           std::shared_ptr<ReverseService> service);

// What the listener calls for every accepted connection in reverse mode
// (Server::set_session_starter): start_reverse_session with `service`.
std::function<void(std::shared_ptr<SessionConnection>)> reverse_session_starter(
    std::shared_ptr<ReverseService> service);

}  // namespace tlsprobe::proxy
