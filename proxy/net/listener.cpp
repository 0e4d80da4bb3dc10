#include "proxy/net/listener.hpp"

#include "proxy/http/http_util.hpp"
#include "proxy/session/client_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/status.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace tlsprobe::proxy {

using asio::as_tuple;
using asio::use_awaitable;
namespace http = boost::beast::http;

namespace {
int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
}  // namespace

Listener::Listener(asio::io_context& ioc, std::shared_ptr<ProxyContext> ctx, IoThreads threads)
    : ioc_(ioc),
      ctx_(std::move(ctx)),
      threads_(threads),
      strand_(threads == IoThreads::one ? asio::any_io_executor(ioc.get_executor())
                                        : asio::any_io_executor(asio::make_strand(ioc))),
      acceptor_(strand_) {
  reserve_fd_ = open_reserve();
}

Listener::~Listener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

boost::system::error_code Listener::open(const tcp::endpoint& ep) {
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (ec) return ec;
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return ec;
  // Accepted sockets inherit TCP_NODELAY from the listener (Linux): every session relays
  // what it has at once (a TLS flight, a response head) without one setsockopt per client.
  acceptor_.set_option(tcp::no_delay(true), ec);
  if (ec) return ec;
  acceptor_.bind(ep, ec);
  if (ec) return ec;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  ctx_->set_listen_endpoint(acceptor_.local_endpoint(ec));
  return ec;
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::start() { asio::co_spawn(strand_, accept_loop(), asio::detached); }

void Listener::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
  });
}

void Listener::set_context(std::shared_ptr<ProxyContext> ctx) {
  // ctx_ is read by the accept loop, which runs on strand_.
  asio::post(strand_, [self = shared_from_this(), ctx = std::move(ctx)]() mutable {
    self->ctx_ = std::move(ctx);
  });
}

void Listener::refuse(tcp::socket& s, unsigned status, const char* reason) {
  // A fresh socket's send buffer is empty, so this short write completes at once; it is
  // best effort (the client may already be gone) and never blocks the accept loop long.
  const auto text = error_response(static_cast<http::status>(status), reason);
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  s.write_some(asio::buffer(text), ec);
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}

asio::awaitable<void> Listener::accept_loop() {
  auto self = shared_from_this();
  asio::steady_timer backoff(strand_);
  while (acceptor_.is_open()) {
    // With several io threads each connection gets its own strand: its handlers never run
    // concurrently, while different connections run on all the threads. With one thread
    // that is already so, and the io_context's own executor serves.
    const asio::any_io_executor conn_strand = threads_ == IoThreads::one
                                                  ? asio::any_io_executor(ioc_.get_executor())
                                                  : asio::any_io_executor(asio::make_strand(ioc_));
    // The peer's address comes with accept(2) itself: no getpeername per connection.
    tcp::endpoint remote;
    auto [ec, socket] =
        co_await acceptor_.async_accept(conn_strand, remote, as_tuple(use_awaitable));
    if (!acceptor_.is_open() || ec == asio::error::operation_aborted) break;
    if (ec) {
      if (ec == asio::error::no_descriptors ||
          ec == boost::system::errc::too_many_files_open_in_system ||
          ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
        ++ctx_->counters.accept_fd_exhausted;
        if (reserve_fd_ >= 0) {
          ::close(reserve_fd_);
          reserve_fd_ = -1;
          const asio::any_io_executor ex = strand_;
          auto [e2, s2] = co_await acceptor_.async_accept(ex, as_tuple(use_awaitable));
          if (!e2) refuse(s2, 503, "proxy is out of file descriptors");
          reserve_fd_ = open_reserve();
        }
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(as_tuple(use_awaitable));
      }
      continue;  // ECONNABORTED and friends: the client gave up while queued
    }
    ++ctx_->counters.accepted;
    if (!client_allowed(ctx_->settings, remote.address())) {
      ++ctx_->counters.refused_not_allowed;
      refuse(socket, 403, "client address not allowed (see --allow)");
      continue;
    }
    if (ctx_->draining) {
      refuse(socket, 503, "proxy is shutting down");
      continue;
    }
    auto conn = std::make_shared<SessionConnection>(std::move(socket), remote, ctx_);
    if (const auto refusal = conn->admit(); refusal != ProxyContext::Refusal::none) {
      if (refusal == ProxyContext::Refusal::client_limit) {
        // One address at its cap: the others are still served (max_connections_per_client).
        ++ctx_->counters.refused_client_limit;
        refuse(conn->client, 429, "too many connections from your address");
      } else {
        ++ctx_->counters.refused_limit;
        refuse(conn->client, 503, "too many connections");
      }
      conn->close();
      continue;
    }
    if (starter_)
      starter_(std::move(conn));
    else
      start_client_session(std::move(conn));
  }
}

}  // namespace tlsprobe::proxy
