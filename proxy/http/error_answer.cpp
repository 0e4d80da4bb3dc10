#include "proxy/http/error_answer.hpp"

#include "proxy/http/http_util.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <type_traits>

namespace tlsprobe::proxy {

namespace http = boost::beast::http;
using asio::as_tuple;
using asio::use_awaitable;

std::string ErrorAnswer::text() const {
  return response.empty() ? error_response(status, reason) : response;
}

namespace {

// Our FIN, then read and drop what the client still sends (bounded in bytes and time):
// closing with unread bytes makes the kernel send a RST, which can destroy the answer
// before the client reads it.
asio::awaitable<void> drain_before_close(SessionConnection& conn, tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 4096> sink;
  conn.expires_after(conn.ctx->settings.timeouts.close_grace);
  for (std::size_t total = 0; total < 256 * 1024;) {
    auto [rec, got] = co_await socket.async_read_some(asio::buffer(sink), as_tuple(use_awaitable));
    if (rec) break;
    total += got;
  }
  conn.timed_out = false;  // the drain's own deadline, not an idle connection
}

}  // namespace

template <class Stream>
asio::awaitable<void> end_gracefully(SessionConnection& conn, Stream& stream) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    if (conn.closed) co_return;
    conn.expires_after(conn.ctx->settings.timeouts.close_grace);
    auto [ec] = co_await stream.async_shutdown(as_tuple(use_awaitable));
    const bool timed_out = conn.timed_out;
    conn.timed_out = false;  // the shutdown's own deadline, not an idle connection
    // The shutdown failed because the client was still sending (the rest of an oversized
    // head, a body we refused): OpenSSL stops at application data after our close_notify.
    // Those bytes, and any still on their way, are drained like on a plain connection, or
    // the close would reset the connection under the client's unread answer.
    if (ec && !timed_out && !conn.closed) co_await drain_before_close(conn, stream.next_layer());
  } else {
    (void)conn;
    (void)stream;
  }
}

template <class Stream>
asio::awaitable<void> answer_and_close(SessionConnection& conn, Stream& stream,
                                       const ErrorAnswer& answer, std::uint64_t* count) {
  if (!conn.closed) {
    const auto text = answer.text();
    conn.expires_after(conn.ctx->settings.timeouts.answer);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(text), as_tuple(use_awaitable));
    if (count) *count += n;
    if (!ec) {
      if constexpr (std::is_same_v<Stream, TlsStream>) {
        co_await end_gracefully(conn, stream);
      } else {
        co_await drain_before_close(conn, stream);
      }
    }
  }
  conn.close();
}

asio::awaitable<void> send_error_and_close(std::shared_ptr<SessionConnection> conn,
                                           http::status status, std::string reason) {
  // A named answer, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
  const ErrorAnswer answer{status, std::move(reason), {}};
  co_await answer_and_close(*conn, conn->client, answer);
}

template asio::awaitable<void> answer_and_close<tcp::socket>(SessionConnection&, tcp::socket&,
                                                             const ErrorAnswer&, std::uint64_t*);
template asio::awaitable<void> answer_and_close<TlsStream>(SessionConnection&, TlsStream&,
                                                           const ErrorAnswer&, std::uint64_t*);
template asio::awaitable<void> end_gracefully<tcp::socket>(SessionConnection&, tcp::socket&);
template asio::awaitable<void> end_gracefully<TlsStream>(SessionConnection&, TlsStream&);

}  // namespace tlsprobe::proxy
