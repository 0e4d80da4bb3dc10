// "No loops, no amplification" and "not a door into the host" (docs/security.md), against the
// built binary: CONNECT floods to the proxy's own address end at the first request and leave
// no descriptors behind while other clients are served; the admin listener is never a
// destination; a listener beyond loopback keeps the host's loopback services closed unless
// allow_destinations opens them; the admin listener beyond loopback needs --admin-allow, and
// an allow-list admitting everyone is a warning.
#include "hardening/echo_server.hpp"
#include "hardening/hardening_support.hpp"
#include "support/process.hpp"

#include <ifaddrs.h>

#include <atomic>
#include <mutex>

using namespace tlsprobe::hardening;
using tlsprobe::testsupport::run_tlsprobe;

namespace {

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

// A non-loopback IPv4 address of this host, when it has one (CI containers may not).
std::optional<std::string> host_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> out;
  for (const ifaddrs* i = list; i && !out; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* s = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if ((ntohl(s->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &s->sin_addr, text, sizeof text);
    out = text;
  }
  ::freeifaddrs(list);
  return out;
}

// A TCP connection from `source` (e.g. 127.0.0.2: another client address) to host:port.
Fd connect_from(const std::string& source, const std::string& host, std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return Fd();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fd();
  return fd;
}

// One request on a fresh connection; the status line of the answer ("" when none came).
std::string ask(const Fd& fd, const std::string& request) {
  if (!fd || !send_all(fd.get(), request)) return "";
  return status_line(read_head(fd.get(), 10s).data);
}

std::string connect_request(const std::string& authority) {
  return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

// A tunnel through the proxy to the echo server carries bytes both ways.
bool tunnel_echoes(std::uint16_t proxy_port, std::uint16_t echo_port) {
  Fd t = open_tunnel(proxy_port, "127.0.0.1:" + std::to_string(echo_port), nullptr, 10s);
  if (!t || !send_all(t.get(), "ping-through-the-proxy")) return false;
  const auto r = read_until(t.get(), 10s, [](const std::string& d) { return d.size() >= 22; });
  return r.data == "ping-through-the-proxy";
}

}  // namespace

TEST_CASE(
    "CONNECT floods to the proxy's own address: refused at once, descriptors back at "
    "baseline, others served",
    "[hardening][security][loop]") {
  EchoServerProcess echo;
  raise_own_fd_limit(4096);
  ProxyProcess proxy;
  const auto p = std::to_string(proxy.port());
  const std::size_t baseline = open_fds(proxy.pid());

  // Every spelling of "this host" with our port; 0.0.0.0 and [::] were answered 200 and
  // connected the proxy to itself, each pipelined CONNECT one nested connection more.
  std::vector<std::string> self = {"0.0.0.0:" + p,
                                   "[::]:" + p,
                                   "127.0.0.1:" + p,
                                   "127.0.0.2:" + p,
                                   "[::ffff:127.0.0.1]:" + p,
                                   "[::ffff:0.0.0.0]:" + p,
                                   "localhost:" + p};
  if (const auto mine = host_ipv4()) self.push_back(*mine + ":" + p);
  for (const auto& target : self) {
    INFO(target);
    CHECK(ask(connect_loopback(proxy.port()), connect_request(target)) == "HTTP/1.1 403 Forbidden");
  }

  // The flood: 16 clients, each connection pipelining 200 CONNECT 0.0.0.0:P.
  std::string pipelined;
  for (int i = 0; i < 200; ++i) pipelined += connect_request("0.0.0.0:" + p);
  std::atomic<int> refused{0}, other{0};
  std::atomic<bool> flooding{true};
  std::vector<std::thread> attackers;
  for (int t = 0; t < 16; ++t)
    attackers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Fd fd = connect_loopback(proxy.port());
        if (!fd || !send_all(fd.get(), pipelined)) continue;
        const auto r = read_to_end(fd.get(), 10s);
        (status_line(r.data) == "HTTP/1.1 403 Forbidden" ? refused : other)++;
      }
    });
  // Meanwhile another client's tunnels are served.
  int served = 0, tried = 0;
  std::thread bystander([&] {
    while (flooding) {
      ++tried;
      if (tunnel_echoes(proxy.port(), echo.port())) ++served;
      std::this_thread::sleep_for(50ms);
    }
  });
  for (auto& a : attackers) a.join();
  flooding = false;
  bystander.join();
  CHECK(refused == 16 * 25);
  CHECK(other == 0);
  CHECK(tried > 0);
  CHECK(served == tried);

  // Nothing outlives the attacker: descriptors are back at the baseline within seconds.
  std::size_t now = open_fds(proxy.pid());
  for (const auto end = Clock::now() + 10s; now > baseline + 2 && Clock::now() < end;) {
    std::this_thread::sleep_for(100ms);
    now = open_fds(proxy.pid());
  }
  WARN("loop flood: descriptors baseline " << baseline << ", after the flood " << now);
  CHECK(now <= baseline + 2);
  CHECK(proxy.stop().code == 0);
}

TEST_CASE("the admin listener is never a destination, by CONNECT or by absolute-form URL",
          "[hardening][security][door]") {
  testsupport::ProxyOptions o;
  o.admin = "127.0.0.1:0";
  ProxyProcess proxy(o);
  const auto admin = proxy.admin_port();
  REQUIRE(admin != 0);
  const auto a = std::to_string(admin);
  // Direct scrapes still work.
  CHECK(ask(connect_loopback(admin), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "HTTP/1.1 200 OK");
  // Through the proxy: refused as a loop, whatever the spelling of this host.
  for (const std::string host : {"127.0.0.1", "localhost", "0.0.0.0", "[::1]", "127.0.0.7"}) {
    INFO(host);
    CHECK(ask(connect_loopback(proxy.port()), connect_request(host + ":" + a)) ==
          "HTTP/1.1 403 Forbidden");
    CHECK(ask(connect_loopback(proxy.port()), "GET http://" + host + ":" + a +
                                                  "/metrics HTTP/1.1\r\nHost: " + host + ":" + a +
                                                  "\r\n\r\n") == "HTTP/1.1 403 Forbidden");
  }
  CHECK(proxy.stop().code == 0);
}

TEST_CASE("listening beyond loopback: the host's loopback services need allow_destinations",
          "[hardening][security][door]") {
  const auto mine = host_ipv4();
  if (!mine) {
    WARN(
        "no non-loopback IPv4 address on this host: the listener case is covered by "
        "tests_proxy [destination_policy] only");
    return;
  }
  EchoServerProcess echo;  // a loopback-only service of this host
  const std::string echo_at = "127.0.0.1:" + std::to_string(echo.port());
  SECTION("refused by default") {
    testsupport::ProxyOptions o;
    o.listen = *mine + ":0";
    o.extra = {"--allow", *mine + "/32"};
    ProxyProcess proxy(o);
    for (const auto& target :
         {echo_at, "localhost:" + std::to_string(echo.port()),
          "[::1]:" + std::to_string(echo.port()), std::string("169.254.169.254:80"),
          "0.0.0.0:" + std::to_string(echo.port())}) {
      INFO(target);
      CHECK(ask(connect_from(*mine, *mine, proxy.port()), connect_request(target)) ==
            "HTTP/1.1 403 Forbidden");
    }
    CHECK(ask(connect_from(*mine, *mine, proxy.port()),
              "GET http://" + echo_at + "/ HTTP/1.1\r\nHost: " + echo_at + "\r\n\r\n") ==
          "HTTP/1.1 403 Forbidden");
    CHECK(proxy.stop().code == 0);
  }
  SECTION("allowed with --allow-destination") {
    testsupport::ProxyOptions o;
    o.listen = *mine + ":0";
    o.extra = {"--allow", *mine + "/32", "--allow-destination", "127.0.0.1/32"};
    ProxyProcess proxy(o);
    CHECK(ask(connect_from(*mine, *mine, proxy.port()), connect_request(echo_at)) ==
          "HTTP/1.1 200 Connection established");
    // ::1 is still not allowed.
    CHECK(ask(connect_from(*mine, *mine, proxy.port()),
              connect_request("[::1]:" + std::to_string(echo.port()))) == "HTTP/1.1 403 Forbidden");
    CHECK(proxy.stop().code == 0);
  }
}

TEST_CASE("the admin listener beyond loopback needs --admin-allow; allow-lists of everyone warn",
          "[hardening][security][door]") {
  const TempDir dir("admin");
  const auto log = (dir / "c.jsonl").string();
  const auto admin = "0.0.0.0:" + std::to_string(tlsprobe::testsupport::unused_port());
  const auto r = run_tlsprobe({"proxy", "--listen", "127.0.0.1:0", "--admin", admin, "--log", log},
                              std::chrono::seconds(20));
  INFO(r.err);
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("refusing to serve the admin listener on non-loopback address " + admin) !=
        std::string::npos);
  CHECK(r.err.find("--admin-allow") != std::string::npos);

  // Accepted with an allow-list; a list admitting everyone is said at start.
  testsupport::ProxyOptions o;
  o.admin = admin;
  o.extra = {"--admin-allow", "198.51.100.0/24", "--allow", "0.0.0.0/0"};
  ProxyProcess proxy(o);
  const auto err = proxy.stderr_text();
  CHECK(err.find("tlsprobe proxy: warning: allow 0.0.0.0/0 admits every client address") !=
        std::string::npos);
  const auto admin_port = proxy.admin_port();
  REQUIRE(admin_port != 0);
  // Loopback clients are always served; others only from admin_allow.
  CHECK(ask(connect_loopback(admin_port), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "HTTP/1.1 200 OK");
  if (const auto mine = host_ipv4()) {
    Fd outsider = connect_from(*mine, *mine, admin_port);
    REQUIRE(outsider);
    REQUIRE(send_all(outsider.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto r = read_to_end(outsider.get(), 10s);
    CHECK(r.data.empty());  // closed unanswered
    CHECK_FALSE(r.timeout);
  }
  CHECK(proxy.stop().code == 0);
}
