#include "certs/name_match.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::testpki;
using certs::dns_pattern_matches;
using certs::matches_host;

TEST_CASE("dns patterns", "[certs][names]") {
  CHECK(dns_pattern_matches("www.example.com", "www.example.com"));
  CHECK(dns_pattern_matches("WWW.Example.COM", "www.example.com"));
  CHECK(dns_pattern_matches("www.example.com", "WWW.EXAMPLE.COM"));
  CHECK(dns_pattern_matches("www.example.com", "www.example.com."));
  CHECK_FALSE(dns_pattern_matches("www.example.com", "example.com"));
  CHECK_FALSE(dns_pattern_matches("example.com", "www.example.com"));

  CHECK(dns_pattern_matches("*.example.com", "a.example.com"));
  CHECK(dns_pattern_matches("*.example.com", "A.EXAMPLE.COM."));
  CHECK_FALSE(dns_pattern_matches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(dns_pattern_matches("*.example.com", "example.com"));
  CHECK_FALSE(dns_pattern_matches("*.example.com", ".example.com"));
  CHECK_FALSE(dns_pattern_matches("*.com", "example.com"));
  CHECK_FALSE(dns_pattern_matches("*", "example"));
  // Partial and misplaced wildcards are rejected, as browsers do.
  CHECK_FALSE(dns_pattern_matches("f*.example.com", "foo.example.com"));
  CHECK_FALSE(dns_pattern_matches("*o.example.com", "foo.example.com"));
  CHECK_FALSE(dns_pattern_matches("www.*.com", "www.example.com"));
  CHECK_FALSE(dns_pattern_matches("*.*.example.com", "a.b.example.com"));
  // IDNA A-labels are plain labels.
  CHECK(dns_pattern_matches("xn--bcher-kva.example", "XN--BCHER-KVA.example"));
  CHECK(dns_pattern_matches("*.example.com", "xn--bcher-kva.example.com"));
  CHECK_FALSE(dns_pattern_matches("xn--*.example.com", "xn--bcher-kva.example.com"));
  // Embedded NUL and empty input.
  CHECK_FALSE(dns_pattern_matches(std::string("good.com\0.evil.com", 18), "good.com"));
  CHECK_FALSE(dns_pattern_matches("", ""));
  CHECK_FALSE(dns_pattern_matches("a.com", ""));
  CHECK_FALSE(dns_pattern_matches("*.example.com", "a..example.com"));
  // Wildcards never cover IP addresses.
  CHECK_FALSE(dns_pattern_matches("*.0.2.7", "192.0.2.7"));
}

TEST_CASE("ip literals", "[certs][names]") {
  CHECK(certs::is_ip_literal("127.0.0.1"));
  CHECK(certs::is_ip_literal("::1"));
  CHECK(certs::is_ip_literal("[2001:db8::1]"));
  CHECK_FALSE(certs::is_ip_literal("example.com"));
  CHECK_FALSE(certs::is_ip_literal("1.2.3"));
  CHECK_FALSE(certs::is_ip_literal("256.1.1.1"));
  CHECK_FALSE(certs::is_ip_literal(""));
}

TEST_CASE("matches_host uses SANs only", "[certs][names]") {
  auto root = make_root({.common_name = "R"});
  auto leaf = issue(root, {.common_name = "cn-only.example.com",
                           .dns_names = {"*.example.com", "example.net"},
                           .ip_names = {"192.0.2.7", "2001:db8::1"}});
  const auto& c = leaf.cert;
  CHECK(matches_host(c, "www.example.com"));
  CHECK(matches_host(c, "example.net"));
  CHECK(matches_host(c, "example.net."));
  CHECK_FALSE(matches_host(c, "example.com"));
  CHECK_FALSE(matches_host(c, "a.b.example.com"));
  CHECK(matches_host(c, "192.0.2.7"));
  CHECK(matches_host(c, "2001:db8:0:0::1"));  // textual forms compared as addresses
  CHECK(matches_host(c, "[2001:db8::1]"));
  CHECK_FALSE(matches_host(c, "192.0.2.8"));
  // CN fallback never happens (cn-only.example.com is covered by *.example.com, so use
  // a certificate whose only name is its CN).
  auto cn_only = issue(root, {.common_name = "only-cn.test"});
  CHECK_FALSE(matches_host(cn_only.cert, "only-cn.test"));
  // A dNSName spelling an address does not cover the IP.
  auto dns_ip = issue(root, {.common_name = "x", .dns_names = {"192.0.2.9"}});
  CHECK_FALSE(matches_host(dns_ip.cert, "192.0.2.9"));
  CHECK_FALSE(matches_host(c, ""));
}
