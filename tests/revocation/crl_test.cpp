// --crl: CRLs made in memory, judged for every certificate of the path (cert.revoked with
// time and reason; revocation.unknown when the issuer's CRL fails a check).
#include "revocation/revocation_helpers.hpp"

#include "certs/crl.hpp"
#include "certs/pem.hpp"

using namespace revtest;

namespace {

std::vector<certs::Crl> crls(const std::string& pem, const std::string& source = "test.crl") {
  return certs::Crl::parse(pem, source);
}

}  // namespace

TEST_CASE("a CRL from the issuer listing the leaf: cert.revoked with time and reason",
          "[revocation][crl]") {
  const auto p = make_pki(false, "");
  CrlSpec spec;
  spec.revoked.push_back({p.leaf.cert, fixed_now() - std::chrono::days(5), 4});  // superseded
  const auto fs =
      diagnose_one(p, handshake(Role::direct, kHost, p.chain()), crls(make_crl_pem(p.inter, spec)));
  const auto* f = find(fs, codes::cert_revoked);
  REQUIRE(f);
  CHECK(ev(*f, "reason") == "superseded");
  CHECK(ev(*f, "revocation_time") == certs::format_rfc3339(fixed_now() - std::chrono::days(5)));
  CHECK(ev(*f, "source") == "the CRL test.crl");
  CHECK(f->browser_shows);
}

TEST_CASE("a current CRL from the issuer that does not list the leaf: no finding",
          "[revocation][crl]") {
  const auto p = make_pki(false, "");
  const auto other = issue(p.inter, leaf_spec({"other.example.test"}));
  CrlSpec spec;
  spec.revoked.push_back({other.cert});
  const auto fs =
      diagnose_one(p, handshake(Role::direct, kHost, p.chain()), crls(make_crl_pem(p.inter, spec)));
  CHECK(no_revocation_findings(fs));
  CHECK(!has_error(fs));
}

TEST_CASE("a revoked intermediate is found on the root's CRL", "[revocation][crl]") {
  const auto p = make_pki(false, "");
  CrlSpec spec;
  spec.revoked.push_back({p.inter.cert, fixed_now() - std::chrono::days(1), 2});  // cACompromise
  const auto fs =
      diagnose_one(p, handshake(Role::direct, kHost, p.chain()), crls(make_crl_pem(p.root, spec)));
  const auto* f = find(fs, codes::cert_revoked);
  REQUIRE(f);
  CHECK(ev(*f, "position") == "intermediate");
  CHECK(ev(*f, "certificate") == p.inter.cert.subject());
  CHECK(ev(*f, "reason") == "cACompromise");
}

TEST_CASE("a CRL from another issuer listing the same serial does not revoke",
          "[revocation][crl]") {
  const auto p = make_pki(false, "");
  const auto other_ca = make_root(ca_spec("Unrelated CA"));
  CrlSpec spec;
  spec.revoked.push_back({p.leaf.cert});  // same serial, other issuer's list
  const auto fs = diagnose_one(p, handshake(Role::direct, kHost, p.chain()),
                               crls(make_crl_pem(other_ca, spec)));
  CHECK(no_revocation_findings(fs));
}

TEST_CASE(
    "an unusable CRL from the issuer is revocation.unknown (error): signature, dates, "
    "cRLNumber",
    "[revocation][crl]") {
  const auto p = make_pki(false, "");
  const auto stranger = make_root(ca_spec("Stranger"));
  struct Case {
    const char* problem;
    CrlSpec spec;
  };
  std::vector<Case> cases;
  CrlSpec bad_sig;
  bad_sig.sign_with = stranger.pkey();
  cases.push_back({"bad_signature", bad_sig});
  CrlSpec expired;
  expired.this_update = fixed_now() - std::chrono::days(20);
  expired.next_update = fixed_now() - std::chrono::days(10);
  cases.push_back({"expired", expired});
  CrlSpec future;
  future.this_update = fixed_now() + std::chrono::days(1);
  cases.push_back({"not_yet_valid", future});
  CrlSpec no_number;
  no_number.crl_number = false;
  cases.push_back({"crl_number", no_number});
  CrlSpec critical_number;
  critical_number.crl_number_critical = true;
  cases.push_back({"crl_number", critical_number});
  for (auto& c : cases) {
    INFO(c.problem);
    c.spec.revoked.push_back({p.leaf.cert});  // an unusable CRL must not revoke either
    const auto fs = diagnose_one(p, handshake(Role::direct, kHost, p.chain()),
                                 crls(make_crl_pem(p.inter, c.spec)));
    const auto* f = find(fs, codes::revocation_unknown);
    REQUIRE(f);
    CHECK(f->severity == Severity::error);
    CHECK(ev(*f, "problem") == c.problem);
    CHECK(!find(fs, codes::cert_revoked));
  }
}

TEST_CASE("a usable CRL decides even when an unusable one of the same issuer is given",
          "[revocation][crl]") {
  const auto p = make_pki(false, "");
  CrlSpec stale;
  stale.this_update = fixed_now() - std::chrono::days(20);
  stale.next_update = fixed_now() - std::chrono::days(10);
  auto all = crls(make_crl_pem(p.inter, stale), "old.crl");
  auto fresh = crls(make_crl_pem(p.inter), "new.crl");
  all.insert(all.end(), fresh.begin(), fresh.end());
  CHECK(no_revocation_findings(diagnose_one(p, handshake(Role::direct, kHost, p.chain()), all)));
}

TEST_CASE("CRL files: PEM (several), DER, and a clear error for anything else",
          "[revocation][crl]") {
  const auto p = make_pki(false, "");
  const auto pem = make_crl_pem(p.inter) + make_crl_pem(p.root);
  const auto two = certs::Crl::parse(pem, "two.pem");
  REQUIRE(two.size() == 2);
  CHECK(two[0].issuer() == p.inter.cert.subject());
  CHECK(two[1].issuer() == p.root.cert.subject());
  const auto der = certs::Crl::parse(two[0].der(), "one.der");
  REQUIRE(der.size() == 1);
  CHECK(der[0].this_update() == two[0].this_update());
  try {
    certs::Crl::parse("hello", "bad.crl");
    FAIL("no exception");
  } catch (const certs::PemError& e) {
    CHECK(std::string(e.what()).rfind("bad.crl: ", 0) == 0);
  }
  CHECK_THROWS_AS(certs::Crl::read_file("/nonexistent/x.crl"), certs::PemError);
}
