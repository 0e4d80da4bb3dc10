// Intercept mode on the one exchange loop (proxy/http/exchange_loop.hpp, issue 14 item 2):
// what it gained from the loop the other modes share. Via on the request and the response (it
// had none), a 408 for a client that never sends its first request (it was closed silently),
// and the one response framing rule: a body the origin delimits by closing is chunked for an
// HTTP/1.1 client (intercept relayed it close-delimited).
#include "http_peers.hpp"
#include "intercept_fixture.hpp"

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

TEST_CASE("intercept exchange: Via goes to the origin and back to the client") {
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (!req.complete) return;
    io.write(http_response(200, "OK", req.head.get("via")));
  });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  const auto r = c.request("GET", "/", "good.test", "Via: 1.1 corporate-gateway\r\n");
  CHECK(r.head.status() == 200);
  INFO(r.body);
  CHECK(r.body.rfind("1.1 corporate-gateway, 1.1 tlsprobe-", 0) == 0);
  CHECK(r.head.get("via").rfind("1.1 tlsprobe-", 0) == 0);
}

TEST_CASE("intercept exchange: a client that never sends its first request gets 408") {
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [](TlsIo&) {});
  auto options = lab.proxy_options();
  options.header = 1s;
  InterceptingProxy proxy(options);
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  const auto r = c.io().read_message(true, 8s);
  CHECK(r.head.status() == 408);
  CHECK(r.body == "request head not received in time\n");
}

TEST_CASE("intercept exchange: a body delimited by the origin's close is chunked to the client") {
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (!req.complete) return;
    io.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close");
  });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  const auto r = c.request("GET", "/", "good.test");
  CHECK(r.head.status() == 200);
  CHECK(r.complete);
  CHECK(r.body == "until the close");
  // The chunked framing says where the body ends; the upstream is gone, so the connection
  // still ends after it.
  CHECK(ascii_lower(r.head.get("transfer-encoding")) == "chunked");
  CHECK(ascii_lower(r.head.get("connection")) == "close");
}

// The explain page reads its request heads as the exchange loop does (issue 14 item 2): a
// silent client got no 408 and a too large head no 431 there, the connection just closed.
TEST_CASE("intercept explain: a silent client gets 408 and a too large head 431, as in relay") {
  GoodSiteLab lab;
  // Not under the proxy's anchors: verification fails and every request gets the 502 page.
  const auto untrusted = testpki::make_hierarchy({"good.test"}, testpki::now());
  ScriptedUpstream up(ServedChain::of(untrusted), [](TlsIo&) {});
  auto options = lab.proxy_options();
  options.header = 1s;
  options.max_header_bytes = 4096;
  InterceptingProxy proxy(options);

  SECTION("silent") {
    ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
    const auto r = c.io().read_message(true, 8s);
    CHECK(r.head.status() == 408);
    CHECK(r.body == "request head not received in time\n");
  }
  SECTION("too large") {
    ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
    const auto r = c.request("GET", "/", "good.test", "X-Big: " + std::string(8000, 'a') + "\r\n");
    CHECK(r.head.status() == 431);
  }
  SECTION("a readable head still gets the explain page") {
    ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
    const auto r = c.request("GET", "/", "good.test");
    CHECK(r.head.status() == 502);
    CHECK(r.body.find("tlsprobe") != std::string::npos);
  }
}
