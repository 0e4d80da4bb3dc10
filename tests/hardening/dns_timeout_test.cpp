// Name resolution that never answers (issue 7, "DNS or connect timeouts").
//
// The proxy child runs in a private mount namespace whose /etc/resolv.conf points at a UDP
// socket this test holds on a 127.x address: it reads the queries and never answers, so
// getaddrinfo for any name not in /etc/hosts blocks for the resolver's whole retry time
// (options timeout:5 attempts:2, about 10 s). /etc/hosts is replaced too, with one extra
// name that resolves from the file alone. Everything stays on loopback; the namespace and
// its mounts go away with the child. Without the rights for unshare/mount (or port 53) the
// test warns and skips.
//
// What must hold: a name that hangs costs its own client a 504 at the connect timeout, not
// at getaddrinfo's give-up time, and never delays IP literals, [resolve] entries or names
// that do resolve, even with several hanging lookups in flight.
#include "hardening/echo_server.hpp"
#include "hardening/hardening_support.hpp"
#include "support/process.hpp"

#include <poll.h>

#include <atomic>
#include <cstring>
#include <future>
#include <random>

using namespace tlsprobe::hardening;

namespace {

constexpr auto kConnectTimeout = 1s;

// A DNS server that reads every query and answers none. Bound to 127.83.X.Y:53 (a fresh
// loopback address, so nothing else there answers instead).
class SilentDns {
 public:
  SilentDns() {
    std::random_device rd;
    address_ = "127.83." + std::to_string(1 + rd() % 250) + "." + std::to_string(1 + rd() % 250);
    fd_ = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    ::inet_pton(AF_INET, address_.c_str(), &a.sin_addr);
    if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      error_ = std::string("bind ") + address_ + ":53: " + std::strerror(errno);
      return;
    }
    reader_ = std::thread([this] {
      char buf[1500];
      while (!stop_) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 50) > 0 && ::recv(fd_.get(), buf, sizeof buf, 0) > 0) ++queries_;
      }
    });
  }
  ~SilentDns() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
  }
  SilentDns(const SilentDns&) = delete;
  SilentDns& operator=(const SilentDns&) = delete;

  const std::string& error() const { return error_; }
  const std::string& address() const { return address_; }
  int queries() const { return queries_; }

 private:
  std::string address_, error_;
  Fd fd_;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
};

std::string find_tool(const char* name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return std::string(dir) + name;
  return {};
}

// The wrapper that runs the proxy with `dir`/resolv.conf and `dir`/hosts in place of the
// system's; "" when this machine does not let us (not root, no user namespaces, ...).
std::string probe_namespace(std::vector<std::string> wrapper) {
  wrapper.push_back("/bin/true");
  return tlsprobe::testsupport::run_process(wrapper, 20s).exit_code == 0
             ? ""
             : "unshare -m / mount --bind failed";
}

struct Timed {
  std::string status;
  std::chrono::duration<double> took{};
};

Timed timed_connect(std::uint16_t proxy_port, const std::string& authority,
                    std::chrono::milliseconds limit) {
  Timed t;
  const auto start = Clock::now();
  auto fd = open_tunnel(proxy_port, authority, &t.status, limit);
  t.took = Clock::now() - start;
  return t;
}

// CONNECT through the tunnel and one echo round trip: the healthy path, end to end.
Timed timed_echo(std::uint16_t proxy_port, const std::string& authority) {
  Timed t;
  const auto start = Clock::now();
  auto fd = open_tunnel(proxy_port, authority, &t.status, 5s);
  if (fd && send_all(fd.get(), "ping")) {
    auto r = read_until(fd.get(), 5s, [](const std::string& d) { return d.size() >= 4; });
    if (r.data != "ping") t.status += " (no echo)";
  }
  t.took = Clock::now() - start;
  return t;
}

}  // namespace

TEST_CASE("a name whose DNS never answers: 504 at the connect timeout, others unaffected",
          "[hardening][faults][dns]") {
  const auto unshare = find_tool("unshare");
  const auto sh = find_tool("sh");
  if (unshare.empty() || sh.empty()) {
    WARN("skipped: no unshare or sh");
    return;
  }
  SilentDns dns;
  if (!dns.error().empty()) {
    WARN("skipped: " << dns.error());
    return;
  }
  const TempDir tmp("dns");
  const auto& dir = tmp.path;
  std::ofstream(dir / "resolv.conf")
      << "nameserver " << dns.address() << "\noptions timeout:5 attempts:2\n";
  std::ofstream(dir / "hosts") << "127.0.0.1 localhost\n127.0.0.1 healthy.test\n";
  const std::vector<std::string> wrapper = {
      unshare,
      "-m",
      sh,
      "-c",
      "mount --bind '" + (dir / "resolv.conf").string() + "' /etc/resolv.conf && mount --bind '" +
          (dir / "hosts").string() + "' /etc/hosts && exec \"$@\"",
      "sh"};
  if (const auto why = probe_namespace(wrapper); !why.empty()) {
    WARN("skipped: " << why << " (needs root or CAP_SYS_ADMIN)");
    return;
  }

  EchoServerProcess echo;
  const auto echo_port = std::to_string(echo.port());
  // [resolve] keys are HOST:PORT, so the entry names the echo server's port.
  const std::string config = std::string(kFastTimeouts) + R"(
[resolve]
"resolved.test:)" + echo_port +
                             R"(" = "127.0.0.1"
)";
  ProxyProcess proxy({.config_toml = config, .wrapper = wrapper});

  // Several lookups that hang, on different names and twice on the same one. Each client
  // waits at most 4 s (well short of getaddrinfo's ~10 s), so a proxy that waits for
  // getaddrinfo shows up as an empty status, not as a slow test.
  const std::vector<std::string> hanging = {"hang-1.example:443", "hang-2.example:443",
                                            "hang-3.example:443", "hang-1.example:443"};
  std::vector<std::future<Timed>> pending;
  for (const auto& h : hanging)
    pending.push_back(
        std::async(std::launch::async, [&proxy, h] { return timed_connect(proxy.port(), h, 4s); }));
  // A plain GET (forward proxy) to a hanging name, too.
  auto get = std::async(std::launch::async, [&proxy] {
    Timed t;
    const auto start = Clock::now();
    Fd fd = connect_loopback(proxy.port());
    if (fd && send_all(fd.get(),
                       "GET http://hang-get.example/ HTTP/1.1\r\nHost: "
                       "hang-get.example\r\nConnection: close\r\n\r\n")) {
      auto head = read_head(fd.get(), 4s);
      t.status = head.data.substr(0, head.data.find("\r\n"));
    }
    t.took = Clock::now() - start;
    return t;
  });

  // Wait (bounded) until the proxy's lookups reach the silent server: from then on the
  // hanging getaddrinfo calls are running.
  for (const auto until = Clock::now() + 2s; dns.queries() < 3 && Clock::now() < until;)
    std::this_thread::sleep_for(10ms);
  INFO("queries seen by the silent DNS server: " << dns.queries());
  CHECK(dns.queries() >= 3);

  // Meanwhile: IP literals, [resolve] entries and names from /etc/hosts are served at once.
  for (const auto& host : {"127.0.0.1", "resolved.test", "localhost", "healthy.test"}) {
    const auto t = timed_echo(proxy.port(), std::string(host) + ":" + echo_port);
    INFO(host << ": '" << t.status << "' after " << t.took.count() << " s");
    CHECK(t.status.rfind("HTTP/1.1 200", 0) == 0);  // " (no echo)" appended when it failed
    CHECK(t.status.find("no echo") == std::string::npos);
    CHECK(t.took < 1s);
  }

  for (std::size_t i = 0; i < pending.size(); ++i) {
    const auto t = pending[i].get();
    INFO(hanging[i] << ": '" << t.status << "' after " << t.took.count() << " s");
    CHECK(t.status.rfind("HTTP/1.1 504", 0) == 0);
    CHECK(t.took >= kConnectTimeout - 100ms);
    CHECK(t.took < kConnectTimeout + 1s);
  }
  {
    const auto t = get.get();
    INFO("GET http://hang-get.example/: '" << t.status << "' after " << t.took.count() << " s");
    CHECK(t.status.rfind("HTTP/1.1 504", 0) == 0);
    CHECK(t.took < kConnectTimeout + 1s);
  }

  // Shutdown must not wait for the getaddrinfo calls still running.
  const auto exit = proxy.stop(SIGTERM, 15s);
  CHECK(exit.code == 0);
  CHECK_FALSE(exit.timed_out);
  CHECK(exit.seconds < 5);

  // The log says which step ran out of time.
  int resolve_timeouts = 0;
  for (const auto& line : read_lines(proxy.log_path()))
    if (line.find("hang-") != std::string::npos && line.find("timed out") != std::string::npos &&
        line.find("resolv") != std::string::npos)
      ++resolve_timeouts;
  INFO(read_file(proxy.log_path()));
  CHECK(resolve_timeouts == static_cast<int>(hanging.size()) + 1);
}
