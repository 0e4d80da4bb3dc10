// Reverse mode relays each message as it arrives: a response that pauses reaches the client
// before the origin finishes, chunked framing that arrives in pieces stays intact, uploads
// over 1 MB go through and Expect: 100-continue does not make the client wait for a 100.
#include "intercept/http_peers.hpp"
#include "pki/test_pki.hpp"
#include "reverse/reverse_fixture.hpp"
#include "support/relay_peers.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::reverse_test;
using namespace tlsprobe::relaytest;
using intercept_test::ScriptedUpstream;
using intercept_test::TlsIo;
using testsupport::ServedChain;

namespace {

const testpki::Hierarchy& www() {
  static const testpki::Hierarchy h = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  return h;
}

std::string resolve_www(std::uint16_t port) {
  return "www.example.test:" + std::to_string(port) + ":127.0.0.1";
}

std::string www_url(std::uint16_t port, const std::string& path) {
  return "https://www.example.test:" + std::to_string(port) + path;
}

// A TLS client of the reverse proxy (SNI www.example.test, the proxy's leaf not checked:
// curl -k does the same), for reading a response at the test's pace.
class TlsClient {
 public:
  explicit TlsClient(std::uint16_t port) {
    fd_ = testsupport::connect_loopback(port, {.io_timeout = 200ms});
    if (fd_ < 0) throw std::runtime_error("connect to the proxy failed");
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    SSL_set_fd(ssl.get(), fd_);
    SSL_set_tlsext_host_name(ssl.get(), "www.example.test");
    if (!intercept_test::handshake_within(ssl.get(), intercept_test::TlsSide::client, 5s)) {
      ::close(fd_);
      throw std::runtime_error("TLS to the proxy failed: " + certs::openssl_errors());
    }
    io_.emplace(std::move(ssl), fd_);
  }
  ~TlsClient() {
    io_.reset();
    ::close(fd_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  TlsIo& io() { return *io_; }

 private:
  int fd_ = -1;
  certs::SslCtxPtr ctx_;
  std::optional<TlsIo> io_;
};

}  // namespace

TEST_CASE("reverse relay: a response that pauses reaches the client before the origin finishes",
          "[reverse]") {
  PausingResponse scenario;
  scenario.chunked = GENERATE(false, true);
  ScriptedUpstream origin(ServedChain::of(www()), [&](TlsIo& io) { scenario.serve(io); });
  ReverseProxy proxy(test_config(origin.address(), {www().root.cert}));
  TlsClient client(proxy.port());
  REQUIRE(client.io().write("GET /events HTTP/1.1\r\nHost: www.example.test\r\n\r\n"));
  const auto seen = scenario.read(client.io());
  INFO("chunked=" << scenario.chunked << " first after " << seen.first_after.count() << " ms");
  REQUIRE(seen.first_in_time);
  CHECK_FALSE(scenario.origin_gave_up);
  CHECK(seen.head.rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(seen.body);
  CHECK(*seen.body == std::string(PausingResponse::kFirst) + std::string(PausingResponse::kRest));
}

TEST_CASE("reverse relay: a chunked response whose framing arrives apart stays intact",
          "[reverse]") {
  ScriptedUpstream origin(ServedChain::of(www()), [](TlsIo& io) { SplitChunks::serve(io); });
  ReverseProxy proxy(test_config(origin.address(), {www().root.cert}));
  const auto r = curl({"--resolve", resolve_www(proxy.port()), www_url(proxy.port(), "/split")});
  INFO(r.err);
  CHECK(r.http_code == 200);
  CHECK(r.body == SplitChunks::body());
}

TEST_CASE("reverse relay: a 3 MiB upload with Expect: 100-continue is neither dropped nor stalled",
          "[reverse]") {
  std::atomic<bool> saw_expect{false};
  ScriptedUpstream origin(ServedChain::of(www()), [&](TlsIo& io) {
    for (int i = 0; i < 10; ++i) {
      const auto req = io.read_message(false, 10s);
      if (!req.complete) return;
      if (req.head.has("expect")) saw_expect = true;
      const bool same = req.body == intercept_test::pattern(0, req.body.size());
      if (!io.write(intercept_test::http_response(
              200, "OK", std::to_string(req.body.size()) + (same ? " intact" : " CORRUPT"))))
        return;
    }
  });
  ReverseProxy proxy(test_config(origin.address(), {www().root.cert}));
  testpki::TempPemFile file(intercept_test::pattern(0, 3 * 1024 * 1024));
  // --expect100-timeout 5: a proxy that leaves the 100 to the origin (which sends none here)
  // makes curl wait the full 5 s before it sends the body.
  const auto t0 = Clock::now();
  const auto r = curl({"--max-time", "15", "--resolve", resolve_www(proxy.port()), "-H",
                       "Expect: 100-continue", "--expect100-timeout", "5", "--data-binary",
                       "@" + file.path(), www_url(proxy.port(), "/upload")});
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  INFO(r.err);
  CHECK(r.http_code == 200);
  CHECK(r.body == "3145728 intact");
  CHECK(took < 3s);
  CHECK_FALSE(saw_expect);  // answered by the proxy
}

// Reverse mode on the one exchange loop (proxy/http/exchange_loop.hpp, issue 14 item 2).
TEST_CASE("reverse relay: a 101 upgrade goes through and the new protocol flows both ways",
          "[reverse]") {
  ScriptedUpstream origin(ServedChain::of(www()), [](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (!req.complete || certs::ascii_lower(req.head.get("upgrade")) != "websocket") return;
    accept_upgrade_then_echo(io);
  });
  ReverseProxy proxy(test_config(origin.address(), {www().root.cert}));
  TlsClient client(proxy.port());
  REQUIRE(
      client.io().write("GET /ws HTTP/1.1\r\nHost: www.example.test\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  const auto head = client.io().read_message(true, 5s);
  CHECK(head.head.status() == 101);
  REQUIRE(client.io().write("ping"));
  CHECK(client.io().read_exact(4) == "PING");
}

TEST_CASE("reverse relay: a keep-alive request whose head stalls gets 408", "[reverse]") {
  ScriptedUpstream origin(ServedChain::of(www()), [](TlsIo& io) {
    for (int i = 0; i < 4; ++i) {
      if (!io.read_message(false, 5s).complete) return;
      if (!io.write(intercept_test::http_response(200, "OK", "ok"))) return;
    }
  });
  auto o = test_config(origin.address(), {www().root.cert});
  o.cfg.timeouts.idle = std::chrono::milliseconds(1500);
  ReverseProxy proxy(std::move(o));
  TlsClient client(proxy.port());
  REQUIRE(client.io().write("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"));
  CHECK(client.io().read_message(true, 5s).body == "ok");
  REQUIRE(client.io().write("GET / HTTP/1.1\r\nHos"));  // half a head, then nothing
  const auto r = client.io().read_message(true, 8s);
  CHECK(r.head.status() == 408);
}
