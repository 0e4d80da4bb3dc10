// OCSP stapling judged by diagnose(): responses made in memory (OCSP_basic_sign) by the
// issuer, a delegated responder, an impostor and an unauthorised responder; fresh, expired,
// for the wrong certificate; good, revoked and unknown; must-staple with and without one.
#include "revocation/revocation_helpers.hpp"

#include "certs/ocsp_response.hpp"
#include "inspect/revocation.hpp"

using namespace revtest;

TEST_CASE("a good staple from the issuer: no revocation finding, facts recorded",
          "[revocation][staple]") {
  const auto p = make_pki();
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert)));
  CHECK(no_revocation_findings(fs));
  CHECK(!has_error(fs));

  DiagnoseOptions o = options(p.trust);
  const auto facts = revocation_facts(stapled(p, make_ocsp_response(p.inter, p.leaf.cert)), o);
  REQUIRE(facts.staple);
  CHECK(facts.staple->valid());
  CHECK(facts.staple->cert_status == "good");
  CHECK(facts.staple->responder == p.inter.cert.subject());
  CHECK(facts.staple->this_update == fixed_now() - std::chrono::hours(1));
  CHECK(facts.staple->next_update == fixed_now() + std::chrono::days(3));
  CHECK(facts.staple->produced_at.has_value());
  CHECK(!facts.staple->delegated);
  CHECK(revocation_summary(facts).find("OCSP staple: good") == 0);
}

TEST_CASE("a staple from a delegated responder (OCSPSigning, issued by the issuer) is valid",
          "[revocation][staple]") {
  const auto p = make_pki();
  const auto responder = make_ocsp_responder(p.inter);
  OcspSpec spec;
  spec.signer = &responder;
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  CHECK(no_revocation_findings(fs));
  const auto v = certs::check_ocsp_response(make_ocsp_response(p.inter, p.leaf.cert, spec),
                                            p.leaf.cert, p.inter.cert, {fixed_now()});
  CHECK(v.valid());
  CHECK(v.delegated);
}

TEST_CASE("a revoked staple is cert.revoked with time, reason and Chrome's error",
          "[revocation][staple]") {
  const auto p = make_pki();
  OcspSpec spec;
  spec.status = OcspStatus::revoked;
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  const auto* f = find(fs, codes::cert_revoked);
  REQUIRE(f);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "reason") == "keyCompromise");
  CHECK(ev(*f, "revocation_time") == certs::format_rfc3339(fixed_now() - std::chrono::days(2)));
  CHECK(ev(*f, "position") == "leaf");
  CHECK(ev(*f, "source").find("stapled OCSP") != std::string::npos);
  CHECK(f->equivalents.at("chrome") == "net::ERR_CERT_REVOKED");
  CHECK(f->equivalents.at("firefox") == "SEC_ERROR_REVOKED_CERTIFICATE");
  CHECK(f->browser_shows);
  CHECK(!find(fs, codes::ocsp_staple_invalid));
}

TEST_CASE("cert.revoked outranks chain.untrusted_root for what Chrome shows",
          "[revocation][staple]") {
  auto p = make_pki();
  p.trust = certs::TrustStore::from_anchors({});  // nothing trusted
  OcspSpec spec;
  spec.status = OcspStatus::revoked;
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  const auto* revoked = find(fs, codes::cert_revoked);
  REQUIRE(revoked);
  CHECK(revoked->browser_shows);
  for (const auto& f : fs)
    if (f.code != "cert.revoked") CHECK(!f.browser_shows);
}

TEST_CASE("a staple signed by the wrong key is ocsp.staple_invalid (bad_signature)",
          "[revocation][staple]") {
  const auto p = make_pki();
  // Same name as the issuer, another key: the responder ID names the issuer.
  const auto impostor = make_root(ca_spec("Rev Test Issuing CA"));
  OcspSpec spec;
  spec.signer = &impostor;
  spec.include_signer = false;
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  const auto* f = find(fs, codes::ocsp_staple_invalid);
  REQUIRE(f);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "problem") == "bad_signature");
  CHECK(f->equivalents.at("firefox") == "SEC_ERROR_OCSP_BAD_SIGNATURE");
  CHECK(!f->browser_shows);  // Chrome does not enforce staples
  CHECK(!find(fs, codes::cert_revoked));
}

TEST_CASE("a staple signed by a responder the issuer did not authorise is invalid",
          "[revocation][staple]") {
  const auto p = make_pki();
  const auto other_ca = make_root(ca_spec("Some Other CA"));
  const auto responder = make_ocsp_responder(other_ca);
  const auto plain_leaf_of_issuer = issue(p.inter, leaf_spec({"responder.example.test"}));
  for (const Issued* signer : {&responder, &plain_leaf_of_issuer}) {
    INFO(signer->cert.subject());
    OcspSpec spec;
    spec.signer = signer;
    // A revoked answer from an unauthorised signer must not count as a revocation either.
    spec.status = OcspStatus::revoked;
    const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
    const auto* f = find(fs, codes::ocsp_staple_invalid);
    REQUIRE(f);
    CHECK(ev(*f, "problem") == "unauthorized_responder");
    CHECK(!find(fs, codes::cert_revoked));
  }
}

TEST_CASE("an expired staple, and one not yet valid, are ocsp.staple_invalid",
          "[revocation][staple]") {
  const auto p = make_pki();
  OcspSpec expired;
  expired.this_update = fixed_now() - std::chrono::days(10);
  expired.next_update = fixed_now() - std::chrono::days(3);
  auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, expired)));
  auto* f = find(fs, codes::ocsp_staple_invalid);
  REQUIRE(f);
  CHECK(ev(*f, "problem") == "expired");
  CHECK(ev(*f, "next_update") == certs::format_rfc3339(fixed_now() - std::chrono::days(3)));
  CHECK(f->equivalents.at("firefox") == "SEC_ERROR_OCSP_OLD_RESPONSE");

  OcspSpec future;
  future.this_update = fixed_now() + std::chrono::days(1);
  fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, future)));
  f = find(fs, codes::ocsp_staple_invalid);
  REQUIRE(f);
  CHECK(ev(*f, "problem") == "not_yet_valid");

  // Within the 5 minutes of leeway: fine.
  OcspSpec skewed;
  skewed.this_update = fixed_now() + std::chrono::minutes(2);
  CHECK(no_revocation_findings(
      diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, skewed)))));
}

TEST_CASE("a staple about another certificate is ocsp.staple_invalid (wrong_certificate)",
          "[revocation][staple]") {
  const auto p = make_pki();
  const auto other = issue(p.inter, leaf_spec({"other.example.test"}));
  OcspSpec spec;
  spec.other_cert = &other.cert;
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  const auto* f = find(fs, codes::ocsp_staple_invalid);
  REQUIRE(f);
  CHECK(ev(*f, "problem") == "wrong_certificate");
}

TEST_CASE("a staple that is no OCSP response, or an error response, is invalid",
          "[revocation][staple]") {
  const auto p = make_pki();
  auto fs = diagnose_one(p, stapled(p, "garbage"));
  REQUIRE(find(fs, codes::ocsp_staple_invalid));
  CHECK(ev(*find(fs, codes::ocsp_staple_invalid), "problem") == "malformed");
  OcspSpec spec;
  spec.response_status = OCSP_RESPONSE_STATUS_TRYLATER;
  fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  REQUIRE(find(fs, codes::ocsp_staple_invalid));
  CHECK(ev(*find(fs, codes::ocsp_staple_invalid), "problem") == "not_successful");
}

TEST_CASE("a staple answering unknown is revocation.unknown", "[revocation][staple]") {
  const auto p = make_pki();
  OcspSpec spec;
  spec.status = OcspStatus::unknown;
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, spec)));
  const auto* f = find(fs, codes::revocation_unknown);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(!find(fs, codes::cert_revoked));
}

TEST_CASE("must-staple without a staple is ocsp.must_staple_missing, Firefox's error",
          "[revocation][must_staple]") {
  const auto p = make_pki(true);
  CHECK(certs::has_must_staple(p.leaf.cert));
  auto fs = diagnose_one(p, handshake(Role::direct, kHost, p.chain()));
  const auto* f = find(fs, codes::ocsp_must_staple_missing);
  REQUIRE(f);
  CHECK(f->severity == Severity::error);
  CHECK(f->equivalents.at("firefox") == "MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING");
  CHECK(!f->browser_shows);  // Chrome ignores must-staple
  CHECK(!find(fs, codes::ocsp_not_stapled));

  // With a good staple: nothing.
  fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert)));
  CHECK(no_revocation_findings(fs));
  // A plain leaf has no must-staple.
  CHECK(!certs::has_must_staple(make_pki().leaf.cert));
}

TEST_CASE("no staple for a leaf with an OCSP responder is ocsp.not_stapled (info)",
          "[revocation][not_stapled]") {
  const auto p = make_pki();
  auto fs = diagnose_one(p, handshake(Role::direct, kHost, p.chain()));
  const auto* f = find(fs, codes::ocsp_not_stapled);
  REQUIRE(f);
  CHECK(f->severity == Severity::info);
  CHECK(ev(*f, "ocsp_url") == "http://ocsp.example.test/");
  CHECK(f->remedy.find("ssl_stapling on;") != std::string::npos);
  CHECK(f->remedy.find("SSLUseStapling") != std::string::npos);
  CHECK(!has_error(fs));
  // A leaf without an OCSP URL cannot be stapled: no finding.
  const auto q = make_pki(false, "");
  CHECK(no_revocation_findings(diagnose_one(q, handshake(Role::direct, kHost, q.chain()))));
}

TEST_CASE("a staple about to run out is an ocsp.staple_invalid warning (the watcher's alarm)",
          "[revocation][staple]") {
  const auto p = make_pki();
  OcspSpec stale;
  stale.this_update = fixed_now() - std::chrono::days(6);
  stale.next_update = fixed_now() + std::chrono::hours(5);
  const auto fs = diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, stale)));
  const auto* f = find(fs, codes::ocsp_staple_invalid);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(ev(*f, "problem") == "expiring_soon");
  CHECK(ev(*f, "hours_left") == "5");
  CHECK(!has_error(fs));
  // A fresh one (3 days left of a 3-day window) is fine; so is a short window just begun.
  OcspSpec short_window;
  short_window.this_update = fixed_now() - std::chrono::hours(1);
  short_window.next_update = fixed_now() + std::chrono::hours(10);
  CHECK(no_revocation_findings(
      diagnose_one(p, stapled(p, make_ocsp_response(p.inter, p.leaf.cert, short_window)))));
}

TEST_CASE("revocation findings name the handshake's address (the watcher splits by it)",
          "[revocation][staple]") {
  const auto p = make_pki(true);
  const auto fs = diagnose_one(p, handshake(Role::direct, kHost, p.chain(), "192.0.2.9:443"));
  const auto* f = find(fs, codes::ocsp_must_staple_missing);
  REQUIRE(f);
  CHECK(ev(*f, "address") == "192.0.2.9:443");
}
