// Forward mode on the one exchange loop (proxy/http/exchange_loop.hpp, issue 14 item 2): what
// it gained from the loop the other modes share. A 101 upgrade goes through (WebSocket over
// plain http://; forward answered the 101 and then dropped the connection's new protocol), and
// a keep-alive request whose head stalls gets a 408 instead of a silent close.
#include "proxy_fixture.hpp"
#include "support/relay_peers.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace tlsprobe::relaytest;

namespace {

// Accepts an upgrade to websocket (accept_upgrade_then_echo); anything else gets 400.
void upgrade_then_echo(PlainIo& io) {
  const auto head = io.read_until("\r\n\r\n");
  if (!head) return;
  const bool asked = head->find("Upgrade: websocket") != std::string::npos &&
                     head->find("Connection: upgrade") != std::string::npos;
  if (!asked) {
    io.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  accept_upgrade_then_echo(io);
}

}  // namespace

TEST_CASE("forward exchange: a 101 upgrade goes through and the new protocol flows both ways") {
  ScriptedOrigin origin(upgrade_then_echo);
  RunningProxy proxy(test_config());
  const int fd = connect_loopback(proxy.port());
  REQUIRE(fd >= 0);
  PlainIo client(fd);
  REQUIRE(client.write("GET http://" + origin.address() + "/ws HTTP/1.1\r\nHost: " +
                       origin.address() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  const auto head = client.read_until("\r\n\r\n");
  REQUIRE(head);
  INFO(*head);
  CHECK(head->rfind("HTTP/1.1 101", 0) == 0);
  CHECK(head->find("Via: 1.1 tlsprobe-") != std::string::npos);
  REQUIRE(client.write("ping"));
  CHECK(client.read_exact(4) == "PING");
  REQUIRE(client.write("again"));
  CHECK(client.read_exact(5) == "AGAIN");
  ::close(fd);
  proxy.stop();
  const auto records = proxy.log_records();
  REQUIRE(records.size() == 1);
  const auto* reason = find_path(records[0], "event.reason");
  REQUIRE(reason);
  CHECK(reason->as_string() == "upgraded");
}

TEST_CASE("forward exchange: a keep-alive request whose head stalls gets 408") {
  ScriptedOrigin origin([](PlainIo& io) {
    for (int i = 0; i < 4; ++i) {
      if (!io.read_until("\r\n\r\n")) return;
      if (!io.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) return;
    }
  });
  auto settings = test_config();
  settings.timeouts.idle = 1500ms;
  RunningProxy proxy(settings);
  const int fd = connect_loopback(proxy.port());
  REQUIRE(fd >= 0);
  PlainIo client(fd);
  const std::string get =
      "GET http://" + origin.address() + "/ HTTP/1.1\r\nHost: " + origin.address() + "\r\n\r\n";
  REQUIRE(client.write(get));
  const auto first = client.read_until("ok");
  REQUIRE(first);
  CHECK(first->rfind("HTTP/1.1 200", 0) == 0);
  // Half a head, then nothing: the idle deadline ends it with a 408, not a silent close.
  REQUIRE(client.write("GET http://" + origin.address() + "/ HTTP/1.1\r\nHos"));
  const auto answer = client.read_until("\r\n\r\n", 8s);
  ::close(fd);
  REQUIRE(answer);
  CHECK(answer->rfind("HTTP/1.1 408", 0) == 0);
}
