// Connecting an upstream socket to the first of its resolved addresses that accepts.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <tuple>
#include <vector>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Tries `endpoints` in order, as asio::async_connect does, and returns the error of the last
// attempt or the endpoint that accepted. Stops at operation_aborted (the connection's
// deadline or shutdown cancelled the wait).
//
// Why not asio::async_connect: connect(2) on a non-blocking socket says EINPROGRESS even
// when the peer is on this host and the handshake is already done when it returns. Asio
// then waits in epoll for writability and keeps EPOLLOUT registered on the socket for good,
// so every later wait for reading re-arms with it and reports a writable event that nobody
// asked for. Here a zero-timeout poll(2) (the one Asio makes after its wait anyway) sees a
// finished handshake at once, and only a handshake still under way waits in the reactor.
// `before_wait` (may be empty) is called before each such wait: the caller's timeout starts
// there, and a connection that needed no wait moves no deadline.
asio::awaitable<std::tuple<boost::system::error_code, tcp::endpoint>> connect_first(
    tcp::socket& socket, const std::vector<tcp::endpoint>& endpoints,
    const std::function<void()>& before_wait = {});

}  // namespace tlsprobe::proxy
