// A sample of x509-limbo SERVER cases served by real TLS servers on 127.0.0.1 and probed
// through the Prober: the verdict and codes from the network match the pure diagnosis of
// the same inputs (tests/conformance runs every case purely).
#include "conformance/limbo.hpp"
#include "proxy/probe/prober.hpp"
#include "support/probe_once.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace tlsprobe;
using namespace std::chrono_literals;

namespace {

const limbo::Case& find_case(const std::vector<limbo::Case>& all, const std::string& id) {
  for (const auto& c : all)
    if (c.id == id) return c;
  FAIL("no limbo case " << id);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("limbo sample served over TLS: the probe's verdict is the pure one", "[limbo][e2e]") {
  static const auto all = limbo::load_server_cases();
  // Diverse on purpose: each new code once, a profile-only case, an IP name, a clean pass.
  const char* ids[] = {
      "rfc5280::nc::permitted-dns-mismatch",       // chain.name_constraints
      "pathlen::intermediate-violates-pathlen-0",  // chain.path_length
      "rfc5280::eku::ee-wrong-eku",                // cert.bad_purpose
      "rfc5280::unknown-critical-extension-ee",    // cert.critical_extension
      "rfc5280::intermediate-ca-without-ca-bit",   // chain.not_a_ca
      "webpki::cn::not-in-san",                    // cert.profile only
      "webpki::san::exact-localhost-ip-san",       // an IP address name
      "rfc5280::nc::permitted-dns-match",          // clean
  };
  for (const char* id : ids) {
    const auto& c = find_case(all, id);
    INFO(c.id);
    REQUIRE_FALSE(c.peer_key_pem.empty());
    const auto pure = limbo::tlsprobe_verdict(c);

    testsupport::TlsServerOptions o;
    o.default_chain.chain = limbo::parse_all({c.peer_pem});
    const auto more = limbo::parse_all(c.intermediate_pems);
    o.default_chain.chain.insert(o.default_chain.chain.end(), more.begin(), more.end());
    o.default_chain.key = std::shared_ptr<EVP_PKEY>(
        certs::read_private_key_pem(c.peer_key_pem).release(), EVP_PKEY_free);
    o.workers = 1;
    testsupport::TlsTestServer server(o);

    proxy::ProbeRequest r;
    r.host = c.host;
    r.port = 443;
    r.connect = server.address();
    r.timeout = 10000ms;
    r.sni_checks = proxy::SniChecks::off;  // the pure run has no extra handshakes either
    const auto obs = testsupport::probe_once(r);
    REQUIRE(obs.handshakes.size() == 1);
    const auto& h = obs.handshakes.front();
    REQUIRE(h.outcome == inspect::HandshakeOutcome::ok);
    CHECK(h.chain == o.default_chain.chain);  // sent as served, in order

    const auto anchors = limbo::parse_all(c.trusted_pems);
    const auto trust = certs::TrustStore::from_anchors(anchors);
    inspect::DiagnoseOptions d;
    d.at = c.at;
    d.trust = &trust;
    const auto served = limbo::verdict_of(inspect::diagnose(obs, d));
    CHECK(served.verdict == pure.verdict);
    CHECK(served.codes == pure.codes);
    CHECK(limbo::tlsprobe_right(c.expected, served.verdict));
  }
}
