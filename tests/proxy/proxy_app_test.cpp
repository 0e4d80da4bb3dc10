// proxy::build_proxy (proxy/app/proxy_app.hpp): the one assembly of `tlsprobe proxy`, run
// here from a test Config (issue 14 item 5): it serves, logs, refuses a config that cannot
// run, and builds a reload's settings the same way. Also the IPv6 vocabulary end to end
// (issue 14 item 4): an origin on [::1] is named with brackets in the Host header it gets and
// in the log line.
#include "proxy_fixture.hpp"

#include "proxy/app/proxy_app.hpp"
#include "proxy/observe/connection_log.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <variant>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

using testsupport::TempDir;

// An HTTP origin on [::1]: answers one request per connection with the Host header it got
// as the body. Bounded: each accept and read waits at most 10 s.
class Ipv6HostEcho {
 public:
  Ipv6HostEcho() {
    fd_ = ::socket(AF_INET6, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin6_port);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { serve_one(); });
  }
  ~Ipv6HostEcho() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void serve_one() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{10, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      const auto n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    std::string host;
    if (const auto at = req.find("\r\nHost: "); at != std::string::npos)
      host = req.substr(at + 8, req.find("\r\n", at + 8) - at - 8);
    const std::string res = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(host.size()) +
                            "\r\nConnection: close\r\n\r\n" + host;
    (void)::write(c, res.data(), res.size());
    ::close(c);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// The fixture's test configuration (proxy_fixture.hpp), its log in `dir`.
config::Config config_logging_to(const fs::path& dir) {
  auto cfg = test_config();
  cfg.log.file = (dir / "connections.jsonl").string();
  cfg.timeouts.drain = 500ms;
  return cfg;
}

std::string build_error(const config::Config& cfg) {
  try {
    (void)proxy::build_proxy(cfg);
  } catch (const proxy::ProxyBuildError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("build_proxy: a test Config serves a forward request, IPv6 named with brackets") {
  TempDir dir{"app"};
  Ipv6HostEcho origin;
  auto cfg = config_logging_to(dir.path);
  cfg.timeouts.idle = 7s;
  proxy::ProxyAppOptions options;
  options.threads = 2;
  auto app = proxy::build_proxy(cfg, options);
  // The config's values reach the running settings; what has no key keeps ProxySettings'.
  CHECK(app.settings().timeouts.idle == 7s);
  CHECK(app.settings().limits.max_header_bytes == config::Limits{}.max_header_bytes);
  CHECK(app.settings().threads == 2);
  CHECK(app.interceptor() == nullptr);
  CHECK(app.admin_port() == 0);
  const auto port = app.server().local_endpoint().port();
  std::thread runner([&app] { app.run(proxy::SignalHandling::none); });

  const std::string authority = "[::1]:" + std::to_string(origin.port());
  const auto r = curl(
      {"--proxy", "http://127.0.0.1:" + std::to_string(port), "http://" + authority + "/page"});
  app.shutdown();
  runner.join();
  INFO(r.err);
  CHECK(r.out == authority);  // the Host header the origin got

  std::ifstream in(dir.path / "connections.jsonl");
  std::string line;
  REQUIRE(std::getline(in, line));
  INFO(line);
  CHECK(line.find("\"message\":\"forward 127.0.0.1 -> " + authority + " GET 200") !=
        std::string::npos);
}

TEST_CASE("build_proxy: a config that cannot run is one line naming the key or flag") {
  TempDir dir{"app"};
  auto cfg = config_logging_to(dir.path);
  cfg.allow = {"10.0.0.0/33"};
  CHECK(build_error(cfg).rfind("--allow 10.0.0.0/33: ", 0) == 0);

  cfg = config_logging_to(dir.path);
  cfg.listen = "0.0.0.0:0";
  CHECK(build_error(cfg).find("without --allow") != std::string::npos);

  cfg = config_logging_to(dir.path);
  cfg.trust.ca_files = {(dir.path / "missing.pem").string()};
  CHECK(build_error(cfg).find("missing.pem") != std::string::npos);
}

TEST_CASE("build_proxy: a reload's settings come from the new config, restart-only keys warned") {
  TempDir dir{"app"};
  const auto cfg = config_logging_to(dir.path);
  auto app = proxy::build_proxy(cfg);

  auto next = cfg;
  next.timeouts.idle = 9s;
  next.limits.max_connections_per_client = 3;
  next.listen = "127.0.0.1:1";
  auto reloaded = app.reloaded_settings(next);
  auto* r = std::get_if<proxy::ReloadedSettings>(&reloaded);
  REQUIRE(r != nullptr);
  CHECK(r->settings.timeouts.idle == 9s);
  CHECK(r->settings.limits.max_connections_per_client == 3);
  REQUIRE(r->side_probe != nullptr);
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0] == "listen changed: takes effect after a restart");

  next = cfg;
  next.allow_destinations = {"not-a-cidr"};
  reloaded = app.reloaded_settings(next);
  REQUIRE(std::holds_alternative<std::string>(reloaded));
  CHECK(std::get<std::string>(reloaded).rfind("--allow-destination not-a-cidr: ", 0) == 0);
}
