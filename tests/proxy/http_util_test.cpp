#include "proxy/http/http_util.hpp"
#include "proxy/net/proxy_settings.hpp"
#include "proxy/probe/probe_cache.hpp"

#include <boost/beast/http/fields.hpp>
#include <catch2/catch.hpp>

using namespace tlsprobe::proxy;
namespace http = boost::beast::http;

TEST_CASE("CONNECT targets parse as host:port, bracketed IPv6 included") {
  auto a = parse_authority("Example.COM:443");
  REQUIRE(a);
  CHECK(a->host == "example.com");
  CHECK(a->port == 443);
  auto v6 = parse_authority("[::1]:8443");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8443);
  CHECK_FALSE(parse_authority("example.com"));  // CONNECT needs a port
  CHECK_FALSE(parse_authority("example.com:0"));
  CHECK_FALSE(parse_authority("example.com:65536"));
  CHECK_FALSE(parse_authority("exa mple.com:443"));
  CHECK_FALSE(parse_authority("::1:443"));
  CHECK_FALSE(parse_authority(":443"));
}

TEST_CASE("absolute-form targets give scheme, authority and origin form") {
  auto t = parse_absolute_target("http://Host.test:8080/a/b?x=1#frag");
  REQUIRE(t);
  CHECK(t->scheme == "http");
  CHECK(t->authority.host == "host.test");
  CHECK(t->authority.port == 8080);
  CHECK(t->origin_form == "/a/b?x=1");
  auto d = parse_absolute_target("http://h.test");
  REQUIRE(d);
  CHECK(d->authority.port == 80);
  CHECK(d->origin_form == "/");
  auto q = parse_absolute_target("http://h.test?x");
  REQUIRE(q);
  CHECK(q->origin_form == "/?x");
  CHECK_FALSE(parse_absolute_target("/just/a/path"));
  CHECK_FALSE(parse_absolute_target("ftp://h.test/"));
  CHECK_FALSE(parse_absolute_target("http://user@h.test/"));
}

TEST_CASE("Basic proxy credentials are checked exactly") {
  // "user:secret" in base64.
  CHECK(basic_auth_matches("Basic dXNlcjpzZWNyZXQ=", "user:secret"));
  CHECK(basic_auth_matches("basic   dXNlcjpzZWNyZXQ=", "user:secret"));
  CHECK_FALSE(basic_auth_matches("Basic dXNlcjpzZWNyZXQ=", "user:secreT"));
  CHECK_FALSE(basic_auth_matches("Basic dXNlcjpzZWNyZXQ=", "user:secret2"));
  CHECK_FALSE(basic_auth_matches("Bearer dXNlcjpzZWNyZXQ=", "user:secret"));
  CHECK_FALSE(basic_auth_matches("Basic !!!", "user:secret"));
}

TEST_CASE("hop-by-hop headers and those named in Connection are removed") {
  http::fields f;
  f.set(http::field::connection, "keep-alive, X-Private");
  f.set("X-Private", "1");
  f.set(http::field::keep_alive, "timeout=5");
  f.set(http::field::proxy_authorization, "Basic abc");
  f.set(http::field::te, "trailers");
  f.set(http::field::upgrade, "websocket");
  f.set(http::field::proxy_connection, "keep-alive");
  f.set(http::field::accept, "*/*");
  strip_hop_by_hop(f);
  CHECK(f.count(http::field::connection) == 0);
  CHECK(f.count("X-Private") == 0);
  CHECK(f.count(http::field::keep_alive) == 0);
  CHECK(f.count(http::field::proxy_authorization) == 0);
  CHECK(f.count(http::field::te) == 0);
  CHECK(f.count(http::field::upgrade) == 0);
  CHECK(f.count(http::field::proxy_connection) == 0);
  CHECK(f.count(http::field::accept) == 1);
}

TEST_CASE("our own Via token is recognised, others are not") {
  CHECK(via_names_us("1.1 tlsprobe-0000abcd", "tlsprobe-0000abcd"));
  CHECK(via_names_us("1.0 squid, 1.1 tlsprobe-0000abcd (tlsprobe)", "tlsprobe-0000abcd"));
  CHECK_FALSE(via_names_us("1.1 tlsprobe-0000abcde", "tlsprobe-0000abcd"));
  CHECK_FALSE(via_names_us("1.1 other", "tlsprobe-0000abcd"));
}

TEST_CASE("error answers carry the status, a one-line reason and close") {
  const auto r = error_response(http::status::proxy_authentication_required, "auth");
  CHECK(r.rfind("HTTP/1.1 407 ", 0) == 0);
  CHECK(r.find("Proxy-Authenticate: Basic") != std::string::npos);
  CHECK(r.find("Connection: close") != std::string::npos);
  CHECK(r.substr(r.size() - 5) == "auth\n");
}

TEST_CASE("allow-list: loopback always, others only inside a CIDR") {
  ProxySettings s;
  const auto outside = boost::asio::ip::make_address("10.1.2.3");
  CHECK(client_allowed(s, boost::asio::ip::make_address("127.0.0.1")));
  CHECK(client_allowed(s, boost::asio::ip::make_address("::1")));
  CHECK_FALSE(client_allowed(s, outside));
  s.allow.push_back(*tlsprobe::config::parse_cidr("10.0.0.0/8"));
  CHECK(client_allowed(s, outside));
  CHECK(client_allowed(s, boost::asio::ip::make_address("::ffff:10.9.9.9")));
  CHECK_FALSE(client_allowed(s, boost::asio::ip::make_address("11.0.0.1")));
  CHECK_FALSE(tlsprobe::config::parse_cidr("10.0.0.0/33"));
  CHECK_FALSE(tlsprobe::config::parse_cidr("nonsense"));
  CHECK(tlsprobe::config::parse_cidr("2001:db8::/32"));
}

TEST_CASE("probe cache: one probe for concurrent askers, hits until the TTL ends") {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ProbeCache<int> cache(std::chrono::seconds(600), 100, [&] { return now; });
  int calls = 0;
  auto waiter = [&](std::shared_ptr<const int> v, bool) {
    REQUIRE(v);
    ++calls;
  };
  CHECK(cache.get_or_join("k", waiter) == CacheAnswer::started);
  CHECK(cache.get_or_join("k", waiter) == CacheAnswer::joined);
  CHECK(cache.get_or_join("k", waiter) == CacheAnswer::joined);
  CHECK(calls == 0);
  cache.complete("k", std::make_shared<const int>(7));
  CHECK(calls == 3);
  CHECK(cache.get_or_join("k", waiter) == CacheAnswer::hit);
  CHECK(calls == 4);
  now += std::chrono::seconds(601);
  CHECK(cache.get_or_join("k", waiter) == CacheAnswer::started);
  CHECK(cache.probes_started() == 2);
}
