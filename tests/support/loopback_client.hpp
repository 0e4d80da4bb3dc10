// Raw client sockets to 127.0.0.1 for the tests that speak bytes to a proxy or a server
// themselves (what curl cannot do: half a head, a stalled body, a CONNECT then not-TLS, a
// read at the test's pace). The one copy of connect, send-all and read-to-close for every
// test folder. Every blocking call is bounded: by the socket timeouts the caller asks for, or
// by the caller's own poll deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tlsprobe::testsupport {

// SO_RCVTIMEO and SO_SNDTIMEO: a blocking recv/send (or an OpenSSL call on the socket) gives
// up with EAGAIN after `limit`, so loops around it can check their own deadline.
void set_socket_timeouts(int fd, std::chrono::milliseconds limit);

struct ClientSocketOptions {
  // set_socket_timeouts(fd, io_timeout); zero: none (the caller polls with its own deadline).
  std::chrono::milliseconds io_timeout{0};
  // TCP_NODELAY: every write leaves at once instead of waiting for more (Nagle).
  bool no_delay = false;
};

// A blocking TCP connection to 127.0.0.1:port; -1 when it cannot be made (refused).
int connect_loopback(std::uint16_t port, ClientSocketOptions options = {});

// Writes all of `data` (MSG_NOSIGNAL: a closed peer is false, not SIGPIPE).
bool send_all(int fd, std::string_view data);

// Reads until the peer closes, `limit` bytes, an error or the receive timeout.
std::string read_all(int fd, std::size_t limit = 1 << 20);

// Reads byte by byte up to and including the empty line of a head ("\r\n\r\n"), at most
// `limit` bytes, so nothing behind it (a body, a tunnelled TLS stream) is consumed.
std::string read_head(int fd, std::size_t limit = 64 * 1024);

}  // namespace tlsprobe::testsupport
