// ForwardSession: absolute-form HTTP/1.1 ("GET http://host/path HTTP/1.1") forwarded to the
// origin: hop-by-hop headers removed (with those named in Connection), Via added, bodies
// streamed in bounded chunks both ways (Beast buffer_body, never buffered whole), keep-alive
// on both sides, and the upstream connection reused while requests go to the same
// host:port. One log line per client connection, with its last exchange.
#pragma once

#include "proxy/http/exchange_loop.hpp"
#include "proxy/net/session_connection.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <memory>

namespace tlsprobe::proxy {

// `head` has read the first request's header (target already validated as absolute http);
// `buffer` holds the bytes read after it.
asio::awaitable<void> run_forward(std::shared_ptr<SessionConnection> conn,
                                  std::unique_ptr<RequestHeadParser> head,
                                  boost::beast::flat_buffer buffer);

}  // namespace tlsprobe::proxy
