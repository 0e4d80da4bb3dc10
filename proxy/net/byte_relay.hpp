// The byte relay of a tunnel (CONNECT, and an intercepted connection after a 101 upgrade):
// bytes copied both ways unchanged, half-close passed on, an idle deadline, byte counts and
// read-only taps. Written for the cost of a new tunnel: a piece is read and written with
// one recv(2) and one send(2) each when the peer keeps up, and an idle direction holds no
// buffer while it waits.
#pragma once

#include "proxy/net/session_connection.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace tlsprobe::proxy {

// Sees each piece of bytes as it passes (before it is written on), read-only. Returns whether
// it wants the next pieces: once it answers false the relay does not call it again.
using ByteTap = std::function<bool(const char* data, std::size_t size)>;

// Copies bytes both ways between conn.client and conn.upstream, unchanged, until both sides
// have closed (EOF from one side becomes shutdown(send) towards the other; an error or the
// connection's deadline ends both). Each piece moves the deadline by the idle timeout.
// Counts client->upstream in `up`, upstream->client in `down`; `client_tap` and `server_tap`
// (either may be empty) see the client's and the server's bytes.
asio::awaitable<void> pump_both_ways(SessionConnection& conn, std::uint64_t& up,
                                     std::uint64_t& down, ByteTap client_tap = {},
                                     ByteTap server_tap = {});

// Sends all of `bytes` (which must outlive the call): at once when the socket takes them
// (nearly always: a 200 line, the bytes a client sent after its CONNECT), without the trip
// through the scheduler that asio::async_write's completion takes even then; the rest, if
// the receiver is slow, in async_write.
asio::awaitable<boost::system::error_code> send_all(tcp::socket& to, std::string_view bytes);

}  // namespace tlsprobe::proxy
