// ClientSession: one accepted client connection. Reads the first request head with Beast's
// parser (header limit: settings.limits.max_header_bytes, deadline: timeouts.header),
// checks Basic proxy authentication and loops (our own Via), and hands the connection to
// the tunnel (CONNECT) or the forwarder (absolute-form http://). Anything else is answered
// with a one-line error: 400 bad request line or target, 431 header too large, 407 auth,
// 403 loop, 408 head not received in time.
#pragma once

#include "proxy/net/session_connection.hpp"

namespace tlsprobe::proxy {

// Starts serving `conn` on its strand (the listener has admitted it).
void start_client_session(std::shared_ptr<SessionConnection> conn);

}  // namespace tlsprobe::proxy
