// The ClientHello at the head of a client connection, read without consuming it (MSG_PEEK),
// so that the TLS server engine later reads the very same bytes. Intercept and reverse mode
// use it before choosing a certificate.
//
// Cost while a client is silent or slow: nothing but the wait. A peek leaves the bytes in
// the socket, so the socket stays readable and a plain readiness wait would return at once
// (the old loop paused 2 ms and peeked again, 64 KiB buffer held, for 8 s per client: 2,000
// truncated ClientHellos cost half a core and 167 MB). Here the socket's receive low-water
// mark (SO_RCVLOWAT) is set to one byte more than already seen, so the kernel reports it
// readable only when more bytes arrived, or at EOF or error; the buffer is sized to the
// bytes queued, growing only as they arrive, bounded by `limit` (at most
// inspect::max_client_hello_bytes). The caller's deadline (conn.expires_after) bounds the
// time; a bound on wake-ups bounds the loop.
#pragma once

#include "inspect/client_hello.hpp"
#include "proxy/net/session_connection.hpp"
#include "proxy/tls/hello_status.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

struct HelloPeek {
  HelloStatus status = HelloStatus::error;  // shared with the tap (proxy/tls/hello_status.hpp)
  inspect::ClientHelloResult result;        // of the last look at the bytes
  bool http = false;                        // not_tls, and the bytes start like an HTTP request
  std::size_t bytes = 0;                    // bytes seen at the end
  int looks = 0;                            // peeks made (each after the socket became readable)
  std::string detail;                       // one line when not ok

  bool ok() const { return status == HelloStatus::ok; }
  // `event.reason` of a connection whose peek ended here (empty when ok).
  std::string reason() const { return hello_failure_reason(status, detail); }
};

// Waits for and reads the ClientHello of `conn.client` without consuming it. Counts each
// peek in ctx.counters.client_hello_peeks. Leaves the socket's low-water mark at 1.
boost::asio::awaitable<HelloPeek> peek_client_hello(SessionConnection& conn, std::size_t limit);

}  // namespace tlsprobe::proxy
