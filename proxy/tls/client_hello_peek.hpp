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

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

enum class HelloPeekStatus {
  ok,         // result.hello is the client's ClientHello
  not_tls,    // the first bytes are not TLS (result.error says what; `http` when a request)
  invalid,    // TLS framing, malformed ClientHello (result.error)
  too_large,  // more than `limit` bytes and still incomplete
  closed,     // the client closed before sending anything
  truncated,  // the client closed in the middle of its ClientHello
  timeout,    // the caller's deadline passed first
  error,      // socket error, or the ClientHello came in too many pieces
};
std::string_view to_string(HelloPeekStatus s);

struct HelloPeek {
  HelloPeekStatus status = HelloPeekStatus::error;
  inspect::ClientHelloResult result;  // of the last look at the bytes
  bool http = false;                  // not_tls, and the bytes start like an HTTP request
  std::size_t bytes = 0;              // bytes seen at the end
  int looks = 0;                      // peeks made (each after the socket became readable)
  std::string detail;                 // one line when not ok
};

// Waits for and reads the ClientHello of `conn.client` without consuming it. Counts each
// peek in ctx.counters.client_hello_peeks. Leaves the socket's low-water mark at 1.
boost::asio::awaitable<HelloPeek> peek_client_hello(SessionConnection& conn, std::size_t limit);

}  // namespace tlsprobe::proxy
