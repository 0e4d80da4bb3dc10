// Under --intercept a CONNECT whose first client bytes are not TLS (plain HTTP over CONNECT,
// ws://, SSH through a proxy) is passed through as a byte tunnel, as tunnel mode does, and
// logged with reason not_tls. A broken ClientHello is still closed.
#include "intercept_fixture.hpp"
#include "support/loopback_client.hpp"
#include "support/proxy_origin.hpp"

#include <unistd.h>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;

namespace {

using testsupport::read_all;
using testsupport::send_all;

// A blocking client socket to the proxy with 5 s send/receive timeouts (read_all ends).
int connect_with_timeouts(std::uint16_t port) {
  const int fd = testsupport::connect_loopback(port, {.io_timeout = std::chrono::seconds(5)});
  REQUIRE(fd >= 0);
  return fd;
}

// The CONNECT answer, byte by byte: nothing of the tunnelled bytes behind it is consumed.
std::string read_connect_answer(int fd) { return testsupport::read_head(fd, 4096); }

std::string connect_request(const std::string& hostport) {
  return "CONNECT " + hostport + " HTTP/1.1\r\nHost: " + hostport + "\r\n\r\n";
}

std::string reason_of(const boost::json::object& line) {
  const auto* event = line.if_contains("event");
  if (!event || !event->is_object()) return "";
  const auto* reason = event->as_object().if_contains("reason");
  return reason && reason->is_string() ? std::string(reason->as_string()) : "";
}

}  // namespace

TEST_CASE("intercept: a CONNECT that is not TLS is tunnelled both ways and logged not_tls") {
  testsupport::EchoServer echo;
  InterceptingProxy proxy(ProxyOptions{});
  const int fd = connect_with_timeouts(proxy.port());
  REQUIRE(send_all(fd, connect_request(echo.address())));
  REQUIRE(read_connect_answer(fd).rfind("HTTP/1.1 200", 0) == 0);
  // The first bytes (what the proxy peeked) must go upstream first, then the rest.
  const std::string first = "SSH-2.0-OpenSSH_9.6 hello\r\n";
  const std::string more(100'000, 'm');
  REQUIRE(send_all(fd, first));
  CHECK(read_all(fd, first.size()) == first);  // a round trip while the tunnel is open
  REQUIRE(send_all(fd, more));
  ::shutdown(fd, SHUT_WR);  // the half-close reaches the echo server, which then closes
  CHECK(read_all(fd) == more);
  ::close(fd);

  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(reason_of(lines[0]) == "not_tls");
  // No ClientHello and no TLS to the echo server: no tls object at all (ECS: no empty
  // objects), so neither an SNI nor "established".
  CHECK(lines[0].if_contains("tls") == nullptr);
}

TEST_CASE("intercept: plain HTTP through CONNECT reaches the origin") {
  testsupport::ProxyOrigin origin;
  InterceptingProxy proxy(ProxyOptions{});
  const int fd = connect_with_timeouts(proxy.port());
  REQUIRE(send_all(fd, connect_request(origin.address())));
  REQUIRE(read_connect_answer(fd).rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(send_all(fd, "GET /bytes/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const auto answer = read_all(fd);
  ::close(fd);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.size() >= 5);
  CHECK(answer.substr(answer.size() - 5) == testsupport::pattern_bytes(5));
}

TEST_CASE("intercept: an invalid ClientHello is still closed, never tunnelled") {
  testsupport::EchoServer echo;
  InterceptingProxy proxy(ProxyOptions{});
  const int fd = connect_with_timeouts(proxy.port());
  REQUIRE(send_all(fd, connect_request(echo.address())));
  REQUIRE(read_connect_answer(fd).rfind("HTTP/1.1 200", 0) == 0);
  // A handshake record (0x16 0x03 0x01) whose message is not a ClientHello (type 2).
  const std::string bad("\x16\x03\x01\x00\x08\x02\x00\x00\x04\x03\x03\x00\x00", 13);
  REQUIRE(send_all(fd, bad));
  CHECK(read_all(fd).empty());  // closed; the echo server never saw the bytes
  ::close(fd);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(reason_of(lines[0]).rfind("client_hello_invalid", 0) == 0);
}
