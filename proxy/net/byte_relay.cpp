#include "proxy/net/byte_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>

namespace tlsprobe::proxy {

using asio::as_tuple;
using asio::use_awaitable;

namespace {

boost::system::error_code errno_code() {
  return boost::system::error_code(errno, boost::system::system_category());
}

// recv(2) and send(2) with MSG_DONTWAIT on the descriptor: each call returns at once, and
// the sockets need not be switched to non-blocking mode first (an ioctl each). `ec` is
// would_block when nothing could be moved now, eof when the peer has sent its FIN.
std::size_t receive_now(tcp::socket& s, char* data, std::size_t size,
                        boost::system::error_code& ec) {
  for (;;) {
    const ssize_t n = ::recv(s.native_handle(), data, size, MSG_DONTWAIT);
    if (n > 0) {
      ec.clear();
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      ec = asio::error::eof;
      return 0;
    }
    if (errno != EINTR) {
      ec = errno_code();
      return 0;
    }
  }
}

std::size_t send_now(tcp::socket& s, const char* data, std::size_t size,
                     boost::system::error_code& ec) {
  for (;;) {
    const ssize_t n = ::send(s.native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      ec.clear();
      return static_cast<std::size_t>(n);
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ec.clear();
      return 0;  // the receiver's window is full: the caller waits in async_write
    }
    if (errno != EINTR) {
      ec = errno_code();
      return 0;
    }
  }
}

bool would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// The buffer a piece is read into and sent from. One per thread, not one per tunnel: between
// the recv(2) and the send(2) there is no co_await, so no other pump of this thread can run
// in between. Only what the receiver did not take at once is copied out, into a buffer
// owned by the waiting pump. A fresh buffer per piece (as before) cost a malloc/free of
// 64 KiB and its first-touch page faults on every TLS flight.
char* scratch_buffer(std::size_t size) {
  thread_local std::unique_ptr<char[]> buf;
  thread_local std::size_t have = 0;
  if (have < size) {
    buf = std::make_unique_for_overwrite<char[]>(size);
    have = size;
  }
  return buf.get();
}

// Copies `from` -> `to` until EOF or error. Waits for readability without holding a buffer,
// so an idle tunnel costs no buffer memory; a buffer of its own exists only while the
// receiver is slow.
asio::awaitable<void> pump(SessionConnection& conn, tcp::socket& from, tcp::socket& to,
                           std::uint64_t& count, const ByteTap& tap) {
  const auto idle = conn.ctx->settings.timeouts.idle;
  const std::size_t size = conn.ctx->settings.limits.tunnel_buffer_bytes;
  boost::system::error_code ec;
  bool tapping = static_cast<bool>(tap);
  // Whether the last read probably drained the socket: a small piece (a TLS flight, a
  // request, a response) is nearly always all there was, and reading again would only say
  // "would block", so the pump waits at once. After a large piece (a bulk transfer) more
  // is usually on its way and reading again is cheaper than a trip through epoll.
  const std::size_t small_piece = std::min<std::size_t>(size, 16 * 1024);
  // A relay starts when one side has yet to speak (a tunnel's client waits for its 200, the
  // server for the ClientHello): it waits first instead of reading "would block" (a recv(2)
  // per direction and tunnel). Bytes already there complete the wait at once.
  bool drained = true;
  for (;;) {
    if (drained) {
      auto [wec] = co_await from.async_wait(tcp::socket::wait_read, as_tuple(use_awaitable));
      if (wec) break;
    }
    char* const buf = scratch_buffer(size);
    const std::size_t n = receive_now(from, buf, size, ec);
    if (would_block(ec)) {
      drained = true;
      continue;
    }
    if (ec == asio::error::eof) {
      // Half-close: pass the FIN on and keep the other direction running.
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (ec) break;
    drained = n < small_piece;
    conn.expires_after(idle);
    if (tapping) tapping = tap(buf, n);  // a look; the bytes go on below unchanged
    // A send that fits the socket buffer (nearly every piece) completes here, without a
    // trip through the scheduler; only the rest, when the receiver is slow, is copied out
    // of the shared buffer and waits in async_write.
    const std::size_t sent = send_now(to, buf, n, ec);
    if (ec) break;
    if (sent < n) {
      const std::size_t rest = n - sent;
      auto own = std::make_unique_for_overwrite<char[]>(rest);
      std::memcpy(own.get(), buf + sent, rest);
      auto [wec, written] =
          co_await asio::async_write(to, asio::buffer(own.get(), rest), as_tuple(use_awaitable));
      count += sent + written;
      if (wec) break;
    } else {
      count += sent;
    }
  }
  // Reset, timeout or shutdown: end both directions.
  conn.close();
}

}  // namespace

asio::awaitable<void> pump_both_ways(SessionConnection& conn, std::uint64_t& up,
                                     std::uint64_t& down, ByteTap client_tap, ByteTap server_tap) {
  // The server's direction runs as a coroutine of its own, the client's here; this one then
  // waits for the other. (asio's `&&` spawned two and kept a parallel group's state: twice
  // the spawn cost per tunnel.) An error or the deadline in either closes both sockets
  // (conn.close() in pump), which ends the other direction too. The other coroutine uses
  // this frame's locals, so this one never returns before it has finished, not even when a
  // tap throws: the exception is kept, both sockets closed, and it is rethrown afterwards.
  const auto ex = co_await asio::this_coro::executor;
  asio::steady_timer other_done(ex, asio::steady_timer::time_point::max());
  bool finished = false;
  std::exception_ptr server_failure, client_failure;
  asio::co_spawn(
      ex,
      [&]() -> asio::awaitable<void> {
        try {
          co_await pump(conn, *conn.upstream, conn.client, down, server_tap);
        } catch (...) {
          server_failure = std::current_exception();
          conn.close();
        }
        finished = true;
        other_done.cancel();
      },
      asio::detached);
  try {
    co_await pump(conn, conn.client, *conn.upstream, up, client_tap);
  } catch (...) {
    client_failure = std::current_exception();
    conn.close();
  }
  if (!finished) co_await other_done.async_wait(as_tuple(use_awaitable));
  if (client_failure) std::rethrow_exception(client_failure);
  if (server_failure) std::rethrow_exception(server_failure);
}

asio::awaitable<boost::system::error_code> send_all(tcp::socket& to, std::string_view bytes) {
  boost::system::error_code ec;
  const std::size_t sent = send_now(to, bytes.data(), bytes.size(), ec);
  if (ec || sent == bytes.size()) co_return ec;
  auto [wec, written] = co_await asio::async_write(
      to, asio::buffer(bytes.data() + sent, bytes.size() - sent), as_tuple(use_awaitable));
  co_return wec;
}

}  // namespace tlsprobe::proxy
