// An intercepted CONNECT is counted in the metrics from the moment it is handled, while it
// is open (issue 14 item 6: intercept and reverse connections were counted only at close,
// so a scrape never showed them).
#include "intercept_fixture.hpp"
#include "support/loopback_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using namespace std::chrono_literals;

TEST_CASE("intercept: a connection is counted in the metrics while it is open", "[metrics]") {
  // An upstream that accepts and waits: the proxy answers 200 and then waits for the
  // client's ClientHello, the connection open in intercept mode.
  testsupport::LoopbackServer upstream(
      [&](int fd) {
        while (!upstream.stopping()) upstream.wait_readable(fd, 100ms);
      },
      1);
  InterceptingProxy proxy(ProxyOptions{});
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(proxy.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string connect =
        "CONNECT " + upstream.address() + " HTTP/1.1\r\nHost: " + upstream.address() + "\r\n\r\n";
    REQUIRE(::send(fd, connect.data(), connect.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(connect.size()));
    char buf[256] = {};
    const auto n = ::recv(fd, buf, sizeof buf - 1, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buf).rfind("HTTP/1.1 200", 0) == 0);
    // Open, in intercept mode (the proxy now peeks for the ClientHello).
    CHECK(proxy.metrics().counter_value("tlsprobe_connections_total", {"intercept"}) == 1);
    CHECK(proxy.metrics().open_connections() == 1);
    ::close(fd);
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && proxy.metrics().open_connections() != 0)
    std::this_thread::sleep_for(20ms);
  CHECK(proxy.metrics().open_connections() == 0);
  CHECK(proxy.metrics().counter_value("tlsprobe_connections_total", {"intercept"}) == 1);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(str_at(lines[0], {"tlsprobe", "mode"}) == "intercept");
}
