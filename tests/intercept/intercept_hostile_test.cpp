// Hostile upstreams behind an intercepting proxy (issue 4 item 6) must not hurt the proxy or
// its other clients: huge response headers (a clear 502, the proxy keeps serving), an
// endless chunked body (streamed with backpressure, memory bounded, the upstream closed when
// the client goes), a response dribbled one byte a second (others served at full speed,
// the slow one ended by the configured timeout).
#include "http_peers.hpp"
#include "intercept_fixture.hpp"
#include "support/sanitized.hpp"

#include <future>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

// "/ok" answers at once; any other path is handed to `hostile`.
using Hostile = std::function<void(TlsIo&, const Message&)>;
std::unique_ptr<ScriptedUpstream> upstream(const GoodSiteLab& lab, Hostile hostile) {
  return std::make_unique<ScriptedUpstream>(ServedChain::of(lab.good),
                                            [hostile = std::move(hostile)](TlsIo& io) {
                                              for (int i = 0; i < 20; ++i) {
                                                const auto req = io.read_message(false, 5s);
                                                if (!req.complete) return;
                                                if (req.head.target() != "/ok")
                                                  return hostile(io, req);
                                                if (!io.write(http_response(200, "OK", "fine")))
                                                  return;
                                              }
                                            });
}

Message get_ok(const InterceptingProxy& proxy, std::uint16_t port) {
  ProxyClient c(proxy.port(), "good.test", port, proxy.ca_path(), "good.test");
  return c.request("GET", "/ok", "good.test", "", "", 5s);
}

}  // namespace

TEST_CASE("intercept hostile: 1 MiB of response headers gets a clear 502, the proxy goes on") {
  GoodSiteLab lab;
  const bool one_line = GENERATE(false, true);
  auto up = upstream(lab, [one_line](TlsIo& io, const Message&) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n";
    if (one_line) {
      head += "X-Huge: " + std::string(1024 * 1024, 'h') + "\r\n";
    } else {
      for (int i = 0; head.size() < 1024 * 1024; ++i)
        head += "X-Junk-" + std::to_string(i) + ": " + std::string(100, 'j') + "\r\n";
    }
    io.write(head + "\r\nbody", 5s);  // the proxy stops reading long before the end
  });
  InterceptingProxy proxy(lab.proxy_options());
  const auto started = Clock::now();
  {
    ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
    const auto r = c.request("GET", "/huge", "good.test");
    REQUIRE(r.complete);
    CHECK(r.head.status() == 502);
    CHECK(r.body == "the origin's response header is larger than the proxy accepts\n");
  }
  CHECK(Clock::now() - started < 5s);
  // The proxy still serves: the next clients get their pages.
  for (int i = 0; i < 3; ++i) {
    const auto ok = get_ok(proxy, up->port());
    CHECK(ok.head.status() == 200);
    CHECK(ok.body == "fine");
  }
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 4);
  int rejected = 0;
  for (const auto& l : lines)
    if (str_at(l, {"event", "reason"}) ==
        "the origin's response header is larger than the proxy accepts")
      ++rejected;
  CHECK(rejected == 1);
}

TEST_CASE("intercept hostile: an endless chunked body streams with backpressure and ends") {
  GoodSiteLab lab;
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> upstream_ended{false};
  std::atomic<bool> upstream_saw_error{false};
  auto up = upstream(lab, [&](TlsIo& io, const Message&) {
    const std::string piece = chunk(pattern(0, 16 * 1024));
    if (io.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n")) {
      // Endless, bounded only by the test: 4 GiB or the write failing.
      while (written < (4ull << 30)) {
        if (!io.write(piece, 10s)) {
          upstream_saw_error = true;
          break;
        }
        written += piece.size();
      }
    }
    upstream_ended = true;
  });
  InterceptingProxy proxy(lab.proxy_options());
  auto c = std::make_unique<ProxyClient>(proxy.port(), "good.test", up->port(), proxy.ca_path(),
                                         "good.test");
  REQUIRE(c->io().write("GET /endless HTTP/1.1\r\nHost: good.test\r\n\r\n"));
  const auto head = c->io().read_until("\r\n\r\n", 5s);
  REQUIRE(head);
  CHECK(ascii_lower(parse_head(*head).get("transfer-encoding")) == "chunked");
  // Warm up (first buffers, TLS records), then stream 64 MiB and compare the RSS.
  std::uint64_t received = 0;
  const auto read_until_total = [&](std::uint64_t total) {
    const auto deadline = Clock::now() + 20s;
    while (received < total && Clock::now() < deadline) {
      const auto more = c->io().read_some(2s);
      if (more.empty()) break;
      received += more.size();
    }
  };
  read_until_total(4u << 20);
  REQUIRE(received >= (4u << 20));
  const auto rss_before = rss_kib();
  read_until_total(received + (64u << 20));
  REQUIRE(received >= (68u << 20));
  const auto rss_after = rss_kib();
  INFO("RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
  if (testsupport::sanitized_build)
    WARN("sanitized build: RSS not compared (ASan's quarantine keeps freed buffers)");
  else
    CHECK(rss_after < rss_before + 8 * 1024);
  // The client stops reading: socket buffers fill, then the origin's writes must stall
  // (a proxy that kept reading into memory would let it go on at full speed).
  std::this_thread::sleep_for(1500ms);
  const auto stalled_at = written.load();
  std::this_thread::sleep_for(1000ms);
  CHECK(written.load() - stalled_at < 1024 * 1024);
  CHECK_FALSE(upstream_ended);
  // The client goes away: the proxy closes the upstream connection, so its writes fail.
  c.reset();
  const auto deadline = Clock::now() + 5s;
  while (!upstream_ended && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  CHECK(upstream_ended);
  CHECK(upstream_saw_error);
  CHECK(get_ok(proxy, up->port()).body == "fine");
}

TEST_CASE("intercept hostile: a response dribbled a byte a second does not slow the others") {
  // The proxy waits at most upstream_response (here 4 s) for a response head: the dribbling
  // origin gets a 504 after that, while other clients are served at full speed meanwhile.
  GoodSiteLab lab;
  const std::string dribble = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow";
  std::atomic<bool> dribble_cut{false};
  auto up = upstream(lab, [&](TlsIo& io, const Message&) {
    for (char ch : dribble) {
      if (!io.write(std::string_view(&ch, 1), 2s)) {
        dribble_cut = true;
        return;
      }
      if (!io.pause(1s)) return;
    }
  });
  auto options = lab.proxy_options();
  options.upstream_response = 4s;
  InterceptingProxy proxy(options);
  const auto started = Clock::now();
  auto slow = std::async(std::launch::async, [&] {
    ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
    auto r = c.request("GET", "/slow", "good.test", "", "", 15s);
    return std::make_pair(std::move(r), Clock::now() - started);
  });
  std::this_thread::sleep_for(300ms);  // the slow exchange is under way
  // Fast exchanges meanwhile, each at full speed, while the slow one is still pending.
  int fast_while_slow = 0;
  for (int i = 0; i < 5 && slow.wait_for(0s) != std::future_status::ready; ++i) {
    const auto t0 = Clock::now();
    const auto ok = get_ok(proxy, up->port());
    CHECK(ok.body == "fine");
    CHECK(Clock::now() - t0 < 2s);
    if (slow.wait_for(0s) != std::future_status::ready) ++fast_while_slow;
  }
  CHECK(fast_while_slow >= 3);
  REQUIRE(slow.wait_for(10s) == std::future_status::ready);
  const auto [r, elapsed] = slow.get();
  CHECK(r.head.status() == 504);
  CHECK(r.body == "the origin did not answer in time\n");
  CHECK(elapsed >= 3900ms);
  CHECK(elapsed < 8s);
  // The proxy closed the dribbling upstream: its next byte fails.
  const auto deadline = Clock::now() + 4s;
  while (!dribble_cut && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  CHECK(dribble_cut);
}

TEST_CASE("intercept hostile: a body that stalls mid-way ends by the idle timeout, streamed") {
  // Head and two body bytes at once, then silence: the client has the bytes immediately
  // (nothing held back), and the connection ends when the idle timeout (2 s) expires.
  GoodSiteLab lab;
  auto up = upstream(lab, [](TlsIo& io, const Message&) {
    if (!io.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nab")) return;
    io.pause(20s);
  });
  auto options = lab.proxy_options();
  options.idle = 2s;
  InterceptingProxy proxy(options);
  ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
  const auto t0 = Clock::now();
  REQUIRE(c.io().write("GET /stall HTTP/1.1\r\nHost: good.test\r\n\r\n"));
  const auto head = c.io().read_until("\r\n\r\n", 5s);
  REQUIRE(head);
  CHECK(c.io().read_exact(2, 1500ms) == "ab");
  CHECK(Clock::now() - t0 < 1500ms);
  // Nothing more comes; the proxy closes the client connection after the idle timeout.
  const auto rest = c.io().read_some(8s);
  CHECK(rest.empty());
  CHECK(c.io().closed());
  const auto elapsed = Clock::now() - t0;
  CHECK(elapsed >= 1900ms);
  CHECK(elapsed < 6s);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(str_at(lines[0], {"event", "reason"}) == "idle timeout");
}

TEST_CASE("intercept hostile: an endless run of 1xx answers ends in a clear 502") {
  GoodSiteLab lab;
  auto up = upstream(lab, [](TlsIo& io, const Message&) {
    for (int i = 0; i < 1000; ++i)
      if (!io.write("HTTP/1.1 102 Processing\r\n\r\n")) return;
  });
  InterceptingProxy proxy(lab.proxy_options());
  {
    ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
    const auto r = c.request("GET", "/interim", "good.test");
    CHECK(r.head.status() == 502);
    CHECK(r.body == "the origin sent too many interim (1xx) responses\n");
  }
  CHECK(get_ok(proxy, up->port()).body == "fine");
}

TEST_CASE("intercept hostile: an oversized or malformed request head gets 431 / 400") {
  GoodSiteLab lab;
  auto up = upstream(lab, [](TlsIo&, const Message&) {});
  InterceptingProxy proxy(lab.proxy_options());  // max_header_bytes 32 KiB
  {
    ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
    const auto r =
        c.request("GET", "/ok", "good.test", "X-Big: " + std::string(64 * 1024, 'b') + "\r\n");
    CHECK(r.head.status() == 431);
    CHECK(r.body.rfind("request header too large (limit ", 0) == 0);
  }
  {
    ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
    REQUIRE(c.io().write("GET /ok HTTP/1.1\r\nHost: good.test\r\nBad Header Line\r\n\r\n"));
    const auto r = c.io().read_message(true, 5s);
    CHECK(r.head.status() == 400);
    CHECK(r.body.rfind("bad request: ", 0) == 0);
  }
  CHECK(get_ok(proxy, up->port()).body == "fine");
  CHECK(up->handshakes() == 3);  // each connection reached the origin, the bad requests did not
}
