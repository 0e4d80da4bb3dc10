#include "config/address.hpp"
#include "config/load.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::config;

TEST_CASE("parse_host_port accepts host, IPv4 and bracketed IPv6 with and without port") {
  auto a = parse_host_port("www.example.com:8443", 443);
  REQUIRE(a);
  CHECK(a->host == "www.example.com");
  CHECK(a->port == 8443);

  auto b = parse_host_port("example.com", 443);
  REQUIRE(b);
  CHECK(b->port == 443);

  auto c = parse_host_port("[::1]:8080", 0);
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->port == 8080);
  CHECK(format_host_port(*c) == "[::1]:8080");

  auto d = parse_host_port("[2001:db8::1]", 443);
  REQUIRE(d);
  CHECK(d->host == "2001:db8::1");
  CHECK(d->port == 443);

  auto e = parse_host_port("127.0.0.1:65535", 0);
  REQUIRE(e);
  CHECK(e->port == 65535);
}

TEST_CASE("parse_host_port rejects bad ports and garbage with a reason") {
  for (const char* bad :
       {"host:0", "host:65536", "host:99999999999", "host:", "host:8a", ":80", "", "::1", "::1:80",
        "[::1", "[::1]x", "[nothost]:80", "ho st:80", "host:-1"}) {
    INFO(bad);
    auto r = parse_host_port(bad, 443);
    CHECK_FALSE(r);
    CHECK_FALSE(r.error.empty());
    CHECK(r.error.find('\n') == std::string::npos);
  }
  CHECK_FALSE(parse_host_port("example.com", 0));  // port required
}

TEST_CASE("parse_cidr and cidr_contains handle IPv4, IPv6 and IPv4-mapped IPv6") {
  auto v4 = parse_cidr("10.0.0.0/8");
  REQUIRE(v4);
  CHECK(cidr_contains(*v4, "10.1.2.3"));
  CHECK_FALSE(cidr_contains(*v4, "11.0.0.1"));
  CHECK(cidr_contains(*v4, "::ffff:10.9.9.9"));
  CHECK(cidr_contains(*v4, "[::ffff:10.9.9.9]"));
  CHECK_FALSE(cidr_contains(*v4, "not-an-ip"));

  auto v6 = parse_cidr("2001:db8::/32");
  REQUIRE(v6);
  CHECK(cidr_contains(*v6, "2001:db8:1::5"));
  CHECK_FALSE(cidr_contains(*v6, "2001:db9::1"));
  CHECK_FALSE(cidr_contains(*v6, "10.0.0.1"));

  auto host = parse_cidr("192.168.1.7");
  REQUIRE(host);
  CHECK(cidr_contains(*host, "192.168.1.7"));
  CHECK_FALSE(cidr_contains(*host, "192.168.1.8"));

  auto all4 = parse_cidr("0.0.0.0/0");
  REQUIRE(all4);
  CHECK(cidr_contains(*all4, "8.8.8.8"));
  CHECK_FALSE(cidr_contains(*all4, "2001:db8::1"));  // only the IPv4 space

  auto host_bits = parse_cidr("10.1.2.3/8");  // host bits cleared, not rejected
  REQUIRE(host_bits);
  CHECK(cidr_contains(*host_bits, "10.200.0.1"));

  auto odd = parse_cidr("192.168.0.0/23");
  REQUIRE(odd);
  CHECK(cidr_contains(*odd, "192.168.1.255"));
  CHECK_FALSE(cidr_contains(*odd, "192.168.2.0"));

  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8",
                          "example.com/8", "", "10.0.0.0/-1"}) {
    INFO(bad);
    CHECK_FALSE(parse_cidr(bad));
  }
}

TEST_CASE("is_loopback recognises IPv4, IPv6, mapped and localhost") {
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("127.8.9.10"));
  CHECK(is_loopback("::1"));
  CHECK(is_loopback("[::1]"));
  CHECK(is_loopback("::ffff:127.0.0.1"));
  CHECK(is_loopback("localhost"));
  CHECK_FALSE(is_loopback("0.0.0.0"));
  CHECK_FALSE(is_loopback("::"));
  CHECK_FALSE(is_loopback("192.168.1.1"));
  CHECK_FALSE(is_loopback("::2"));
  CHECK_FALSE(is_loopback("example.com"));
}

TEST_CASE("parse_duration accepts seconds and units") {
  using namespace std::chrono;
  CHECK(*parse_duration("10") == seconds(10));
  CHECK(*parse_duration("10s") == seconds(10));
  CHECK(*parse_duration("500ms") == milliseconds(500));
  CHECK(*parse_duration("5m") == minutes(5));
  CHECK(*parse_duration("1h") == hours(1));
  CHECK(*parse_duration("0s") == milliseconds(0));
  for (const char* bad : {"", "s", "10 s", "-5s", "10d", "1.5s", "10sec", "99999999999999h"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
}

TEST_CASE("parse_url splits scheme, authority and path") {
  auto u = parse_url("https://origin.internal:8443/base");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->authority.host == "origin.internal");
  CHECK(u->authority.port == 8443);
  CHECK(u->path == "/base");
  auto d = parse_url("http://example.com");
  REQUIRE(d);
  CHECK(d->authority.port == 80);
  CHECK(d->path == "/");
  CHECK(parse_url("HTTPS://[::1]")->authority.port == 443);
  CHECK_FALSE(parse_url("ftp://example.com"));
  CHECK_FALSE(parse_url("example.com"));
  CHECK_FALSE(parse_url("https://user@example.com"));
  CHECK_FALSE(parse_url("https://example.com:0/"));
}

TEST_CASE("client_allowed: loopback always, others only inside an allow CIDR") {
  std::vector<Cidr> none;
  CHECK(client_allowed(none, "127.0.0.1"));
  CHECK(client_allowed(none, "::1"));
  CHECK_FALSE(client_allowed(none, "192.168.1.5"));
  std::vector<Cidr> lan = {*parse_cidr("192.168.1.0/24")};
  CHECK(client_allowed(lan, "192.168.1.5"));
  CHECK(client_allowed(lan, "::ffff:192.168.1.5"));
  CHECK(client_allowed(lan, "127.0.0.1"));
  CHECK_FALSE(client_allowed(lan, "10.0.0.1"));
}

TEST_CASE("listen_policy_error refuses a public listen address without allow") {
  CHECK(listen_policy_error("127.0.0.1:8080", {}).empty());
  CHECK(listen_policy_error("[::1]:8080", {}).empty());
  CHECK(listen_policy_error("localhost:8080", {}).empty());
  CHECK_FALSE(listen_policy_error("0.0.0.0:8080", {}).empty());
  CHECK(listen_policy_error("0.0.0.0:8080", {"10.0.0.0/8"}).empty());
  CHECK_FALSE(listen_policy_error("0.0.0.0:8080", {"10.0.0.0/99"}).empty());
  CHECK_FALSE(listen_policy_error("0.0.0.0:65536", {"10.0.0.0/8"}).empty());
  // Port 0 (any free port) is a listen address like any other; the policy is about the host.
  CHECK(listen_policy_error("127.0.0.1:0", {}).empty());
  CHECK(listen_policy_error("0.0.0.0:0", {"10.0.0.0/8"}).empty());
  CHECK_FALSE(listen_policy_error("0.0.0.0:0", {}).empty());
}

TEST_CASE("parse_listen_address accepts port 0 (the OS picks a free port); destinations do not") {
  auto v4 = parse_listen_address("127.0.0.1:0", 8080);
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 0);
  CHECK(format_host_port(*v4) == "127.0.0.1:0");

  auto v6 = parse_listen_address("[::1]:0", 0);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);

  auto named = parse_listen_address("localhost:0", 0);
  REQUIRE(named);
  CHECK(named->port == 0);

  auto dflt = parse_listen_address("127.0.0.1", 8080);
  REQUIRE(dflt);
  CHECK(dflt->port == 8080);

  // Everything else is checked as for parse_host_port.
  for (const char* bad : {"127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-0", "127.0.0.1:0x", ":0",
                          "::1:0", "[::1]x", ""}) {
    INFO(bad);
    auto r = parse_listen_address(bad, 8080);
    CHECK_FALSE(r);
    CHECK_FALSE(r.error.empty());
  }
  CHECK_FALSE(parse_listen_address("127.0.0.1", 0));  // port still required when no default

  // A destination on port 0 stays an error.
  CHECK_FALSE(parse_host_port("127.0.0.1:0", 443));
  CHECK_FALSE(parse_url("http://127.0.0.1:0/"));
}

TEST_CASE("the config file's listen key accepts port 0 like --listen") {
  const auto c = parse_config("listen = \"127.0.0.1:0\"\n", "t.toml");
  CHECK(c.listen == "127.0.0.1:0");
  CHECK_THROWS_AS(
      parse_config("[[site]]\nhost = \"a.example\"\norigin = \"1.2.3.4:0\"\n", "t.toml"),
      ConfigError);
}

TEST_CASE("format_host_port brackets IPv6 literals, once, and nothing else") {
  CHECK(format_host_port("example.com", 443) == "example.com:443");
  CHECK(format_host_port("127.0.0.1", 8080) == "127.0.0.1:8080");
  CHECK(format_host_port("::1", 8443) == "[::1]:8443");
  CHECK(format_host_port("2001:db8::1", 1) == "[2001:db8::1]:1");
  CHECK(format_host_port("[::1]", 80) == "[::1]:80");  // already bracketed: not twice
  CHECK(format_host_port("", 80) == ":80");            // no host: no brackets, no crash
  // Round trip through the parser, for every form the parser accepts.
  for (const char* text : {"example.com:443", "10.0.0.1:1", "[::1]:8080", "[fe80::1]:65535"}) {
    INFO(text);
    const auto hp = parse_host_port(text, 0);
    REQUIRE(hp);
    CHECK(format_host_port(*hp) == text);
  }
}

TEST_CASE("format_url_authority drops only the scheme's port, and keeps IPv6 brackets") {
  CHECK(format_url_authority("example.com", 80, 80) == "example.com");
  CHECK(format_url_authority("example.com", 8080, 80) == "example.com:8080");
  CHECK(format_url_authority("::1", 443, 443) == "[::1]");
  CHECK(format_url_authority("::1", 8443, 443) == "[::1]:8443");
  CHECK(format_url_authority("127.0.0.1", 443, 80) == "127.0.0.1:443");
}

TEST_CASE("cidr_contains and client_allowed on bytes agree with the text forms") {
  const auto v4 = parse_cidr("10.0.0.0/8");
  const auto v6 = parse_cidr("2001:db8::/32");
  REQUIRE(v4);
  REQUIRE(v6);
  for (const char* a : {"10.1.2.3", "::ffff:10.1.2.3", "11.0.0.1", "2001:db8::5", "2001:db9::1",
                        "127.0.0.1", "::1", "::ffff:127.0.0.9"}) {
    INFO(a);
    const auto ip = parse_ip(a);
    REQUIRE(ip);
    CHECK(cidr_contains(*v4, *ip) == cidr_contains(*v4, a));
    CHECK(cidr_contains(*v6, *ip) == cidr_contains(*v6, a));
    CHECK(is_loopback(*ip) == is_loopback(a));
    CHECK(client_allowed({*v4}, *ip) == client_allowed({*v4}, a));
  }
  CHECK(client_allowed({*v4}, *parse_ip("::ffff:10.9.9.9")));
  CHECK_FALSE(client_allowed({*v4}, *parse_ip("2001:db8::5")));
  CHECK(client_allowed({}, *parse_ip("::ffff:127.0.0.9")));  // loopback needs no CIDR
}

TEST_CASE("is_ip_literal: IPv4, IPv6 (bracketed or not), never names or garbage") {
  for (const char* ip : {"127.0.0.1", "::1", "[::1]", "2001:db8::1", "::ffff:10.0.0.1"}) {
    INFO(ip);
    CHECK(is_ip_literal(ip));
  }
  for (const char* not_ip : {"", "example.com", "1.2.3", "1.2.3.4.5", "256.0.0.1", "[::1", "::1]",
                             "[]", "1.2.3.4:80", "::g", "[example.com]"}) {
    INFO(not_ip);
    CHECK_FALSE(is_ip_literal(not_ip));
  }
}
