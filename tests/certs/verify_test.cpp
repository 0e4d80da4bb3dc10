#include "certs/verify.hpp"
#include "certs/chain_path.hpp"
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::testpki;
using certs::Chain;
using certs::TrustStore;
using certs::VerifyOptions;
using std::chrono::days;

namespace {
VerifyOptions at(TimePoint t, std::string host = "") {
  VerifyOptions o;
  o.at = t;
  o.host = std::move(host);
  return o;
}
}  // namespace

TEST_CASE("healthy chain verifies and reports the path", "[certs][verify]") {
  auto h = make_hierarchy({"www.example.test", "192.0.2.7"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  auto r = certs::verify_chain(h.fullchain(), trust, at(fixed_now(), "www.example.test"));
  CHECK(r.ok);
  CHECK(r.openssl_code == X509_V_OK);
  CHECK(r.openssl_name == "X509_V_OK");
  CHECK(r.depth == -1);
  REQUIRE(r.verified_path.size() == 3);
  CHECK(r.verified_path[0] == h.leaf.cert);
  CHECK(r.verified_path[2] == h.root.cert);

  CHECK(certs::verify_chain(h.fullchain(), trust, at(fixed_now(), "WWW.EXAMPLE.TEST.")).ok);
  CHECK(certs::verify_chain(h.fullchain(), trust, at(fixed_now(), "192.0.2.7")).ok);
  CHECK(certs::verify_chain(h.fullchain(), trust, at(fixed_now())).ok);  // no name check
}

TEST_CASE("names: mismatch, no CN fallback, IPs", "[certs][verify]") {
  auto h = make_hierarchy({"www.example.test", "192.0.2.7"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  for (const char* host : {"example.test", "other.test", "a.www.example.test"}) {
    INFO(host);
    auto r = certs::verify_chain(h.fullchain(), trust, at(fixed_now(), host));
    CHECK_FALSE(r.ok);
    CHECK(r.openssl_code == X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(r.openssl_name == "X509_V_ERR_HOSTNAME_MISMATCH");
  }
  auto ip = certs::verify_chain(h.fullchain(), trust, at(fixed_now(), "192.0.2.8"));
  CHECK(ip.openssl_code == X509_V_ERR_IP_ADDRESS_MISMATCH);

  auto cn_only = issue(h.intermediate, {.common_name = "cn.test"});
  auto r =
      certs::verify_chain({cn_only.cert, h.intermediate.cert}, trust, at(fixed_now(), "cn.test"));
  CHECK(r.openssl_code == X509_V_ERR_HOSTNAME_MISMATCH);

  auto wild = issue(h.intermediate, {.common_name = "w", .dns_names = {"*.example.test"}});
  Chain wc{wild.cert, h.intermediate.cert};
  CHECK(certs::verify_chain(wc, trust, at(fixed_now(), "a.example.test")).ok);
  CHECK_FALSE(certs::verify_chain(wc, trust, at(fixed_now(), "a.b.example.test")).ok);
  CHECK_FALSE(certs::verify_chain(wc, trust, at(fixed_now(), "example.test")).ok);
  auto partial = issue(h.intermediate, {.common_name = "p", .dns_names = {"f*.example.test"}});
  CHECK_FALSE(certs::verify_chain({partial.cert, h.intermediate.cert}, trust,
                                  at(fixed_now(), "foo.example.test"))
                  .ok);
}

TEST_CASE("times: expired, not yet valid, intermediate expired, no time check", "[certs][verify]") {
  auto h = make_hierarchy({"a.test"});  // leaf valid now-30d .. now+90d
  auto trust = TrustStore::from_anchors({h.root.cert});

  auto expired = certs::verify_chain(h.fullchain(), trust, at(fixed_now() + days(91), "a.test"));
  CHECK_FALSE(expired.ok);
  CHECK(expired.openssl_code == X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(expired.openssl_name == "X509_V_ERR_CERT_HAS_EXPIRED");
  CHECK(expired.depth == 0);
  CHECK(expired.verified_path.empty());

  auto early = certs::verify_chain(h.fullchain(), trust, at(fixed_now() - days(31), "a.test"));
  CHECK(early.openssl_code == X509_V_ERR_CERT_NOT_YET_VALID);
  CHECK(early.depth == 0);

  auto no_time = at(fixed_now() + days(91), "a.test");
  no_time.check_time = false;
  CHECK(certs::verify_chain(h.fullchain(), trust, no_time).ok);

  auto root = make_root({.common_name = "R"});
  auto old_inter = issue(root, {.common_name = "Old I",
                                .not_before = fixed_now() - days(400),
                                .not_after = fixed_now() - days(1),
                                .is_ca = true});
  auto leaf = issue(old_inter, {.common_name = "b.test", .dns_names = {"b.test"}});
  auto r = certs::verify_chain({leaf.cert, old_inter.cert}, TrustStore::from_anchors({root.cert}),
                               at(fixed_now(), "b.test"));
  CHECK(r.openssl_code == X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(r.depth == 1);
}

TEST_CASE("trust failures have OpenSSL's codes", "[certs][verify]") {
  auto h = make_hierarchy({"a.test"});
  auto empty = TrustStore::from_anchors({});
  auto opt = at(fixed_now(), "a.test");

  // Leaf only, issuer unknown: 20 (OpenSSL reports 21 only when it continues).
  auto leaf_only = certs::verify_chain({h.leaf.cert}, TrustStore::from_anchors({h.root.cert}), opt);
  CHECK((leaf_only.openssl_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         leaf_only.openssl_code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE));
  CHECK(leaf_only.depth == 0);

  auto with_root = certs::verify_chain({h.leaf.cert, h.intermediate.cert, h.root.cert}, empty, opt);
  CHECK(with_root.openssl_code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);

  auto ss = make_self_signed({.common_name = "s.test", .dns_names = {"s.test"}});
  auto self = certs::verify_chain({ss.cert}, empty, at(fixed_now(), "s.test"));
  CHECK(self.openssl_code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  CHECK(self.depth == 0);

  // Trusting the self-signed leaf itself makes it verify.
  CHECK(
      certs::verify_chain({ss.cert}, TrustStore::from_anchors({ss.cert}), at(fixed_now(), "s.test"))
          .ok);

  // Wrong order still verifies in OpenSSL (it builds its own path); analyze_chain says why.
  auto wrong = certs::verify_chain({h.leaf.cert, h.root.cert, h.intermediate.cert},
                                   TrustStore::from_anchors({h.root.cert}), opt);
  CHECK(wrong.ok);
  CHECK(certs::verify_chain({}, empty, opt).openssl_code != X509_V_OK);
}

TEST_CASE("verify_code_name", "[certs][verify]") {
  CHECK(certs::verify_code_name(0) == "X509_V_OK");
  CHECK(certs::verify_code_name(10) == "X509_V_ERR_CERT_HAS_EXPIRED");
  CHECK(certs::verify_code_name(20) == "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  CHECK(certs::verify_code_name(21) == "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  CHECK(certs::verify_code_name(62) == "X509_V_ERR_HOSTNAME_MISMATCH");
  CHECK(certs::verify_code_name(99999) == "X509_V_ERR_99999");
}

TEST_CASE("trust store: extra files, dedup, errors, system bundle", "[certs][trust]") {
  auto h = make_hierarchy({"a.test"});
  auto other = make_root({.common_name = "Other"});
  TempPemFile f1(h.root.cert_pem() + other.cert_pem());
  TempPemFile f2(h.root.cert_pem());
  TrustStore t(certs::SystemTrust::exclude, {f1.path(), f2.path()});
  CHECK(t.size() == 2);
  CHECK(t.is_anchor(h.root.cert));
  CHECK_FALSE(t.is_anchor(h.intermediate.cert));
  auto issuers = t.find_issuers(h.intermediate.cert);
  REQUIRE(issuers.size() == 1);
  CHECK(issuers[0] == h.root.cert);
  CHECK(t.find_issuers(h.leaf.cert).empty());
  CHECK(t.shared_store() != nullptr);
  CHECK(t.make_store() != nullptr);

  TempPemFile bad("");
  try {
    TrustStore broken(certs::SystemTrust::exclude, {f1.path(), bad.path()});
    FAIL("no PemError");
  } catch (const certs::PemError& e) {
    CHECK(std::string(e.what()) == bad.path() + ": no certificate found");
  }
  CHECK_THROWS_AS(TrustStore(certs::SystemTrust::exclude, {"/nonexistent.pem"}), certs::PemError);

  // The Debian bundle (ca-certificates is a dependency of the build image).
  TrustStore sys(certs::SystemTrust::include);
  CHECK(sys.size() > 50);
  CHECK_FALSE(sys.is_anchor(h.root.cert));
  TrustStore sys_plus(certs::SystemTrust::include, {f2.path()});
  CHECK(sys_plus.size() == sys.size() + 1);
  CHECK(sys_plus.is_anchor(h.root.cert));
  auto with_sys = TrustStore::from_anchors({h.root.cert}, certs::SystemTrust::include);
  CHECK(with_sys.size() == sys.size() + 1);
}

TEST_CASE("self-signed leaf re-issued in the store counts as the anchor", "[certs][chain]") {
  auto ss = make_self_signed({.common_name = "s.test", .dns_names = {"s.test"}});
  auto again =
      make_self_signed({.common_name = "s.test", .dns_names = {"s.test"}, .subject_key = ss.key});
  auto p = certs::analyze_chain({ss.cert}, TrustStore::from_anchors({again.cert}));
  CHECK(p.end == certs::PathEnd::anchored);
  CHECK(p.anchor_was_sent);
  CHECK(*p.anchor == again.cert);
}

TEST_CASE("concurrent verification with a shared store", "[certs][verify]") {
  auto h = make_hierarchy({"a.test"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  Chain chain = h.fullchain();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (certs::verify_chain(chain, trust, at(fixed_now(), "a.test")).ok) ++ok;
        (void)certs::analyze_chain(chain, trust);
        (void)issue(h.intermediate, {.common_name = "x"});
      }
    });
  for (auto& th : threads) th.join();
  CHECK(ok == 200);
}

TEST_CASE("weak keys and hashes still verify (they are findings, not trust failures)",
          "[certs][verify]") {
  auto root = make_root({.common_name = "RSA R", .key = KeyKind::rsa_2048});
  auto trust = TrustStore::from_anchors({root.cert});
  auto sha1 = issue(root, {.common_name = "s", .dns_names = {"s.test"}, .hash = SigHash::sha1});
  CHECK(certs::verify_chain({sha1.cert}, trust, at(fixed_now(), "s.test")).ok);
  auto small = issue(root, {.common_name = "k", .dns_names = {"k.test"}, .key = KeyKind::rsa_1024});
  CHECK(certs::verify_chain({small.cert}, trust, at(fixed_now(), "k.test")).ok);
  auto p224 = issue(root, {.common_name = "e", .dns_names = {"e.test"}, .key = KeyKind::ec_p224});
  CHECK(certs::verify_chain({p224.cert}, trust, at(fixed_now(), "e.test")).ok);
  auto ed_root = make_root({.common_name = "Ed R", .key = KeyKind::ed25519});
  auto ed = issue(ed_root, {.common_name = "d", .dns_names = {"d.test"}, .key = KeyKind::ed25519});
  CHECK(certs::verify_chain({ed.cert}, TrustStore::from_anchors({ed_root.cert}),
                            at(fixed_now(), "d.test"))
            .ok);
}

TEST_CASE("an intermediate as the only anchor: OpenSSL needs partial-chain, which is off",
          "[certs][verify]") {
  // analyze_chain calls this anchored (browsers and Go accept any anchor); verify_chain
  // follows OpenSSL without X509_V_FLAG_PARTIAL_CHAIN, as curl and OpenSSL clients do.
  auto h = make_hierarchy({"a.test"});
  auto trust = TrustStore::from_anchors({h.intermediate.cert});
  auto r = certs::verify_chain(h.fullchain(), trust, at(fixed_now(), "a.test"));
  CHECK_FALSE(r.ok);
  CHECK(r.openssl_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT);
}

TEST_CASE("verify_chain records every error on the path, not only the first", "[certs][verify]") {
  // An expired intermediate and a name-constraint violation in the same chain.
  CertSpec rs{.common_name = "Every Error Root",
              .not_before = fixed_now() - days(3650),
              .not_after = fixed_now() + days(3650)};
  auto root = make_root(rs);
  CertSpec is{.common_name = "Constrained Expired CA",
              .not_before = fixed_now() - days(400),
              .not_after = fixed_now() - days(10),
              .is_ca = true,
              .name_constraints = "critical,permitted;DNS:corp.test"};
  auto inter = issue(root, is);
  auto leaf = issue(inter, {.common_name = "www.example.test", .dns_names = {"www.example.test"}});
  auto trust = TrustStore::from_anchors({root.cert});
  auto r = certs::verify_chain({leaf.cert, inter.cert}, trust, at(fixed_now(), "www.example.test"));
  CHECK_FALSE(r.ok);
  auto has = [&](int depth, int code) {
    return std::any_of(r.errors.begin(), r.errors.end(), [&](const certs::VerifyError& e) {
      return e.depth == depth && e.code == code;
    });
  };
  CHECK(has(1, X509_V_ERR_CERT_HAS_EXPIRED));
  CHECK(has(0, X509_V_ERR_PERMITTED_VIOLATION));
  // The first error is still what OpenSSL alone would have stopped at.
  REQUIRE_FALSE(r.errors.empty());
  CHECK(r.openssl_code == r.errors.front().code);
  CHECK(r.errors.front().name.rfind("X509_V_ERR_", 0) == 0);
  // The path OpenSSL built is kept on failure (verified_path stays empty).
  CHECK(r.verified_path.empty());
  REQUIRE(r.built_path.size() == 3);
  CHECK(r.built_path[1] == inter.cert);

  SECTION("a healthy chain records nothing") {
    auto h = make_hierarchy({"www.example.test"});
    auto ok = certs::verify_chain(h.fullchain(), TrustStore::from_anchors({h.root.cert}),
                                  at(fixed_now(), "www.example.test"));
    CHECK(ok.ok);
    CHECK(ok.errors.empty());
    CHECK(ok.built_path.size() == 3);
  }
}
