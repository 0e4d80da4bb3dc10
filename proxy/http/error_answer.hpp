// The proxy's own answer to a request it will not or cannot relay (a refused, malformed or
// timed-out request; an upstream that fails), written the same way in every mode: the
// response, then the end of the connection without destroying that response (TCP: our FIN,
// then what the client still sends is read and dropped, since closing on unread bytes makes
// the kernel send a RST; TLS: close_notify). The status travels with the answer, so the log
// never has to read it back from the text.
#pragma once

#include "proxy/net/session_connection.hpp"

#include <boost/beast/http/status.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace tlsprobe::proxy {

struct ErrorAnswer {
  boost::beast::http::status status = boost::beast::http::status::bad_gateway;
  std::string reason;    // one line: the plain answer's body and the log's event.reason
  std::string response;  // a whole response to send instead (an error page); "": the plain one

  // The bytes written: `response`, or error_response(status, reason).
  std::string text() const;
};

// Writes `answer` on `stream` (the client's side of `conn`) within timeouts.answer, then
// ends the connection gracefully within timeouts.close_grace and closes it. Counts the bytes
// written into `count` when given. Stream: tcp::socket or TlsStream.
template <class Stream>
asio::awaitable<void> answer_and_close(SessionConnection& conn, Stream& stream,
                                       const ErrorAnswer& answer, std::uint64_t* count = nullptr);

// After the last response of a connection: TLS close_notify (the response may be delimited
// by the close, and without it the client cannot tell a complete body from a cut one),
// bounded by timeouts.close_grace; nothing for TCP. Does not close the sockets.
template <class Stream>
asio::awaitable<void> end_gracefully(SessionConnection& conn, Stream& stream);

// answer_and_close on the client socket of a connection that has not started TLS.
asio::awaitable<void> send_error_and_close(std::shared_ptr<SessionConnection> conn,
                                           boost::beast::http::status status, std::string reason);

}  // namespace tlsprobe::proxy
