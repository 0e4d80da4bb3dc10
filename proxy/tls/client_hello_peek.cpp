#include "proxy/tls/client_hello_peek.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

namespace tlsprobe::proxy {

using asio::as_tuple;
using asio::use_awaitable;

namespace {

// Wake-ups without a complete ClientHello before giving up: each one brought at least one
// new byte (or was spurious), and a real client sends its ClientHello in a few segments.
constexpr int kMaxLooks = 512;

void set_low_water(int fd, std::size_t bytes) {
  const int v = static_cast<int>(std::max<std::size_t>(bytes, 1));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
}

std::size_t queued_bytes(int fd) {
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

// The peer sent its FIN (or the connection failed): readable with nothing new to come.
bool peer_gone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

asio::awaitable<HelloPeek> peek_client_hello(SessionConnection& conn, std::size_t limit) {
  HelloPeek out;
  limit = std::clamp<std::size_t>(limit, 16, inspect::max_client_hello_bytes);
  const auto self = conn.shared_from_this();
  const int fd = conn.client.native_handle();
  // Back to the default before the TLS engine or the relay reads; not on a closed socket
  // (its descriptor number may already belong to another connection).
  const auto done = [&](HelloStatus status, std::string detail) {
    if (!conn.closed && conn.client.is_open()) set_low_water(fd, 1);
    out.status = status;
    out.detail = std::move(detail);
    return out;
  };
  std::vector<std::uint8_t> buf;
  std::size_t want = 1;  // bytes that must be queued before the next look
  while (out.looks < kMaxLooks) {
    // The low-water mark is set only once the wait below is queued (the strand runs this
    // after the coroutine suspends): setting it makes Linux check at once and wake the
    // waiter if `want` bytes are already there, so no readiness is lost in between.
    asio::post(conn.strand, [self, want] {
      if (!self->closed && self->client.is_open())
        set_low_water(self->client.native_handle(), want);
    });
    auto [wec] = co_await conn.client.async_wait(tcp::socket::wait_read, as_tuple(use_awaitable));
    if (conn.timed_out) co_return done(HelloStatus::timeout, "");
    if (wec || conn.closed) co_return done(HelloStatus::error, wec.message());
    ++out.looks;
    const std::size_t queued = std::min(queued_bytes(fd), limit);
    if (queued < want && !peer_gone(fd)) continue;  // woken early: wait again
    buf.resize(std::max<std::size_t>(queued, 1));   // grows with what arrived
    ++conn.ctx->counters.client_hello_peeks;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) co_return done(out.bytes ? HelloStatus::truncated : HelloStatus::closed, "");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      co_return done(HelloStatus::error, std::strerror(errno));
    }
    out.bytes = static_cast<std::size_t>(n);
    const std::span<const std::uint8_t> bytes(buf.data(), out.bytes);
    out.result = inspect::parse_client_hello(bytes);
    switch (out.result.status) {
      case inspect::ClientHelloStatus::ok:
        co_return done(HelloStatus::ok, "");
      case inspect::ClientHelloStatus::not_tls:
        out.http = inspect::looks_like_http(bytes);
        co_return done(HelloStatus::not_tls, out.result.error);
      case inspect::ClientHelloStatus::invalid:
        co_return done(HelloStatus::invalid, out.result.error);
      case inspect::ClientHelloStatus::too_large:
        co_return done(HelloStatus::too_large, "");
      case inspect::ClientHelloStatus::need_more:
        break;
    }
    if (out.bytes >= limit) co_return done(HelloStatus::too_large, "");
    // Readable without a new byte: the peer closed (FIN) in the middle of its ClientHello.
    if (out.bytes < want && peer_gone(fd)) co_return done(HelloStatus::truncated, "");
    want = out.bytes + 1;
  }
  co_return done(HelloStatus::error, "ClientHello sent in too many pieces");
}

}  // namespace tlsprobe::proxy
