// Online lookups (--revocation) as the prober records them, judged by diagnose():
// unreachable responders and failed CRLs are revocation.unknown (warning) naming the URL;
// a revoked answer is cert.revoked; a good one is silent.
#include "revocation/revocation_helpers.hpp"

using namespace revtest;

namespace {

HandshakeObservation with_lookup(const Pki& p, RevocationLookup l) {
  auto h = stapled(p, make_ocsp_response(p.inter, p.leaf.cert));  // a good staple as well
  h.revocation_lookups.push_back(std::move(l));
  return h;
}

RevocationLookup ocsp(std::string response) {
  RevocationLookup l;
  l.kind = "ocsp";
  l.url = "http://ocsp.example.test/";
  l.ok = true;
  l.response = std::move(response);
  l.nonce = "echoed";
  return l;
}

}  // namespace

TEST_CASE("online OCSP: good is silent, revoked is cert.revoked, unknown and failures warn",
          "[revocation][online]") {
  const auto p = make_pki();
  CHECK(no_revocation_findings(
      diagnose_one(p, with_lookup(p, ocsp(make_ocsp_response(p.inter, p.leaf.cert))))));

  OcspSpec revoked;
  revoked.status = OcspStatus::revoked;
  auto fs =
      diagnose_one(p, with_lookup(p, ocsp(make_ocsp_response(p.inter, p.leaf.cert, revoked))));
  REQUIRE(find(fs, codes::cert_revoked));
  CHECK(ev(*find(fs, codes::cert_revoked), "source") ==
        "the OCSP responder at http://ocsp.example.test/");

  OcspSpec unknown;
  unknown.status = OcspStatus::unknown;
  fs = diagnose_one(p, with_lookup(p, ocsp(make_ocsp_response(p.inter, p.leaf.cert, unknown))));
  REQUIRE(find(fs, codes::revocation_unknown));
  CHECK(find(fs, codes::revocation_unknown)->severity == Severity::warning);
  CHECK(ev(*find(fs, codes::revocation_unknown), "url") == "http://ocsp.example.test/");

  auto failed = ocsp("");
  failed.ok = false;
  failed.error = "timed out after 5000 ms";
  fs = diagnose_one(p, with_lookup(p, failed));
  const auto* f = find(fs, codes::revocation_unknown);
  REQUIRE(f);
  CHECK(ev(*f, "what") == "timed out after 5000 ms");
  CHECK(f->message.find("http://ocsp.example.test/") != std::string::npos);
  CHECK(!has_error(fs));
}

TEST_CASE("online CRL: revoked, good, and one that fails to verify", "[revocation][online]") {
  const auto p = make_pki(false, "");
  RevocationLookup l;
  l.kind = "crl";
  l.url = "http://crl.example.test/i.crl";
  l.ok = true;
  CrlSpec spec;
  spec.revoked.push_back({p.leaf.cert});
  l.response = certs::Crl::parse(make_crl_pem(p.inter, spec))[0].der();
  auto h = handshake(Role::direct, kHost, p.chain());
  h.revocation_lookups = {l};
  auto fs = diagnose_one(p, h);
  REQUIRE(find(fs, codes::cert_revoked));

  l.response = certs::Crl::parse(make_crl_pem(p.inter))[0].der();
  h.revocation_lookups = {l};
  CHECK(no_revocation_findings(diagnose_one(p, h)));

  CrlSpec forged;
  const auto stranger = make_root(ca_spec("Stranger"));
  forged.sign_with = stranger.pkey();
  l.response = certs::Crl::parse(make_crl_pem(p.inter, forged))[0].der();
  h.revocation_lookups = {l};
  fs = diagnose_one(p, h);
  REQUIRE(find(fs, codes::revocation_unknown));
  CHECK(find(fs, codes::revocation_unknown)->severity == Severity::warning);
}
