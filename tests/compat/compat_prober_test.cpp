// The prober's client-compatibility handshakes (proxy/prober.cpp, proxy/probe/tls_scan.cpp)
// against the in-process TLS test server: how many it makes, that they send the same SNI as
// the main handshake, that nothing is tried after a non-TLS reply, and that the enumeration
// stays within its bound.
#include "pki/test_pki.hpp"
#include "proxy/probe/prober.hpp"
#include "support/loopback_server.hpp"
#include "support/probe_once.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::ServedChain;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

inspect::Observations probe(const std::string& address, proxy::CompatChecks compat) {
  proxy::ProbeRequest r;
  r.host = "good.test";
  r.connect = address;
  r.sni_checks = proxy::SniChecks::off;
  r.compat = compat;
  r.timeout = 10s;
  return testsupport::probe_once(std::move(r));
}

}  // namespace

TEST_CASE("cheap compat handshakes: TLS 1.3 server: Chrome's result inferred, two refused",
          "[compat][prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  TlsTestServer server(o);
  const auto obs = probe(server.address(), proxy::CompatChecks::cheap);
  REQUIRE(obs.handshakes.size() == 1);
  REQUIRE(obs.compat.browsers);
  CHECK(obs.compat.browsers->ok);
  CHECK(obs.compat.browsers->version == "1.3");
  // An ECDSA leaf: no DHE-RSA suite can be chosen; TLS 1.0/1.1 refused at the default level.
  REQUIRE(obs.compat.dhe);
  CHECK_FALSE(obs.compat.dhe->ok);
  REQUIRE(obs.compat.legacy);
  CHECK_FALSE(obs.compat.legacy->ok);
  CHECK(obs.compat.legacy->refused);
  CHECK_FALSE(obs.compat.anything);
  CHECK(obs.compat.profiles.empty());
  CHECK_FALSE(obs.scan);
  for (const auto& sni : server.sni_seen()) CHECK(sni == std::optional<std::string>("good.test"));
  CHECK(server.connections() == 3);  // main + DHE only + TLS 1.0/1.1 only

  const auto off = probe(server.address(), proxy::CompatChecks::off);
  CHECK_FALSE(off.compat.browsers);
  CHECK(server.connections() == 4);
}

TEST_CASE("cheap compat handshakes: TLS 1.2 server: Chrome's offer is a real handshake",
          "[compat][prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  o.versions = testsupport::TlsVersions::tls12_only;
  TlsTestServer server(o);
  const auto obs = probe(server.address(), proxy::CompatChecks::cheap);
  REQUIRE(obs.compat.browsers);
  CHECK(obs.compat.browsers->ok);
  CHECK(obs.compat.browsers->version == "1.2");
  for (const auto& sni : server.sni_seen()) CHECK(sni == std::optional<std::string>("good.test"));
  CHECK(server.connections() == 4);  // main + Chrome's offer + DHE only + TLS 1.0/1.1 only
}

TEST_CASE("no compat handshake after a reply that is not TLS", "[compat][prober]") {
  testsupport::PlainHttpServer server;
  const auto obs = probe(server.address(), proxy::CompatChecks::full);
  CHECK_FALSE(obs.compat.browsers);
  CHECK_FALSE(obs.compat.anything);
  CHECK_FALSE(obs.scan);
  CHECK(server.connections() == 1);
}

TEST_CASE("the enumeration of a TLS 1.3-only server", "[compat][prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  o.versions = testsupport::TlsVersions::tls13_only;
  TlsTestServer server(o);
  const auto obs = probe(server.address(), proxy::CompatChecks::full);
  REQUIRE(obs.scan);
  const auto& s = *obs.scan;
  CHECK(s.complete);
  REQUIRE(s.protocol("1.3"));
  CHECK(s.protocol("1.3")->accepted);
  CHECK(s.protocol("1.3")->suites.size() >= 3);
  for (const char* v : {"1.2", "1.1", "1.0"}) CHECK_FALSE(s.protocol(v)->accepted);
  CHECK(s.groups_version == "1.3");
  CHECK(std::find(s.groups.begin(), s.groups.end(), "X25519") != s.groups.end());
  CHECK(s.handshakes <= 200);
  CHECK(s.dh_bits == 0);  // no DHE suite in TLS 1.3
}
