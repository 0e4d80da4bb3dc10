#include "proxy/net/connect_first.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace tlsprobe::proxy {

namespace {

boost::system::error_code system_error(int e) {
  return boost::system::error_code(e, boost::system::system_category());
}

// The outcome of a finished non-blocking connect(2), as SO_ERROR reports it.
boost::system::error_code pending_connect_result(tcp::socket& socket) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return system_error(errno);
  return system_error(err);
}

}  // namespace

asio::awaitable<std::tuple<boost::system::error_code, tcp::endpoint>> connect_first(
    tcp::socket& socket, const std::vector<tcp::endpoint>& endpoints,
    const std::function<void()>& before_wait) {
  boost::system::error_code ec = asio::error::not_found;  // no endpoints at all
  for (const auto& ep : endpoints) {
    boost::system::error_code ignored;
    socket.close(ignored);
    socket.open(ep.protocol(), ec);
    if (!ec) socket.non_blocking(true, ec);
    if (ec) continue;
    const int fd = socket.native_handle();
    if (::connect(fd, ep.data(), static_cast<socklen_t>(ep.size())) == 0)
      co_return std::make_tuple(boost::system::error_code{}, ep);
    // EINTR: the connection goes on in the background (POSIX), as with EINPROGRESS.
    if (errno != EINPROGRESS && errno != EINTR) {
      ec = system_error(errno);
      continue;
    }
    pollfd ready{fd, POLLOUT, 0};
    if (::poll(&ready, 1, 0) <= 0) {
      if (before_wait) before_wait();
      auto [wec] =
          co_await socket.async_wait(tcp::socket::wait_write, asio::as_tuple(asio::use_awaitable));
      if (wec == asio::error::operation_aborted) co_return std::make_tuple(wec, tcp::endpoint{});
      if (wec) {
        ec = wec;
        continue;
      }
    }
    ec = pending_connect_result(socket);
    if (!ec) co_return std::make_tuple(ec, ep);
  }
  boost::system::error_code ignored;
  socket.close(ignored);
  co_return std::make_tuple(ec, tcp::endpoint{});
}

}  // namespace tlsprobe::proxy
