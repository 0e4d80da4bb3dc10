// Load tests against the built tlsprobe binary: many concurrent tunnels held open and used,
// a low descriptor limit (extra clients refused cleanly, the admitted ones served), and a
// sustained mix of traffic (tunnels, plain-HTTP forwards, intercepted HTTPS, bad requests,
// refused upstreams) after which descriptors and memory are back where they were.
// CI runs the short form (2,000 tunnels, 8 s of mix). By hand, tools/load.sh runs them
// larger: TLSPROBE_LOAD_TUNNELS=N and TLSPROBE_MIX_SECONDS=S override the sizes.
#include "hardening/echo_server.hpp"
#include "hardening/hardening_support.hpp"
#include "support/tls_test_server.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <cstdlib>

using namespace tlsprobe::hardening;
namespace testpki = tlsprobe::testpki;
namespace testsupport = tlsprobe::testsupport;

namespace {

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

constexpr const char* load_config = R"(
[timeouts]
connect = "2s"
header = "10s"
idle = "120s"
probe = "3s"
drain = "3s"
[limits]
max_connections = 20000
max_connections_per_client = 20000
)";

// One GET over an intercepted connection: CONNECT, then TLS to the proxy's minted leaf
// (verified against the tlsprobe CA in `ca_file`, name `host`), then read to the end.
// Blocking OpenSSL with socket timeouts, so a stuck proxy fails the exchange, not the test run.
std::string intercepted_get(std::uint16_t proxy_port, const std::string& host, std::uint16_t port,
                            const std::string& ca_file) {
  const std::string authority = host + ":" + std::to_string(port);
  Fd t = open_tunnel(proxy_port, authority, nullptr, 5s);
  if (!t) return "no tunnel";
  const timeval tv{5, 0};
  ::setsockopt(t.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(t.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1)
    return "bad CA file";
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), t.get());
  SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  SSL_set1_host(ssl.get(), host.c_str());
  if (SSL_connect(ssl.get()) != 1) return "handshake failed";
  const std::string req =
      "GET /mix HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n";
  if (SSL_write(ssl.get(), req.data(), static_cast<int>(req.size())) <= 0) return "write failed";
  std::string got;
  char buf[8192];
  for (int n; (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0 && got.size() < (1u << 20);)
    got.append(buf, static_cast<std::size_t>(n));
  return got;
}

// Opens `n` tunnels to `authority` in batches (CONNECTs of a batch in flight together).
// Tunnels the proxy refused are counted in `refused` with their status line kept.
struct Opened {
  std::vector<Fd> tunnels;
  std::size_t refused = 0, broken = 0;
  std::vector<std::string> refusal_lines;
};
Opened open_many(std::uint16_t proxy_port, const std::string& authority, std::size_t n,
                 Clock::time_point deadline) {
  Opened out;
  const std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
  for (std::size_t done = 0; done < n && Clock::now() < deadline;) {
    const std::size_t batch = std::min<std::size_t>(250, n - done);
    std::vector<Fd> fds;
    for (std::size_t i = 0; i < batch; ++i) {
      Fd fd = connect_loopback(proxy_port);
      if (!fd || !send_all(fd.get(), req)) {
        ++out.broken;
        continue;
      }
      fds.push_back(std::move(fd));
    }
    for (auto& fd : fds) {
      const auto head = read_head(fd.get(), 10s);
      const auto line = head.data.substr(0, head.data.find("\r\n"));
      if (line.rfind("HTTP/1.1 200", 0) == 0) {
        out.tunnels.push_back(std::move(fd));
      } else {
        ++out.refused;
        if (out.refusal_lines.size() < 3) out.refusal_lines.push_back(line);
      }
    }
    done += batch;
  }
  return out;
}

// Sends a distinct message on every tunnel, then reads every echo back (all in flight).
// Returns how many echoes came back intact.
std::size_t use_all(std::vector<Fd>& tunnels, const std::string& tag, Clock::time_point deadline) {
  std::vector<std::string> want(tunnels.size()), got(tunnels.size());
  for (std::size_t i = 0; i < tunnels.size(); ++i) {
    want[i] = tag + " " + std::to_string(i) + "\n";
    (void)send_all(tunnels[i].get(), want[i]);
  }
  std::vector<pollfd> pfds;
  std::vector<std::size_t> index;
  std::size_t ok = 0;
  std::vector<bool> done(tunnels.size(), false);
  char buf[256];
  while (ok < tunnels.size() && Clock::now() < deadline) {
    pfds.clear();
    index.clear();
    for (std::size_t i = 0; i < tunnels.size(); ++i)
      if (!done[i]) {
        pfds.push_back({tunnels[i].get(), POLLIN, 0});
        index.push_back(i);
      }
    if (::poll(pfds.data(), pfds.size(), 200) <= 0) continue;
    for (std::size_t k = 0; k < pfds.size(); ++k) {
      if (!pfds[k].revents) continue;
      const auto i = index[k];
      const auto n = ::recv(tunnels[i].get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        done[i] = true;  // closed: counted as a failure
        continue;
      }
      got[i].append(buf, static_cast<std::size_t>(n));
      if (got[i].size() >= want[i].size()) {
        done[i] = true;
        if (got[i] == want[i]) ++ok;
      }
    }
  }
  return ok;
}

// Waits (bounded) until the proxy holds at most `fds` descriptors.
std::size_t settle_fds(pid_t pid, std::size_t fds, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  std::size_t now = open_fds(pid);
  while (now > fds && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    now = open_fds(pid);
  }
  return now;
}

}  // namespace

TEST_CASE("thousands of concurrent tunnels held open and used", "[hardening][load]") {
  const std::size_t n = env_size("TLSPROBE_LOAD_TUNNELS", 2000);
  // This process holds the client ends; the echo child and the proxy hold theirs.
  const auto limit = raise_own_fd_limit(n + 256);
  if (limit < n + 256) {
    WARN("RLIMIT_NOFILE hard limit " << limit << " is below " << n + 256 << ": skipped");
    return;
  }
  EchoServerProcess echo(n + 256);
  ProxyProcess proxy({.config_toml = load_config});
  const std::size_t fds_idle = open_fds(proxy.pid());
  const long rss_idle = rss_kib(proxy.pid());
  const auto deadline = Clock::now() + std::chrono::seconds(30 + n / 100);

  const auto t0 = Clock::now();
  auto opened = open_many(proxy.port(), echo.authority(), n, deadline);
  const double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
  INFO("refused " << opened.refused << " broken " << opened.broken << " first refusal: "
                  << (opened.refusal_lines.empty() ? "" : opened.refusal_lines[0]));
  REQUIRE(opened.tunnels.size() == n);

  const auto t1 = Clock::now();
  const std::size_t ok1 = use_all(opened.tunnels, "first", deadline);
  const std::size_t ok2 = use_all(opened.tunnels, "second", deadline);
  const double use_s = std::chrono::duration<double>(Clock::now() - t1).count();
  const std::size_t fds_open = open_fds(proxy.pid());
  const long rss_open = rss_kib(proxy.pid());
  CHECK(ok1 == n);
  CHECK(ok2 == n);
  CHECK(fds_open >= 2 * n);

  opened.tunnels.clear();
  const std::size_t fds_after = settle_fds(proxy.pid(), fds_idle + 4, 15s);
  const long rss_after = rss_kib(proxy.pid());
  WARN("load: " << n << " tunnels opened in " << open_s << " s, two echo rounds over all in "
                << use_s << " s; proxy fds " << fds_idle << " -> " << fds_open << " -> "
                << fds_after << ", RSS KiB " << rss_idle << " -> " << rss_open << " -> "
                << rss_after << " (" << (rss_open - rss_idle) * 1024 / static_cast<long>(n)
                << " bytes per tunnel)");
  CHECK(fds_after <= fds_idle + 4);
  const auto exit = proxy.stop();
  CHECK(exit.code == 0);
  CHECK(read_lines(proxy.log_path()).size() == n);
}

TEST_CASE("a low descriptor limit: extra clients are refused cleanly, the rest are served",
          "[hardening][load]") {
  EchoServerProcess echo;
  // 256 descriptors: the proxy admits (256 - 128) / 2 = 64 clients (tools/proxy_cmd.cpp).
  ProxyProcess proxy({.config_toml = load_config, .fd_limit = 256});
  const auto deadline = Clock::now() + 60s;
  auto opened = open_many(proxy.port(), echo.authority(), 150, deadline);
  INFO("admitted " << opened.tunnels.size() << ", refused " << opened.refused << ", broken "
                   << opened.broken << "; first refusal: "
                   << (opened.refusal_lines.empty() ? "" : opened.refusal_lines[0]));
  CHECK(opened.tunnels.size() >= 32);
  CHECK(opened.tunnels.size() <= 64);
  CHECK(opened.refused + opened.broken == 150 - opened.tunnels.size());
  for (const auto& line : opened.refusal_lines) CHECK(line.rfind("HTTP/1.1 503", 0) == 0);

  // Refused clients keep knocking; the proxy must not spin on accept.
  const double cpu0 = cpu_seconds(proxy.pid());
  for (int i = 0; i < 50; ++i) {
    std::string status;
    (void)open_tunnel(proxy.port(), echo.authority(), &status, 2s);
  }
  std::this_thread::sleep_for(1s);
  const double cpu = cpu_seconds(proxy.pid()) - cpu0;
  CHECK(cpu < 1.0);

  CHECK(use_all(opened.tunnels, "admitted", deadline) == opened.tunnels.size());
  opened.tunnels.clear();
  std::this_thread::sleep_for(300ms);
  // Once they are gone, new clients are served again.
  auto again = open_many(proxy.port(), echo.authority(), 20, deadline);
  CHECK(again.tunnels.size() == 20);
  CHECK(use_all(again.tunnels, "again", deadline) == 20);
  again.tunnels.clear();
  CHECK(proxy.stop().code == 0);
}

TEST_CASE("a sustained mix of traffic leaves descriptors and memory flat", "[hardening][load]") {
  const auto seconds = std::chrono::seconds(env_size("TLSPROBE_MIX_SECONDS", 8));
  EchoServerProcess echo;
  // Intercepted traffic goes to an in-process TLS origin named mix.test; the echo server is
  // reached by address and listed in no_intercept, so its tunnels stay plain tunnels.
  const auto pki = testpki::make_hierarchy({"mix.test"}, testpki::now());
  const testpki::TempPemFile root_pem(pki.root.cert_pem());
  const std::string page = "<p>intercepted</p>";
  testsupport::TlsServerOptions tls_opts;
  tls_opts.default_chain = testsupport::ServedChain::of(pki);
  tls_opts.reply = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                   std::to_string(page.size()) + "\r\nConnection: close\r\n\r\n" + page;
  testsupport::TlsTestServer origin(tls_opts);
  const std::string mix_config = std::string(load_config) + "[trust]\nca_files = [\"" +
                                 root_pem.path() +
                                 "\"]\n[resolve]\n\"mix.test:" + std::to_string(origin.port()) +
                                 "\" = \"127.0.0.1\"\n[intercept]\nenabled = true\n"
                                 "no_intercept = [\"127.0.0.1\"]\n";
  ProxyProcess proxy({.config_toml = mix_config, .extra = {"--state-dir", "{dir}/state"}});
  const std::string ca_file = (proxy.dir() / "state" / "ca.pem").string();
  const std::uint16_t refused_port = [] {
    // Bound and never listening: connections to it are refused (502).
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }();

  std::atomic<std::uint64_t> tunnels{0}, forwards{0}, intercepts{0}, bad{0}, refused{0},
      failures{0};
  auto run_mix = [&](std::chrono::seconds how_long) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int w = 0; w < 6; ++w) {
      workers.emplace_back([&, w] {
        for (std::uint64_t i = 0; !stop.load(); ++i) {
          switch ((i + static_cast<std::uint64_t>(w)) % 5) {
            case 0:
            case 1: {  // a tunnel carrying 16 KiB each way
              auto t = open_tunnel(proxy.port(), echo.authority(), nullptr, 5s);
              const std::string msg(16384, static_cast<char>('a' + i % 26));
              if (t && send_all(t.get(), msg) && ::shutdown(t.get(), SHUT_WR) == 0 &&
                  read_to_end(t.get(), 5s).data == msg)
                ++tunnels;
              else
                ++failures;
              break;
            }
            case 2: {  // a plain-HTTP request in absolute form
              auto c = connect_loopback(proxy.port());
              const std::string req = "GET http://" + echo.authority() +
                                      "/x HTTP/1.1\r\nHost: " + echo.authority() +
                                      "\r\nConnection: close\r\n\r\n";
              const auto r = c && send_all(c.get(), req) ? read_to_end(c.get(), 5s) : ReadResult{};
              if (r.data.rfind("HTTP/1.1 200", 0) == 0 && r.data.find("hello") != std::string::npos)
                ++forwards;
              else
                ++failures;
              break;
            }
            case 3: {  // an intercepted HTTPS GET (minted leaf, verified upstream)
              const auto r = intercepted_get(proxy.port(), "mix.test", origin.port(), ca_file);
              if (r.rfind("HTTP/1.1 200", 0) == 0 && r.find(page) != std::string::npos)
                ++intercepts;
              else
                ++failures;
              break;
            }
            default: {  // garbage, then a CONNECT to a refused port
              auto c = connect_loopback(proxy.port());
              if (c && send_all(c.get(), "\x16\x03\x01 not a request\r\n\r\n")) {
                if (read_to_end(c.get(), 5s).data.rfind("HTTP/1.1 400", 0) == 0)
                  ++bad;
                else
                  ++failures;
              }
              std::string status;
              (void)open_tunnel(proxy.port(), "127.0.0.1:" + std::to_string(refused_port), &status,
                                5s);
              if (status.rfind("HTTP/1.1 502", 0) == 0)
                ++refused;
              else
                ++failures;
            }
          }
        }
      });
    }
    std::this_thread::sleep_for(how_long);
    stop = true;
    for (auto& t : workers) t.join();
  };

  run_mix(std::chrono::seconds(2));  // warm-up: pools, caches and allocator arenas fill
  const std::size_t fds_base = settle_fds(proxy.pid(), 0, 1s);
  const long rss_base = rss_kib(proxy.pid());
  const auto before = tunnels + forwards + intercepts + bad + refused;
  run_mix(seconds);
  const auto total = tunnels + forwards + intercepts + bad + refused - before;
  const std::size_t fds_end = settle_fds(proxy.pid(), fds_base, 10s);
  const long rss_end = rss_kib(proxy.pid());
  WARN("mix: " << total << " exchanges in " << seconds.count() << " s (tunnels " << tunnels
               << ", forwards " << forwards << ", intercepted " << intercepts << ", bad requests "
               << bad << ", refused upstream " << refused << ", failures " << failures
               << "); proxy fds " << fds_base << " -> " << fds_end << ", RSS KiB " << rss_base
               << " -> " << rss_end);
  CHECK(failures.load() == 0);
  CHECK(total > 100);
  CHECK(intercepts.load() > 0);
  CHECK(fds_end <= fds_base);
  if (!sanitized_build) CHECK(rss_end - rss_base < 16 * 1024);
  CHECK(proxy.stop().code == 0);
  // Every finished exchange has its line, the intercepted ones included.
  const auto lines = read_lines(proxy.log_path());
  const auto intercept_lines = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("mix.test") != std::string::npos;
  });
  CHECK(static_cast<std::uint64_t>(intercept_lines) >= intercepts.load());
}
