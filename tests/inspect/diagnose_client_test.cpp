// client.no_sni and client.sni_host_mismatch from Observations::client.
#include "diagnose_helpers.hpp"

using namespace diagtest;

namespace {

Findings client_findings(ClientHelloObservation client) {
  static const auto trust = certs::TrustStore::from_anchors({});
  Observations obs;
  obs.target = "www.example.test:443";
  obs.host = "www.example.test";
  obs.client = std::move(client);
  return run(obs, options(trust));
}

ClientHelloObservation hello(std::optional<std::string> sni, std::string connect_host,
                             std::string http_host = "") {
  ClientHelloObservation c;
  c.sni = std::move(sni);
  c.connect_host = std::move(connect_host);
  c.http_host = std::move(http_host);
  c.versions = {"1.3", "1.2"};
  return c;
}

}  // namespace

TEST_CASE("client.no_sni when a client connects to a host name without SNI", "[diagnose][client]") {
  auto fs = client_findings(hello(std::nullopt, "www.example.test:443"));
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == codes::client_no_sni);
  CHECK(fs[0].severity == Severity::warning);
  CHECK(fs[0].role == Role::client);
  CHECK(ev(fs[0], "connect_host") == "www.example.test");
  CHECK_FALSE(fs[0].browser_shows);
}

TEST_CASE("no client.no_sni for IP literals or when SNI is sent", "[diagnose][client]") {
  CHECK(client_findings(hello(std::nullopt, "192.0.2.1:443")).empty());
  CHECK(client_findings(hello(std::nullopt, "[2001:db8::1]:443")).empty());
  CHECK(client_findings(hello("www.example.test", "www.example.test:443")).empty());
}

TEST_CASE("client.sni_host_mismatch when SNI and Host name different sites", "[diagnose][client]") {
  auto fs =
      client_findings(hello("www.example.test", "www.example.test:443", "api.example.test:8443"));
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == codes::client_sni_host_mismatch);
  CHECK(fs[0].severity == Severity::warning);
  CHECK(fs[0].role == Role::client);
  CHECK(ev(fs[0], "sni") == "www.example.test");
  CHECK(ev(fs[0], "http_host") == "api.example.test:8443");
}

TEST_CASE("SNI and Host agree despite port, case and trailing dot", "[diagnose][client]") {
  CHECK(client_findings(hello("www.example.test", "www.example.test:443", "WWW.Example.TEST.:443"))
            .empty());
  CHECK(client_findings(hello("www.example.test", "www.example.test:443", "www.example.test"))
            .empty());
  // No Host seen (tunnel mode): nothing to compare.
  CHECK(client_findings(hello("www.example.test", "www.example.test:443", "")).empty());
}
