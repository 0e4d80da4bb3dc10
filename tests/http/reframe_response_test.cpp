// reframe_response: the origin's response head made fit for the client (hop-by-hop fields
// gone, framing re-applied) and whether each side's connection may carry another exchange.
// Pure: a Beast response parser fed the head bytes, no socket.
#include "proxy/http/http_relay.hpp"

#include <boost/beast/core/buffers_to_string.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace tlsprobe;
namespace http = boost::beast::http;
using proxy::BodyParser;

namespace {

// A response parser that has read `head` (and no body yet).
std::unique_ptr<BodyParser<false>> parsed(const std::string& head, bool is_head = false) {
  auto p = std::make_unique<BodyParser<false>>();
  if (is_head) p->skip(true);
  boost::system::error_code ec;
  p->put(boost::asio::buffer(head), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(p->is_header_done());
  return p;
}

}  // namespace

TEST_CASE("reframe: a Content-Length response keeps both connections", "[reframe]") {
  auto p = parsed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\n\r\n");
  const auto reuse = proxy::reframe_response(*p, false, 11, true);
  CHECK(reuse.upstream);
  CHECK(reuse.client);
  CHECK(p->get()[http::field::content_length] == "5");
  CHECK(p->get().find("Keep-Alive") == p->get().end());  // hop-by-hop, gone
}

TEST_CASE("reframe: chunked stays chunked, the parser de-chunks and the serializer re-chunks",
          "[reframe]") {
  auto p = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  const auto reuse = proxy::reframe_response(*p, false, 11, true);
  CHECK(p->get().chunked());
  CHECK(reuse.upstream);
  CHECK(reuse.client);
}

TEST_CASE("reframe: a body delimited by the origin's close is chunked for an HTTP/1.1 client",
          "[reframe]") {
  auto p = parsed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  const auto reuse = proxy::reframe_response(*p, false, 11, true);
  CHECK_FALSE(reuse.upstream);  // the origin ends the body by closing
  CHECK(reuse.client);          // the client's connection survives it
  CHECK(p->get().chunked());
}

TEST_CASE("reframe: ... and ends an HTTP/1.0 client's connection", "[reframe]") {
  auto p = parsed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  const auto reuse = proxy::reframe_response(*p, false, 10, true);
  CHECK_FALSE(reuse.upstream);
  CHECK_FALSE(reuse.client);
  CHECK_FALSE(p->get().chunked());
}

TEST_CASE("reframe: the answer to a HEAD has no body whatever its framing says", "[reframe]") {
  auto p = parsed("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", true);
  const auto reuse = proxy::reframe_response(*p, true, 11, true);
  CHECK(reuse.client);
  CHECK_FALSE(p->get().chunked());
}

TEST_CASE("reframe: the session's say on the client connection is kept", "[reframe]") {
  auto p = parsed("HTTP/1.1 204 No Content\r\n\r\n");
  const auto reuse = proxy::reframe_response(*p, false, 11, false);  // draining, or client asked
  CHECK(reuse.upstream);
  CHECK_FALSE(reuse.client);
}
