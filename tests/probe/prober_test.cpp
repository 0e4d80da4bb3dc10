// Prober against in-process TLS servers on 127.0.0.1: what it captures, which extra
// handshakes it makes and when, and how each failure reads. Asserts on data, not prose.
#include "proxy/probe/prober.hpp"
#include "proxy/probe/probe_target.hpp"
#include "support/loopback_server.hpp"
#include "support/probe_once.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace tlsprobe;
using namespace std::chrono_literals;
using inspect::FailureKind;
using inspect::HandshakeOutcome;
using inspect::Role;
using testsupport::probe_once;
using testsupport::ServedChain;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

proxy::ProbeRequest request_for(const std::string& host, const std::string& connect,
                                std::chrono::milliseconds timeout = 5000ms) {
  proxy::ProbeRequest r;
  r.host = host;
  r.port = 443;
  r.connect = connect;
  r.timeout = timeout;
  // These tests count the chain views' handshakes (and SNIs); the client-compatibility
  // handshakes (issue 15) are tested in tests/compat.
  r.compat = proxy::CompatChecks::off;
  return r;
}

std::vector<Role> roles(const inspect::Observations& obs) {
  std::vector<Role> out;
  for (const auto& h : obs.handshakes) out.push_back(h.role);
  return out;
}

}  // namespace

TEST_CASE("healthy server: chain captured in sent order, TLS 1.3, SNI as asked", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  TlsTestServer server(o);
  auto r = request_for("good.test", server.address());
  r.sni_checks = proxy::SniChecks::when_needed;
  const auto obs = probe_once(r);
  REQUIRE(roles(obs) == std::vector<Role>{Role::direct});
  const auto& h = obs.handshakes.front();
  CHECK(h.outcome == HandshakeOutcome::ok);
  CHECK(h.failure == FailureKind::none);
  CHECK(h.tls_version == "1.3");
  CHECK_FALSE(h.legacy_handshake);
  CHECK(h.sni == std::optional<std::string>("good.test"));
  CHECK(h.address == server.address());
  REQUIRE(h.chain.size() == 2);
  CHECK(h.chain[0] == testpki::good_hierarchy().leaf.cert);
  CHECK(h.chain[1] == testpki::good_hierarchy().intermediate.cert);
  CHECK(obs.target == "good.test:443");
  CHECK(server.sni_seen() == std::vector<std::optional<std::string>>{"good.test"});
}

TEST_CASE("sni.required check: one nosni handshake when the name is covered", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  o.require_sni = true;
  TlsTestServer server(o);
  const auto obs = probe_once(request_for("good.test", server.address()));
  REQUIRE(roles(obs) == std::vector<Role>{Role::direct, Role::nosni});
  CHECK(obs.handshakes[0].outcome == HandshakeOutcome::ok);
  const auto& nosni = obs.handshakes[1];
  CHECK_FALSE(nosni.sni.has_value());
  CHECK(nosni.outcome == HandshakeOutcome::handshake_failed);
  CHECK(nosni.alert == "unrecognized_name");
}

TEST_CASE("chain sent out of order is captured as sent", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(
      testpki::good_hierarchy().leaf,
      {testpki::good_hierarchy().root.cert, testpki::good_hierarchy().intermediate.cert});
  TlsTestServer server(o);
  auto r = request_for("good.test", server.address());
  r.sni_checks = proxy::SniChecks::off;
  const auto obs = probe_once(r);
  REQUIRE(obs.handshakes.size() == 1);
  const auto& chain = obs.handshakes[0].chain;
  REQUIRE(chain.size() == 3);
  CHECK(chain[0] == testpki::good_hierarchy().leaf.cert);
  CHECK(chain[1] == testpki::good_hierarchy().root.cert);
  CHECK(chain[2] == testpki::good_hierarchy().intermediate.cert);
}

TEST_CASE("name not covered: nosni and othersni handshakes to the same address", "[prober]") {
  const auto other = testpki::make_hierarchy({"default.test"});
  TlsServerOptions o;
  o.default_chain = ServedChain::of(other);
  o.by_sni["good.test"] = ServedChain::of(testpki::good_hierarchy());
  TlsTestServer server(o);

  SECTION("a configured name needs no extra SNI view beyond sni.required") {
    auto r = request_for("good.test", server.address());
    r.sni_checks = proxy::SniChecks::when_needed;
    CHECK(roles(probe_once(r)) == std::vector<Role>{Role::direct});
  }
  SECTION("an unconfigured name gets the default certificate") {
    const auto obs = probe_once(request_for("other.test", server.address()));
    REQUIRE(roles(obs) == std::vector<Role>{Role::direct, Role::nosni, Role::othersni});
    const auto& direct = obs.handshakes[0];
    const auto& nosni = obs.handshakes[1];
    const auto& othersni = obs.handshakes[2];
    CHECK(direct.chain.front() == other.leaf.cert);
    CHECK_FALSE(nosni.sni.has_value());
    REQUIRE(othersni.sni.has_value());
    CHECK(othersni.sni->rfind("tlsprobe-unknown-", 0) == 0);
    CHECK(othersni.sni->size() > std::string("tlsprobe-unknown-.invalid").size());
    CHECK(nosni.address == direct.address);
    CHECK(othersni.address == direct.address);
    CHECK(nosni.chain.front() == other.leaf.cert);
    CHECK(othersni.chain.front() == other.leaf.cert);
  }
  SECTION("no SNI sent (--no-sni): no extra handshakes") {
    auto r = request_for("good.test", server.address());
    r.sni_mode = proxy::SniMode::none;
    const auto obs = probe_once(r);
    REQUIRE(roles(obs) == std::vector<Role>{Role::direct});
    CHECK_FALSE(obs.handshakes[0].sni.has_value());
    CHECK(obs.handshakes[0].chain.front() == other.leaf.cert);
  }
  SECTION("--sni NAME is sent exactly") {
    auto r = request_for("other.test", server.address());
    r.sni_mode = proxy::SniMode::name;
    r.sni_name = "good.test";
    r.sni_checks = proxy::SniChecks::off;
    const auto obs = probe_once(r);
    CHECK(obs.handshakes[0].sni == std::optional<std::string>("good.test"));
    CHECK(obs.handshakes[0].chain.front() == testpki::good_hierarchy().leaf.cert);
  }
}

TEST_CASE("IP literal targets never send SNI", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  TlsTestServer server(o);
  auto r = request_for("127.0.0.1", "");
  r.port = server.port();
  const auto obs = probe_once(r);
  REQUIRE(roles(obs) == std::vector<Role>{Role::direct});
  CHECK_FALSE(obs.handshakes[0].sni.has_value());
  CHECK(server.sni_seen() == std::vector<std::optional<std::string>>{std::nullopt});
}

TEST_CASE("legacy-only server: modern handshake fails, legacy one reaches TLS 1.1", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  o.versions = testsupport::TlsVersions::legacy_only;
  TlsTestServer server(o);
  auto r = request_for("good.test", server.address());
  r.sni_checks = proxy::SniChecks::off;
  const auto obs = probe_once(r);
  REQUIRE(obs.handshakes.size() == 1);
  const auto& h = obs.handshakes[0];
  CHECK(h.outcome == HandshakeOutcome::ok);
  CHECK(h.tls_version == "1.1");
  CHECK(h.legacy_handshake);
  CHECK(h.chain.size() == 2);
  CHECK(server.connections() == 2);
}

TEST_CASE("failures: kind, outcome, no extra handshakes, bounded time", "[prober]") {
  SECTION("refused") {
    const auto port = testsupport::unused_port();
    const auto obs = probe_once(request_for("good.test", "127.0.0.1:" + std::to_string(port)));
    REQUIRE(obs.handshakes.size() == 1);
    CHECK(obs.handshakes[0].outcome == HandshakeOutcome::unreachable);
    CHECK(obs.handshakes[0].failure == FailureKind::refused);
  }
  SECTION("plain HTTP on the port") {
    testsupport::PlainHttpServer server;
    const auto obs = probe_once(request_for("good.test", server.address()));
    REQUIRE(obs.handshakes.size() == 1);
    CHECK(obs.handshakes[0].outcome == HandshakeOutcome::handshake_failed);
    CHECK(obs.handshakes[0].failure == FailureKind::not_tls);
    CHECK(server.connections() == 1);
  }
  SECTION("closed mid-handshake") {
    testsupport::CloseMidHandshakeServer server;
    const auto obs = probe_once(request_for("good.test", server.address()));
    REQUIRE(obs.handshakes.size() == 1);
    CHECK(obs.handshakes[0].failure == FailureKind::closed);
  }
  SECTION("silent server: handshake timeout within the probe timeout") {
    testsupport::SilentServer server;
    const auto start = std::chrono::steady_clock::now();
    const auto obs = probe_once(request_for("good.test", server.address(), 300ms));
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(obs.handshakes.size() == 1);
    CHECK(obs.handshakes[0].failure == FailureKind::handshake_timeout);
    CHECK(obs.handshakes[0].elapsed_ms >= 250);
    CHECK(took < 2s);
    CHECK(server.connections() == 1);
  }
  SECTION("client certificate required (TLS 1.3 and TLS 1.2)") {
    for (auto v : {testsupport::TlsVersions::tls13_only, testsupport::TlsVersions::tls12_only}) {
      TlsServerOptions o;
      o.default_chain = ServedChain::of(testpki::good_hierarchy());
      o.require_client_cert = true;
      o.versions = v;
      TlsTestServer server(o);
      const auto obs = probe_once(request_for("good.test", server.address()));
      REQUIRE(obs.handshakes.size() == 1);
      CHECK(obs.handshakes[0].outcome == HandshakeOutcome::handshake_failed);
      CHECK(obs.handshakes[0].failure == FailureKind::client_cert_required);
      CHECK(obs.handshakes[0].chain.size() == 2);  // the server's chain is still known
    }
  }
}

TEST_CASE("resolve overrides and origin/edge roles", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  TlsTestServer edge(o), origin(o), edge2(o);
  proxy::ProberOptions po;
  po.resolve["good.test:443"] = edge.address();
  auto r = request_for("good.test", "");
  r.origin = origin.address();
  r.edges = {edge2.address()};
  r.sni_checks = proxy::SniChecks::off;
  const auto obs = probe_once(r, po);
  REQUIRE(roles(obs) == std::vector<Role>{Role::edge, Role::origin, Role::edge});
  CHECK(obs.handshakes[0].address == edge.address());
  CHECK(obs.handshakes[1].address == origin.address());
  CHECK(obs.handshakes[2].address == edge2.address());
  for (const auto& h : obs.handshakes) {
    CHECK(h.outcome == HandshakeOutcome::ok);
    CHECK(h.sni == std::optional<std::string>("good.test"));
  }
}

TEST_CASE("many targets with bounded concurrency all complete", "[prober]") {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(testpki::good_hierarchy());
  o.workers = 8;
  TlsTestServer server(o);
  std::vector<proxy::ProbeRequest> rs;
  for (int i = 0; i < 24; ++i) {
    auto r = request_for("good.test", server.address());
    r.sni_checks = proxy::SniChecks::off;
    rs.push_back(r);
  }
  const auto all = proxy::probe_all(rs, 6, {}, 2);
  REQUIRE(all.size() == 24);
  for (const auto& obs : all) {
    REQUIRE(obs.handshakes.size() == 1);
    CHECK(obs.handshakes[0].outcome == HandshakeOutcome::ok);
  }
}

TEST_CASE("target parsing", "[prober]") {
  CHECK(config::format_host_port(*proxy::parse_target("Example.COM").value) == "example.com:443");
  CHECK(config::format_host_port(*proxy::parse_target("https://example.com:8443/path").value) ==
        "example.com:8443");
  CHECK(proxy::parse_target("[::1]:443").value->host == "::1");
  CHECK(proxy::parse_target("::1").value->port == 443);
  CHECK_FALSE(proxy::parse_target("example.com:0").value);
  CHECK_FALSE(proxy::parse_target("example.com:99999").value);
  CHECK_FALSE(proxy::parse_target("http://example.com/").value);
  CHECK_FALSE(proxy::parse_target("exa mple.com").value);
  CHECK_FALSE(proxy::parse_address_port("127.0.0.1").value);
  CHECK(proxy::parse_address_port("127.0.0.1:8443").value->port == 8443);
}
