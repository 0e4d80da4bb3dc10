// proxy/net/destination_policy.hpp: which destinations a client may make the proxy connect to
// (loops to our own listeners, the host's loopback while serving a network) and how
// clients are counted for the per-client connection cap. Pure functions, no sockets.
#include "proxy/net/destination_policy.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe::proxy;
namespace ip = boost::asio::ip;

namespace {

ip::tcp::endpoint ep(const char* address, std::uint16_t port) {
  return {ip::make_address(address), port};
}

Cidr cidr(const char* text) {
  auto c = tlsprobe::config::parse_cidr(text);
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("destination policy: the proxy's own listeners on any local address are a loop",
          "[destination_policy]") {
  DestinationRules rules;
  rules.own_ports = {8080, 9464};  // the proxy and the admin listener
  rules.host_addresses = {ip::make_address("192.0.2.2"), ip::make_address("fd00::2")};
  // The review's finding: 0.0.0.0 connects to the host itself and was answered 200.
  for (const char* a :
       {"0.0.0.0", "::", "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1",
        "::ffff:0.0.0.0", "192.0.2.2", "fd00::2", "::ffff:192.0.2.2"}) {
    INFO(a);
    CHECK(judge_destination(rules, ep(a, 8080)) == DestinationVerdict::own_listener);
    CHECK(judge_destination(rules, ep(a, 9464)) == DestinationVerdict::own_listener);
    // Other ports of this host are ordinary destinations while listening on loopback.
    CHECK(judge_destination(rules, ep(a, 8081)) == DestinationVerdict::allowed);
  }
  // Our port on another machine is someone else's proxy, not a loop.
  CHECK(judge_destination(rules, ep("192.0.2.77", 8080)) == DestinationVerdict::allowed);
  CHECK(judge_destination(rules, ep("2001:db8::1", 8080)) == DestinationVerdict::allowed);
  // allow_destinations never opens the proxy's own ports.
  rules.beyond_loopback = true;
  rules.allow_destinations = {cidr("0.0.0.0/0"), cidr("::/0")};
  CHECK(judge_destination(rules, ep("127.0.0.1", 9464)) == DestinationVerdict::own_listener);
  CHECK(judge_destination(rules, ep("0.0.0.0", 8080)) == DestinationVerdict::own_listener);
}

TEST_CASE("destination policy: beyond loopback, the host's loopback and link-local are refused",
          "[destination_policy]") {
  DestinationRules rules;
  rules.own_ports = {3128};
  const auto local = {"127.0.0.1", "127.3.4.5",       "::1",     "::ffff:127.0.0.1",  "0.0.0.0",
                      "::",        "169.254.169.254", "fe80::1", "::ffff:169.254.1.1"};
  SECTION("listening on loopback: local development servers are ordinary destinations") {
    for (const char* a : local) {
      INFO(a);
      CHECK(judge_destination(rules, ep(a, 5432)) == DestinationVerdict::allowed);
    }
  }
  SECTION("listening beyond loopback: refused unless allow_destinations names them") {
    rules.beyond_loopback = true;
    for (const char* a : local) {
      INFO(a);
      CHECK(judge_destination(rules, ep(a, 5432)) == DestinationVerdict::host_local);
    }
    CHECK(judge_destination(rules, ep("192.0.2.10", 5432)) == DestinationVerdict::allowed);
    CHECK(judge_destination(rules, ep("2001:db8::10", 443)) == DestinationVerdict::allowed);
    rules.allow_destinations = {cidr("127.0.0.1/32")};
    CHECK(judge_destination(rules, ep("127.0.0.1", 5432)) == DestinationVerdict::allowed);
    CHECK(judge_destination(rules, ep("::ffff:127.0.0.1", 5432)) == DestinationVerdict::allowed);
    CHECK(judge_destination(rules, ep("127.0.0.2", 5432)) == DestinationVerdict::host_local);
    CHECK(judge_destination(rules, ep("::1", 5432)) == DestinationVerdict::host_local);
    CHECK(judge_destination(rules, ep("169.254.169.254", 80)) == DestinationVerdict::host_local);
  }
}

TEST_CASE("destination policy: address classes", "[destination_policy]") {
  CHECK(unmapped(ip::make_address("::ffff:10.1.2.3")) == ip::make_address("10.1.2.3"));
  CHECK(unmapped(ip::make_address("2001:db8::1")) == ip::make_address("2001:db8::1"));
  CHECK(is_loopback_or_link_local(ip::make_address("169.254.0.1")));
  CHECK_FALSE(is_loopback_or_link_local(ip::make_address("169.255.0.1")));
  CHECK_FALSE(is_loopback_or_link_local(ip::make_address("10.0.0.1")));
  CHECK_FALSE(is_loopback_or_link_local(ip::make_address("fec0::1")));
  CHECK(is_host_address(ip::make_address("127.9.9.9"), {}));
  CHECK_FALSE(is_host_address(ip::make_address("10.0.0.1"), {}));
  CHECK(is_host_address(ip::make_address("::ffff:10.0.0.1"), {ip::make_address("10.0.0.1")}));
}

TEST_CASE("destination policy: interface_addresses lists this host's own addresses",
          "[destination_policy]") {
  const auto all = interface_addresses();
  // Every Linux host has lo; its 127.0.0.1 is listed (unmapped, comparable).
  CHECK(std::find(all.begin(), all.end(), ip::make_address("127.0.0.1")) != all.end());
}

TEST_CASE("destination policy: clients are counted per IPv4 address and per IPv6 /64",
          "[destination_policy]") {
  CHECK(client_key(ip::make_address("127.0.0.1")).to_string() == "127.0.0.1");
  CHECK(client_key(ip::make_address("::ffff:127.0.0.1")).to_string() == "127.0.0.1");
  CHECK(client_key(ip::make_address("127.0.0.2")) != client_key(ip::make_address("127.0.0.1")));
  CHECK(client_key(ip::make_address("2001:db8:1:2::1")) ==
        client_key(ip::make_address("2001:db8:1:2:ffff::9")));
  CHECK(client_key(ip::make_address("2001:db8:1:2::1")).to_string() == "2001:db8:1:2::");  // /64
  CHECK(client_key(ip::make_address("2001:db8:1:3::1")) !=
        client_key(ip::make_address("2001:db8:1:2::1")));
}

#include "proxy/net/proxy_context.hpp"

TEST_CASE("ProxyContext: one client address at its cap leaves room for the others",
          "[destination_policy]") {
  ProxySettings s;
  s.limits.max_connections = 10;
  s.limits.max_connections_per_client = 3;
  ProxyContext ctx(s, nullptr, nullptr);
  const auto a = ip::make_address("127.0.0.1"), b = ip::make_address("127.0.0.2");
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto adm = ctx.admit([] {}, a);
    REQUIRE(adm.id);
    ids.push_back(*adm.id);
  }
  const auto over = ctx.admit([] {}, a);
  CHECK_FALSE(over.id);
  CHECK(over.refusal == ProxyContext::Refusal::client_limit);
  // The same client through its IPv4-mapped form is the same client.
  CHECK(ctx.admit([] {}, ip::make_address("::ffff:127.0.0.1")).refusal ==
        ProxyContext::Refusal::client_limit);
  auto other = ctx.admit([] {}, b);
  REQUIRE(other.id);
  CHECK(ctx.open_connections() == 4);
  // A closed connection frees its client's slot.
  ctx.release(ids.back());
  auto again = ctx.admit([] {}, a);
  CHECK(again.id);
  // The total limit still holds for everyone.
  for (int i = 0; i < 10; ++i)
    ctx.admit([] {}, ip::make_address("10.0.0." + std::to_string(i + 1)));
  CHECK(ctx.open_connections() == 10);
  CHECK(ctx.admit([] {}, ip::make_address("10.9.9.9")).refusal ==
        ProxyContext::Refusal::total_limit);
}

TEST_CASE("ProxyContext: loops are judged with the bound port, the admin port and interfaces",
          "[destination_policy]") {
  ProxySettings s;
  s.listen = ep("0.0.0.0", 0);
  ProxyContext ctx(s, nullptr, nullptr);
  ctx.set_listen_endpoint(ep("0.0.0.0", 18080));
  ctx.add_own_port(19464);
  CHECK(ctx.judge_destination(ep("0.0.0.0", 18080)) == DestinationVerdict::own_listener);
  CHECK(ctx.judge_destination(ep("127.0.0.1", 19464)) == DestinationVerdict::own_listener);
  CHECK(ctx.is_self(ep("::", 19464)));
  // Every address of this host's interfaces reaches a 0.0.0.0 listener.
  for (const auto& a : interface_addresses()) {
    INFO(a.to_string());
    CHECK(ctx.judge_destination({a, 18080}) == DestinationVerdict::own_listener);
  }
  // Listening on 0.0.0.0 serves the network: other loopback ports are refused too.
  CHECK(ctx.judge_destination(ep("127.0.0.1", 5432)) == DestinationVerdict::host_local);
  CHECK(ctx.judge_destination(ep("192.0.2.200", 18080)) == DestinationVerdict::allowed);
}
