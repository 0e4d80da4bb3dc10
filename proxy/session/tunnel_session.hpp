// TunnelSession: CONNECT host:port. Connects the upstream (timeout, loop check), answers
// "200 Connection established", then copies bytes both ways unchanged until both sides
// have closed (half-close: EOF from one side becomes shutdown(send) towards the other),
// with an idle deadline and byte counts. The first client bytes also go, as a copy, to the
// ClientHello tap (bounded at limits.client_hello_bytes): forwarding never waits for it.
// The TunnelTlsWatch reads the server's ServerHello (version, cipher) and the record headers
// both ways (established) until it has decided; then the relay stops showing it bytes.
// Once the ClientHello is known the side probe is asked for (destination, SNI); the log
// line is written when the tunnel has closed and the probe has answered.
#pragma once

#include "proxy/net/session_connection.hpp"

#include <string>

namespace tlsprobe::proxy {

// `early` holds client bytes read together with the CONNECT head (sent before our 200).
asio::awaitable<void> run_tunnel(std::shared_ptr<SessionConnection> conn, HostPort target,
                                 std::string early);

}  // namespace tlsprobe::proxy
