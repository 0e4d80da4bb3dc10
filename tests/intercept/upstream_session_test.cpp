// The upstream TLS (intercept and reverse) resumes the sessions it stored, also after the
// connection that got them ended without close_notify, the proxy's usual way of ending an
// upstream connection. OpenSSL marks a session not resumable when its SSL is freed without
// sending close_notify; the stored session used to be that very object, so a later
// connection offered a dead ticket and made a full handshake whenever the earlier one had
// been freed first (the staple test saw it as an occasional "never resumed").
#include "http_peers.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

// One upstream connection as the proxy makes it: handshake, one request and its response
// (the server's session tickets come before it), then the socket is closed without
// close_notify. True when the response was a 200.
asio::awaitable<bool> one_connection(proxy::UpstreamTls& upstream, std::uint16_t port) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket socket(ex);
  co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  proxy::TlsStream stream(socket, upstream.context());
  proxy::UpstreamSpec spec;
  spec.host = "good.test";
  spec.port = port;
  spec.address = "127.0.0.1:" + std::to_string(port);
  spec.sni = "good.test";
  const auto h = co_await upstream.handshake(stream, spec);
  if (h.outcome != inspect::HandshakeOutcome::ok) co_return false;
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, "good.test");
  co_await http::async_write(stream, req, asio::use_awaitable);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, asio::use_awaitable);
  co_return res.result_int() == 200;  // stream and socket go here: no close_notify
}

}  // namespace

TEST_CASE("upstream TLS: a stored session resumes after its connection closed abruptly",
          "[intercept][resumption]") {
  const auto pki = testpki::make_hierarchy({"good.test"}, testpki::now());
  ScriptedUpstream up(ServedChain::of(pki), [](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (req.complete) io.write(http_response(200, "OK", "ok"));
  });
  proxy::UpstreamTls upstream(proxy::UpstreamTls::Options{
      certs::TrustStore::from_anchors({pki.root.cert}, certs::SystemTrust::exclude)});
  asio::io_context io;
  for (int i = 0; i < 3; ++i) {
    // Each connection is over (its SSL freed) before the next one starts.
    std::optional<bool> ok;
    asio::co_spawn(io, one_connection(upstream, up.port()),
                   [&](std::exception_ptr e, bool r) { ok = !e && r; });
    io.run_for(10s);
    io.restart();
    REQUIRE(ok.has_value());
    CHECK(*ok);
  }
  CHECK(up.handshakes() == 3);
  CHECK(upstream.resumed() == 2);  // the second and the third resumed
}
