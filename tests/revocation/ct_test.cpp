// Certificate Transparency judged by diagnose(): a test log pair signing SCTs over
// certificates made here (embedded over the precertificate TBS, or delivered as X.509
// entries in the TLS extension or a stapled OCSP response), a log list naming them, and the
// --ca-file root treated as a system root by the test switch.
#include "revocation/revocation_helpers.hpp"

#include "inspect/transparency.hpp"
#include "pki/ct_pki.hpp"

using namespace revtest;

namespace {

struct CtWorld {
  Pki pki;
  TestCtLog a = make_ct_log("Test Log A", "Operator One");
  TestCtLog b = make_ct_log("Test Log B", "Operator Two");
  TestCtLog c = make_ct_log("Test Log C", "Operator One");
  TestCtLog stranger = make_ct_log("Unlisted Log", "Operator Three");
  std::shared_ptr<const certs::CtLogList> list;
  CtWorld() : pki(make_pki(false, "")) {
    list = std::make_shared<const certs::CtLogList>(
        certs::CtLogList::from_logs({a.entry(), b.entry(), c.entry()}));
  }
  DiagnoseOptions opts(bool as_public = true) const {
    auto o = options(pki.trust);
    o.ct_logs = list;
    o.ct_private_roots_as_public = as_public;
    return o;
  }
  Findings run_with(const Issued& leaf, DiagnoseOptions o, std::vector<std::string> tls = {},
                    std::string staple = {}) const {
    auto h = handshake(Role::direct, kHost, {leaf.cert, pki.inter.cert});
    h.tls_scts = std::move(tls);
    h.ocsp_staple = std::move(staple);
    return run(observations(kHost, {h}), o);
  }
};

const TimePoint kSctTime = fixed_now() - std::chrono::days(29);

}  // namespace

TEST_CASE("embedded SCTs from two operators meet the policy: no CT finding", "[revocation][ct]") {
  CtWorld w;
  const auto leaf = embed_scts(w.pki.leaf, w.pki.inter, {&w.a, &w.b}, kSctTime);
  const auto fs = w.run_with(leaf, w.opts());
  CHECK(!find(fs, codes::ct_insufficient_scts));
  CHECK(!find(fs, codes::ct_sct_invalid));
  CHECK(!has_error(fs));
  auto h = handshake(Role::direct, kHost, {leaf.cert, w.pki.inter.cert});
  const auto tf = transparency_facts(h, w.opts());
  REQUIRE(tf.ct.scts.size() == 2);
  for (const auto& s : tf.ct.scts) {
    CHECK(s.source == "embedded");
    CHECK(s.status == "valid");
    CHECK(s.timestamp == kSctTime);
  }
  CHECK(tf.ct.scts[0].log_description == "Test Log A");
  CHECK(tf.ct.compliant);
  CHECK(tf.policy_applies);
  CHECK(transparency_summary(tf).find("meets Chrome's CT policy") != std::string::npos);
}

TEST_CASE("too few SCTs, or one operator only: ct.insufficient_scts with Chrome's error",
          "[revocation][ct]") {
  CtWorld w;
  for (const auto& logs : std::vector<std::vector<const TestCtLog*>>{
           {}, {&w.a}, {&w.a, &w.c} /* both Operator One */}) {
    INFO(logs.size());
    const auto leaf = embed_scts(w.pki.leaf, w.pki.inter, logs, kSctTime);
    const auto fs = w.run_with(leaf, w.opts());
    const auto* f = find(fs, codes::ct_insufficient_scts);
    REQUIRE(f);
    CHECK(f->severity == Severity::error);
    CHECK(f->equivalents.at("chrome") == "net::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED");
    CHECK(f->browser_shows);
    CHECK(ev(*f, "lifetime_days") == "120");
  }
}

TEST_CASE("a private root (--ca-file) is exempt from the CT policy, as in browsers",
          "[revocation][ct]") {
  CtWorld w;
  const auto fs = w.run_with(w.pki.leaf, w.opts(false));
  CHECK(!find(fs, codes::ct_insufficient_scts));
  auto h = handshake(Role::direct, kHost, {w.pki.leaf.cert, w.pki.inter.cert});
  const auto tf = transparency_facts(h, w.opts(false));
  CHECK(!tf.policy_applies);
  CHECK(tf.anchor == w.pki.root.cert.subject());
}

TEST_CASE("without a log list nothing is judged", "[revocation][ct]") {
  CtWorld w;
  auto o = w.opts();
  o.ct_logs.reset();
  const auto fs = w.run_with(w.pki.leaf, o);
  CHECK(!find(fs, codes::ct_insufficient_scts));
  CHECK(!find(fs, codes::ct_sct_invalid));
}

TEST_CASE("an SCT from an unlisted log, or with a bad signature, is ct.sct_invalid",
          "[revocation][ct]") {
  CtWorld w;
  auto leaf = embed_scts(w.pki.leaf, w.pki.inter, {&w.stranger, &w.a, &w.b}, kSctTime);
  auto fs = w.run_with(leaf, w.opts());
  auto* f = find(fs, codes::ct_sct_invalid);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(ev(*f, "status") == "unknown_log");
  CHECK(!find(fs, codes::ct_insufficient_scts));  // two valid ones remain

  leaf = embed_scts(w.pki.leaf, w.pki.inter, {&w.a, &w.b}, kSctTime, true);
  fs = w.run_with(leaf, w.opts());
  f = find(fs, codes::ct_sct_invalid);
  REQUIRE(f);
  CHECK(ev(*f, "status") == "invalid_signature");
  CHECK(find(fs, codes::ct_insufficient_scts));  // one valid left

  // An SCT from the future.
  leaf = embed_scts(w.pki.leaf, w.pki.inter, {&w.a, &w.b}, fixed_now() + std::chrono::days(2));
  fs = w.run_with(leaf, w.opts());
  f = find(fs, codes::ct_sct_invalid);
  REQUIRE(f);
  CHECK(ev(*f, "status") == "future_timestamp");
}

TEST_CASE("SCTs delivered in the TLS extension or the OCSP staple count (2 operators)",
          "[revocation][ct]") {
  CtWorld w;
  const auto& leaf = w.pki.leaf;
  const std::vector<std::string> tls = {make_sct(w.a, leaf.cert, kSctTime),
                                        make_sct(w.b, leaf.cert, kSctTime)};
  auto fs = w.run_with(leaf, w.opts(), tls);
  CHECK(!find(fs, codes::ct_insufficient_scts));
  CHECK(!find(fs, codes::ct_sct_invalid));

  OcspSpec spec;
  spec.scts = tls;
  fs = w.run_with(leaf, w.opts(), {}, make_ocsp_response(w.pki.inter, leaf.cert, spec));
  CHECK(!find(fs, codes::ct_insufficient_scts));
  auto h = handshake(Role::direct, kHost, {leaf.cert, w.pki.inter.cert});
  h.ocsp_staple = make_ocsp_response(w.pki.inter, leaf.cert, spec);
  const auto tf = transparency_facts(h, w.opts());
  REQUIRE(tf.ct.scts.size() == 2);
  CHECK(tf.ct.scts[0].source == "ocsp_staple");
  CHECK(tf.ct.valid_delivered == 2);

  // A TLS SCT over another certificate does not verify.
  const auto other = issue(w.pki.inter, leaf_spec({"other.example.test"}));
  fs = w.run_with(leaf, w.opts(), {make_sct(w.a, other.cert, kSctTime), tls[1]});
  CHECK(find(fs, codes::ct_sct_invalid));
  CHECK(find(fs, codes::ct_insufficient_scts));
}

TEST_CASE("a certificate valid for more than 180 days needs 3 embedded SCTs", "[revocation][ct]") {
  CtWorld w;
  auto spec = leaf_spec({kHost});
  spec.not_after = spec.not_before + std::chrono::days(200);
  const auto long_leaf = issue(w.pki.inter, spec);
  auto fs = w.run_with(embed_scts(long_leaf, w.pki.inter, {&w.a, &w.b}, kSctTime), w.opts());
  REQUIRE(find(fs, codes::ct_insufficient_scts));
  fs = w.run_with(embed_scts(long_leaf, w.pki.inter, {&w.a, &w.b, &w.c}, kSctTime), w.opts());
  CHECK(!find(fs, codes::ct_insufficient_scts));
}

TEST_CASE("a log list loads from OpenSSL's ct_log_list.cnf", "[revocation][ct]") {
  CtWorld w;
  TempPemFile cnf(openssl_ct_log_list_cnf({&w.a, &w.b}));
  const auto from_cnf = certs::CtLogList::from_openssl_cnf(cnf.path());
  REQUIRE(from_cnf.logs().size() == 2);
  CHECK(from_cnf.find(w.b.log_id));
  CHECK(from_cnf.logs()[1].description == "Test Log B");
  const auto leaf = embed_scts(w.pki.leaf, w.pki.inter, {&w.a, &w.b}, kSctTime);
  auto o = w.opts();
  // One operator per log in a .cnf list (it names none): two logs, two operators.
  o.ct_logs = std::make_shared<const certs::CtLogList>(from_cnf);
  CHECK(!find(w.run_with(leaf, o), codes::ct_insufficient_scts));
  TempPemFile garbage("hello\n");
  CHECK_THROWS(certs::CtLogList::from_openssl_cnf(garbage.path()));
  CHECK_THROWS(certs::CtLogList::from_openssl_cnf("/nonexistent/ct_log_list.cnf"));
}
