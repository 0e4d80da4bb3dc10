// Fault tests against the built tlsprobe binary (TLSPROBE_BINARY) in forward mode: upstreams
// that reset mid-handshake or mid-body, half-closed connections, a client that never reads,
// an upstream that never accepts (connect timeout), an unwritable log, SIGTERM under load.
// In each case the proxy must end the one connection cleanly, keep serving the others, log
// one line per connection and exit 0 on SIGTERM. Only 127.0.0.1; every wait is bounded.
#include "hardening/echo_server.hpp"
#include "hardening/hardening_support.hpp"
#include "support/loopback_server.hpp"

#include <boost/json/parse.hpp>

#include <atomic>
#include <mutex>

using namespace tlsprobe::hardening;
using tlsprobe::testsupport::LoopbackServer;

namespace {

std::string client_hello() {
  return read_file(fs::path(TLSPROBE_TEST_DATA) / "client_hello" / "valid_sni_alpn.bin");
}

// Closes with RST instead of FIN.
void reset_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

// The echo check every test ends with: the proxy still serves a fresh tunnel.
void check_still_serving(const ProxyProcess& proxy, const EchoServerProcess& echo) {
  auto t = open_tunnel(proxy.port(), echo.authority());
  REQUIRE(t);
  REQUIRE(send_all(t.get(), "ping"));
  auto r = read_until(t.get(), 5s, [](const std::string& d) { return d.size() >= 4; });
  CHECK(r.data == "ping");
}

std::vector<boost::json::object> parse_log(const std::string& path) {
  std::vector<boost::json::object> out;
  for (const auto& line : read_lines(path)) out.push_back(boost::json::parse(line).as_object());
  return out;
}

}  // namespace

TEST_CASE("upstream resets mid-handshake: the client sees the tunnel end, others go on",
          "[hardening][faults]") {
  EchoServerProcess echo;
  // Reads the ClientHello, then resets (also what the side probe meets).
  LoopbackServer upstream([&](int fd) {
    char buf[4096];
    if (upstream.wait_readable(fd, 5s)) (void)::recv(fd, buf, sizeof buf, 0);
    reset_close(fd);
  });
  ProxyProcess proxy({.config_toml = kFastTimeouts});
  auto t = open_tunnel(proxy.port(), upstream.address());
  REQUIRE(t);
  REQUIRE(send_all(t.get(), client_hello()));
  const auto start = Clock::now();
  auto r = read_to_end(t.get(), 10s);
  CHECK((r.eof || r.error));
  CHECK_FALSE(r.timeout);
  CHECK(Clock::now() - start < 5s);
  check_still_serving(proxy, echo);
  t.reset();
  const auto exit = proxy.stop();
  CHECK(exit.code == 0);
  const auto lines = parse_log(proxy.log_path());
  CHECK(lines.size() == 2);  // the reset tunnel and the echo tunnel
}

TEST_CASE("upstream resets mid-body: the client gets what was sent, then the end",
          "[hardening][faults]") {
  EchoServerProcess echo;
  LoopbackServer upstream([&](int fd) {
    char buf[64];
    if (!upstream.wait_readable(fd, 5s)) return;
    (void)::recv(fd, buf, sizeof buf, 0);
    const std::string body(100'000, 'b');
    (void)send_all(fd, body);
    reset_close(fd);
  });
  ProxyProcess proxy({.config_toml = kFastTimeouts});
  auto t = open_tunnel(proxy.port(), upstream.address());
  REQUIRE(t);
  REQUIRE(send_all(t.get(), "GET / HTTP/1.0\r\n\r\n"));  // not TLS: no side probe
  auto r = read_to_end(t.get(), 10s);
  CHECK_FALSE(r.timeout);
  CHECK(r.data.size() <= 100'000);
  CHECK(r.data.find_first_not_of('b') == std::string::npos);
  check_still_serving(proxy, echo);
  t.reset();
  CHECK(proxy.stop().code == 0);
  const auto lines = parse_log(proxy.log_path());
  CHECK(lines.size() == 2);
}

TEST_CASE("half-close: the client's FIN reaches the upstream, the answer still comes back",
          "[hardening][faults]") {
  // Reads everything up to the client's FIN, then answers and closes.
  LoopbackServer upstream([&](int fd) {
    std::string got;
    char buf[4096];
    while (upstream.wait_readable(fd, 5s)) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    (void)send_all(fd, "got " + std::to_string(got.size()) + " bytes");
  });
  ProxyProcess proxy({.config_toml = kFastTimeouts});
  auto t = open_tunnel(proxy.port(), upstream.address());
  REQUIRE(t);
  REQUIRE(send_all(t.get(), std::string(5000, 'q')));
  REQUIRE(::shutdown(t.get(), SHUT_WR) == 0);
  auto r = read_to_end(t.get(), 10s);
  CHECK(r.eof);
  CHECK(r.data == "got 5000 bytes");
  t.reset();
  CHECK(proxy.stop().code == 0);
  const auto lines = parse_log(proxy.log_path());
  REQUIRE(lines.size() == 1);
}

TEST_CASE("a client that never reads costs bounded memory and blocks nobody else",
          "[hardening][faults]") {
  EchoServerProcess echo;
  std::atomic<std::uint64_t> sent{0};
  // Sends as fast as the proxy takes it until the connection breaks or the server stops.
  LoopbackServer upstream([&](int fd) {
    const std::string chunk(65536, 'z');
    while (!upstream.stopping()) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const auto n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN) break;
      if (n > 0) sent += static_cast<std::uint64_t>(n);
    }
  });
  ProxyProcess proxy({.config_toml = kFastTimeouts});
  const long rss_before = rss_kib(proxy.pid());
  auto t = open_tunnel(proxy.port(), upstream.address());
  REQUIRE(t);
  REQUIRE(send_all(t.get(), "x"));
  std::this_thread::sleep_for(3s);  // the upstream fills every buffer on the way
  const long rss_during = rss_kib(proxy.pid());
  INFO("upstream sent " << sent.load() << " bytes; proxy RSS " << rss_before << " -> " << rss_during
                        << " KiB");
  // Socket buffers, not the proxy's heap, hold the backlog: a few MiB at most.
  CHECK(sent.load() < 64u * 1024 * 1024);
  if (!sanitized_build) CHECK(rss_during - rss_before < 32 * 1024);
  check_still_serving(proxy, echo);
  t.reset();  // the client goes away: the tunnel ends, the upstream sees a reset
  CHECK(proxy.stop().code == 0);
  CHECK(parse_log(proxy.log_path()).size() == 2);
}

TEST_CASE("an upstream that never accepts: 504 after the connect timeout", "[hardening][faults]") {
  // A listener with a full accept queue that is never drained: further SYNs are dropped, so
  // a connect hangs as it would against a filtered port (all on 127.0.0.1).
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listener.get(), 0) == 0);
  socklen_t len = sizeof a;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len);
  const std::uint16_t port = ntohs(a.sin_port);
  std::vector<Fd> fillers;
  for (int i = 0; i < 8; ++i) {
    Fd f(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    (void)::connect(f.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(std::move(f));
  }
  std::this_thread::sleep_for(200ms);

  EchoServerProcess echo;
  ProxyProcess proxy({.config_toml = kFastTimeouts});
  std::string status;
  const auto start = Clock::now();
  auto t = open_tunnel(proxy.port(), "127.0.0.1:" + std::to_string(port), &status, 10s);
  const auto took = Clock::now() - start;
  CHECK_FALSE(t);
  CHECK(status.rfind("HTTP/1.1 504", 0) == 0);
  CHECK(took >= 900ms);
  CHECK(took < 5s);
  check_still_serving(proxy, echo);
  CHECK(proxy.stop().code == 0);
  const auto lines = parse_log(proxy.log_path());
  CHECK(lines.size() == 2);
}

TEST_CASE("log on /dev/full: proxying goes on, every lost line is counted on stderr",
          "[hardening][faults]") {
  EchoServerProcess echo;
  ProxyProcess proxy({.log = "/dev/full", .config_toml = kFastTimeouts});
  constexpr int tunnels = 40;
  for (int i = 0; i < tunnels; ++i) {
    auto t = open_tunnel(proxy.port(), echo.authority());
    REQUIRE(t);
    const std::string msg = "message " + std::to_string(i) + std::string(500, '.');
    REQUIRE(send_all(t.get(), msg));
    ::shutdown(t.get(), SHUT_WR);
    auto r = read_to_end(t.get(), 5s);
    REQUIRE(r.data == msg);
  }
  const auto exit = proxy.stop();
  CHECK(exit.code == 0);
  const auto err = proxy.stderr_text();
  INFO(err);
  std::smatch m;
  REQUIRE(std::regex_search(err, m, std::regex("([0-9]+) log lines, ([0-9]+) dropped")));
  CHECK(std::stoi(m[1].str()) == tunnels);
  CHECK(std::stoi(m[2].str()) == tunnels);  // nothing reached the disk: all counted as lost
}

TEST_CASE("SIGTERM under load: every finished connection's line is in the log, exit 0",
          "[hardening][faults]") {
  EchoServerProcess echo;
  ProxyProcess proxy({.config_toml = kFastTimeouts});
  std::atomic<bool> stop{false};
  std::atomic<int> started{0}, finished{0}, failed{0};
  std::vector<std::thread> clients;
  for (int w = 0; w < 8; ++w) {
    clients.emplace_back([&] {
      for (int i = 0; i < 2000 && !stop.load(); ++i) {
        ++started;
        auto t = open_tunnel(proxy.port(), echo.authority(), nullptr, 5s);
        if (!t) {
          ++failed;  // refused once the proxy stops accepting: expected after SIGTERM
          break;
        }
        const std::string msg(1000, 'm');
        if (!send_all(t.get(), msg)) break;
        ::shutdown(t.get(), SHUT_WR);
        auto r = read_to_end(t.get(), 5s);
        // Finished: the echo came back and the proxy passed the upstream's close on.
        if (r.eof && r.data == msg) ++finished;
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  const int finished_before_term = finished.load();
  const auto exit = proxy.stop(SIGTERM, 15s);
  stop = true;
  for (auto& c : clients) c.join();
  CHECK(exit.code == 0);
  CHECK_FALSE(exit.timed_out);
  CHECK(exit.seconds < 6.0);  // drain is 3 s here
  const auto lines = read_lines(proxy.log_path());
  INFO("started " << started.load() << ", finished " << finished.load() << " ("
                  << finished_before_term << " before SIGTERM), lines " << lines.size());
  CHECK(finished_before_term > 20);
  CHECK(static_cast<int>(lines.size()) >= finished.load());
  CHECK(static_cast<int>(lines.size()) <= started.load());
  for (const auto& l : lines) CHECK_NOTHROW(boost::json::parse(l));
}
