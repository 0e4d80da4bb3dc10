// The verification floor (check_verify.cpp): every reason OpenSSL refuses a chain is an
// error finding with its own code, the certificate and the values; chain.verify_failed
// for the rest. Also the Chromium 156 ranking, key.weak on anchors, chain.incomplete without
// AIA, one chain.extra_certs finding and sni.default_cert's hint. Each code both ways.
#include "diagnose_helpers.hpp"

using namespace diagtest;

namespace {

Findings diagnose_chain(const certs::Chain& chain, const certs::TrustStore& trust,
                        const std::string& host = kHost) {
  return run(observations(host, {handshake(Role::direct, host, chain)}), options(trust));
}

const Finding* shown(const Findings& fs) {
  for (const auto& f : fs)
    if (f.browser_shows) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("chain.not_a_ca: a sent issuer without CA:TRUE, never 'not sent'", "[diagnose][floor]") {
  auto root = make_root(ca_spec("NotCA Root"));
  auto fake = issue(root, leaf_spec({"issuer.example.test"}));  // a leaf used as a CA
  auto leaf = issue(fake, leaf_spec({kHost}));
  auto trust = trust_root(root);
  auto fs = diagnose_chain({leaf.cert, fake.cert}, trust);
  REQUIRE(count(fs, codes::chain_not_a_ca) == 1);
  auto* f = find(fs, codes::chain_not_a_ca);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "certificate") == fake.cert.subject());
  CHECK(ev(*f, "reason") == "ca_false");
  CHECK(ev(*f, "basic_constraints").find("CA:FALSE") != std::string::npos);
  CHECK(ev(*f, "issued") == leaf.cert.subject());
  CHECK(ev(*f, "sent") == "true");
  CHECK(f->equivalents.at("chrome") == "net::ERR_CERT_INVALID");
  CHECK(f->browser_shows);
  CHECK(count(fs, codes::chain_incomplete) == 0);
  CHECK(count(fs, codes::chain_untrusted_root) == 0);
  CHECK(count(fs, codes::cert_bad_purpose) == 0);  // one finding per fact

  auto h = make_hierarchy({kHost});
  CHECK(count(diagnose_chain(h.fullchain(), trust_root(h.root)), codes::chain_not_a_ca) == 0);
}

TEST_CASE("chain.path_length names the CA, its constraint and the depth", "[diagnose][floor]") {
  auto root = make_root(ca_spec("PathLen Root"));
  auto i1spec = ca_spec("PathLen Zero CA");
  i1spec.basic_constraints = "critical,CA:TRUE,pathlen:0";
  auto i1 = issue(root, i1spec);
  auto i2 = issue(i1, ca_spec("PathLen Below CA"));
  auto leaf = issue(i2, leaf_spec({kHost}));
  auto trust = trust_root(root);
  auto fs = diagnose_chain({leaf.cert, i2.cert, i1.cert}, trust);
  REQUIRE(count(fs, codes::chain_path_length) == 1);
  auto* f = find(fs, codes::chain_path_length);
  CHECK(ev(*f, "certificate") == i1.cert.subject());
  CHECK(ev(*f, "path_len_constraint") == "0");
  CHECK(ev(*f, "intermediates_below") == "1");
  CHECK(ev(*f, "depth") == "2");
  CHECK(f->equivalents.at("openssl").rfind("25 ", 0) == 0);

  i1spec.basic_constraints = "critical,CA:TRUE,pathlen:1";
  auto i1ok = issue(root, i1spec);
  auto i2ok = issue(i1ok, ca_spec("PathLen Below CA"));
  auto leafok = issue(i2ok, leaf_spec({kHost}));
  auto ok = diagnose_chain({leafok.cert, i2ok.cert, i1ok.cert}, trust);
  CHECK(count(ok, codes::chain_path_length) == 0);
  CHECK_FALSE(has_error(ok));
}

TEST_CASE("chain.name_constraints: the name and the subtree it breaks", "[diagnose][floor]") {
  auto root = make_root(ca_spec("NC Root"));
  auto spec = ca_spec("NC Corp CA");
  spec.name_constraints = "critical,permitted;DNS:corp.test";
  auto inter = issue(root, spec);
  auto trust = trust_root(root);

  SECTION("permitted subtree") {
    auto leaf = issue(inter, leaf_spec({kHost}));
    auto fs = diagnose_chain({leaf.cert, inter.cert}, trust);
    REQUIRE(count(fs, codes::chain_name_constraints) == 1);
    auto* f = find(fs, codes::chain_name_constraints);
    CHECK(ev(*f, "violation") == "permitted");
    CHECK(ev(*f, "name") == std::string("DNS:") + kHost);
    CHECK(ev(*f, "subtree") == "DNS:corp.test");
    CHECK(ev(*f, "constraining_ca") == inter.cert.subject());
    CHECK(f->equivalents.at("openssl").rfind("47 ", 0) == 0);
    CHECK(f->browser_shows);
  }
  SECTION("inside the permitted subtree: nothing") {
    auto leaf = issue(inter, leaf_spec({"www.corp.test"}));
    auto fs = diagnose_chain({leaf.cert, inter.cert}, trust, "www.corp.test");
    CHECK(count(fs, codes::chain_name_constraints) == 0);
    CHECK_FALSE(has_error(fs));
  }
  SECTION("excluded subtree") {
    auto xspec = ca_spec("NC Excluding CA");
    xspec.name_constraints = "critical,excluded;DNS:example.test";
    auto xi = issue(root, xspec);
    auto leaf = issue(xi, leaf_spec({kHost}));
    auto fs = diagnose_chain({leaf.cert, xi.cert}, trust);
    REQUIRE(count(fs, codes::chain_name_constraints) == 1);
    auto* f = find(fs, codes::chain_name_constraints);
    CHECK(ev(*f, "violation") == "excluded");
    CHECK(ev(*f, "subtree") == "DNS:example.test");
  }
  SECTION("a wildcard covering an excluded name (OpenSSL 3.0 does not see it)") {
    auto xspec = ca_spec("NC Wildcard CA");
    xspec.name_constraints = "critical,excluded;DNS:bar.example.test";
    auto xi = issue(root, xspec);
    auto leaf = issue(xi, leaf_spec({"*.example.test"}));
    auto fs = diagnose_chain({leaf.cert, xi.cert}, trust, "foo.example.test");
    REQUIRE(count(fs, codes::chain_name_constraints) == 1);
    auto* f = find(fs, codes::chain_name_constraints);
    CHECK(ev(*f, "name") == "DNS:*.example.test");
    CHECK(ev(*f, "subtree") == "DNS:bar.example.test");
    CHECK(f->equivalents.at("openssl").rfind("none", 0) == 0);
    // A wildcard of another domain is no violation.
    auto other = issue(xi, leaf_spec({"*.other.test"}));
    CHECK(count(diagnose_chain({other.cert, xi.cert}, trust, "a.other.test"),
                codes::chain_name_constraints) == 0);
  }
}

TEST_CASE("an expired intermediate and a name-constraint violation are both reported",
          "[diagnose][floor]") {
  auto root = make_root(ca_spec("Both Root"));
  auto spec = ca_spec("Both Expired Corp CA");
  spec.name_constraints = "critical,permitted;DNS:corp.test";
  spec.not_before = fixed_now() - std::chrono::days(400);
  spec.not_after = fixed_now() - std::chrono::days(5);
  auto inter = issue(root, spec);
  auto leaf = issue(inter, leaf_spec({kHost}));
  auto fs = diagnose_chain({leaf.cert, inter.cert}, trust_root(root));
  CHECK(count(fs, codes::chain_name_constraints) == 1);
  REQUIRE(count(fs, codes::cert_expired) == 1);
  CHECK(ev(*find(fs, codes::cert_expired), "position") == "intermediate");
  // ERR_CERT_INVALID outranks DATE_INVALID in Chromium.
  REQUIRE(shown(fs));
  CHECK(shown(fs)->code == codes::chain_name_constraints);
}

TEST_CASE("cert.bad_purpose: an EKU without serverAuth", "[diagnose][floor]") {
  auto h = make_hierarchy({kHost});
  auto spec = leaf_spec({kHost});
  spec.ext_key_usage = "clientAuth";
  auto leaf = issue(h.intermediate, spec);
  auto fs = diagnose_chain({leaf.cert, h.intermediate.cert}, trust_root(h.root));
  REQUIRE(count(fs, codes::cert_bad_purpose) == 1);
  auto* f = find(fs, codes::cert_bad_purpose);
  CHECK(ev(*f, "reason") == "eku");
  CHECK(ev(*f, "eku") == "clientAuth");
  CHECK(ev(*f, "position") == "leaf");
  CHECK(f->equivalents.at("openssl").rfind("26 ", 0) == 0);
  CHECK(count(diagnose_chain(h.fullchain(), trust_root(h.root)), codes::cert_bad_purpose) == 0);
}

TEST_CASE("cert.critical_extension names the OID", "[diagnose][floor]") {
  auto h = make_hierarchy({kHost});
  auto spec = leaf_spec({kHost});
  spec.extensions = {{"1.3.6.1.4.1.55738.666", "critical,DER:05:00"}};
  auto leaf = issue(h.intermediate, spec);
  auto fs = diagnose_chain({leaf.cert, h.intermediate.cert}, trust_root(h.root));
  REQUIRE(count(fs, codes::cert_critical_extension) == 1);
  auto* f = find(fs, codes::cert_critical_extension);
  CHECK(ev(*f, "oid").find("1.3.6.1.4.1.55738.666") != std::string::npos);
  CHECK(f->equivalents.at("openssl").rfind("34 ", 0) == 0);

  spec.extensions = {{"1.3.6.1.4.1.55738.666", "DER:05:00"}};  // the same, not critical
  auto ok = issue(h.intermediate, spec);
  auto fs2 = diagnose_chain({ok.cert, h.intermediate.cert}, trust_root(h.root));
  CHECK(count(fs2, codes::cert_critical_extension) == 0);
  CHECK_FALSE(has_error(fs2));
}

TEST_CASE("cert.malformed: a duplicated extension", "[diagnose][floor]") {
  auto h = make_hierarchy({kHost});
  auto spec = leaf_spec({kHost});
  spec.extensions = {{"subjectKeyIdentifier", "hash"}};  // a second SKI
  auto leaf = issue(h.intermediate, spec);
  auto fs = diagnose_chain({leaf.cert, h.intermediate.cert}, trust_root(h.root));
  REQUIRE(count(fs, codes::cert_malformed) == 1);
  auto* f = find(fs, codes::cert_malformed);
  CHECK(ev(*f, "problems").find("duplicate extension 2.5.29.14") != std::string::npos);
  CHECK(count(diagnose_chain(h.fullchain(), trust_root(h.root)), codes::cert_malformed) == 0);
}

TEST_CASE("chain.verify_failed: OpenSSL's refusal without a code of its own is never silent",
          "[diagnose][floor]") {
  // The intermediate alone is the trust anchor: browsers accept the path, OpenSSL without
  // partial-chain mode (curl's default before 7.68, openssl verify) finds no root.
  auto h = make_hierarchy({kHost});
  auto trust = certs::TrustStore::from_anchors({h.intermediate.cert});
  auto fs = diagnose_chain(h.fullchain(), trust);
  REQUIRE(count(fs, codes::chain_verify_failed) == 1);
  auto* f = find(fs, codes::chain_verify_failed);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "openssl_code") == std::to_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT));
  CHECK_FALSE(ev(*f, "openssl_text").empty());
  CHECK(f->equivalents.at("openssl").rfind("2 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT", 0) == 0);
  CHECK(f->equivalents.at("chrome") == "net::ERR_CERT_AUTHORITY_INVALID");
  CHECK(count(diagnose_chain(h.fullchain(), trust_root(h.root)), codes::chain_verify_failed) == 0);
}

TEST_CASE("key.weak covers the trust anchor too", "[diagnose][crypto]") {
  auto rspec = ca_spec("Weak Root");
  rspec.key = KeyKind::rsa_1024;
  auto root = make_root(rspec);
  auto inter = issue(root, ca_spec("Strong Intermediate"));
  auto leaf = issue(inter, leaf_spec({kHost}));
  auto fs = diagnose_chain({leaf.cert, inter.cert}, trust_root(root));
  REQUIRE(count(fs, codes::key_weak) == 1);
  auto* f = find(fs, codes::key_weak);
  CHECK(ev(*f, "position") == "root");
  CHECK(ev(*f, "certificate") == root.cert.subject());
  CHECK(ev(*f, "key_bits") == "1024");
  auto h = make_hierarchy({kHost});
  CHECK(count(diagnose_chain(h.fullchain(), trust_root(h.root)), codes::key_weak) == 0);
}

TEST_CASE("a leaf sent alone without AIA is chain.incomplete, not an untrusted root",
          "[diagnose][trust]") {
  auto h = private_hierarchy({kHost});  // no AIA anywhere
  REQUIRE(h.leaf.cert.aia_issuer_url().empty());
  auto fs = diagnose_chain({h.leaf.cert}, trust_root(h.root));
  REQUIRE(count(fs, codes::chain_incomplete) == 1);
  auto* f = find(fs, codes::chain_incomplete);
  CHECK(ev(*f, "missing_issuer") == h.intermediate.cert.subject());
  CHECK(ev(*f, "aia_url") == "");
  CHECK(f->message.find("internal root") != std::string::npos);
  CHECK(f->browser_shows);  // nothing for Chrome to fetch
  CHECK(count(fs, codes::chain_untrusted_root) == 0);
  CHECK(count(fs, codes::chain_verify_failed) == 0);  // the floor is satisfied by it

  SECTION("a self-signed leaf stays cert.self_signed") {
    auto self = make_self_signed(leaf_spec({kHost}));
    auto fs2 = diagnose_chain({self.cert}, trust_root(h.root));
    CHECK(count(fs2, codes::cert_self_signed) == 1);
    CHECK(count(fs2, codes::chain_incomplete) == 0);
  }
}

TEST_CASE("Chromium 156: SHA-1 is ERR_CERT_INVALID and outranks a name mismatch",
          "[diagnose][chrome]") {
  auto h = make_hierarchy({kHost});
  auto spec = leaf_spec({"other.example.test"});
  spec.hash = SigHash::sha1;
  auto leaf = issue(h.intermediate, spec);
  auto fs = diagnose_chain({leaf.cert, h.intermediate.cert}, trust_root(h.root));
  REQUIRE(find(fs, codes::sig_weak));
  REQUIRE(find(fs, codes::name_mismatch));
  CHECK(find(fs, codes::sig_weak)->equivalents.at("chrome") == "net::ERR_CERT_INVALID");
  REQUIRE(shown(fs));
  CHECK(shown(fs)->code == codes::sig_weak);
}

TEST_CASE("chain.extra_certs: one finding lists every extra certificate", "[diagnose][layout]") {
  auto h = make_hierarchy({kHost});
  certs::Chain chain = h.fullchain();
  auto other = make_root(ca_spec("Unrelated Root"));
  for (int i = 0; i < 100; ++i)
    chain.push_back(issue(other, leaf_spec({"x" + std::to_string(i) + ".test"})).cert);
  auto fs = diagnose_chain(chain, trust_root(h.root));
  REQUIRE(count(fs, codes::chain_extra_certs) == 1);
  auto* f = find(fs, codes::chain_extra_certs);
  CHECK(ev(*f, "count") == "100");
  CHECK(ev(*f, "indices").rfind("2,3,4", 0) == 0);
  CHECK(f->message.find("and 90 more") != std::string::npos);
  CHECK(count(diagnose_chain(h.fullchain(), trust_root(h.root)), codes::chain_extra_certs) == 0);
}

TEST_CASE("sni.default_cert carries name.mismatch's hint and both fixes", "[diagnose][sni]") {
  auto h = make_hierarchy({"example.test"});
  auto trust = trust_root(h.root);
  const std::string www = "www.example.test";
  auto obs = observations(www, {handshake(Role::direct, www, h.fullchain()),
                                handshake(Role::nosni, www, h.fullchain())});
  auto fs = run(obs, options(trust));
  REQUIRE(count(fs, codes::sni_default_cert) == 1);
  auto* f = find(fs, codes::sni_default_cert);
  CHECK(ev(*f, "hint") == "www_vs_apex");
  CHECK(f->message.find("covers example.test but not www.example.test") != std::string::npos);
  CHECK(f->remedy.find("add the name") != std::string::npos);
  CHECK(f->remedy.find("its own virtual host") != std::string::npos);
}

TEST_CASE("cert.profile: Baseline Requirements rules, warnings only", "[diagnose][profile]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto rules_of = [](const Findings& fs) {
    std::vector<std::string> rules;
    for (const auto& f : fs)
      if (f.code == codes::cert_profile) {
        CHECK(f.severity == Severity::warning);
        CHECK_FALSE(f.browser_shows);
        rules.push_back(ev(f, "rule"));
      }
    return rules;
  };
  auto has_rule = [&](const Findings& fs, const std::string& rule) {
    auto r = rules_of(fs);
    return std::find(r.begin(), r.end(), rule) != r.end();
  };
  SECTION("a healthy chain has none") {
    CHECK(rules_of(diagnose_chain(h.fullchain(), trust)).empty());
  }
  SECTION("CN not among the SANs") {
    auto spec = leaf_spec({kHost});
    spec.common_name = "legacy.example.test";
    auto leaf = issue(h.intermediate, spec);
    auto fs = diagnose_chain({leaf.cert, h.intermediate.cert}, trust);
    CHECK(has_rule(fs, "cn_not_in_san"));
    CHECK_FALSE(has_error(fs));
  }
  SECTION("leaf without EKU, or with anyExtendedKeyUsage") {
    auto spec = leaf_spec({kHost});
    spec.ext_key_usage = "";
    auto none = issue(h.intermediate, spec);
    CHECK(has_rule(diagnose_chain({none.cert, h.intermediate.cert}, trust), "leaf_without_eku"));
    spec.ext_key_usage = "anyExtendedKeyUsage";
    auto any = issue(h.intermediate, spec);
    CHECK(has_rule(diagnose_chain({any.cert, h.intermediate.cert}, trust), "leaf_any_eku"));
  }
  SECTION("underscore in a DNS name; wildcard on a public suffix") {
    auto spec = leaf_spec({kHost, "foo_bar.example.test", "*.co.uk"});
    auto leaf = issue(h.intermediate, spec);
    auto fs = diagnose_chain({leaf.cert, h.intermediate.cert}, trust);
    CHECK(has_rule(fs, "dns_underscore"));
    CHECK(has_rule(fs, "wildcard_public_suffix"));
  }
  SECTION("a root with non-critical basic constraints") {
    auto rspec = ca_spec("Lax Root");
    rspec.basic_constraints = "CA:TRUE";
    auto root = make_root(rspec);
    auto leaf = issue(root, leaf_spec({kHost}));
    auto fs = diagnose_chain({leaf.cert}, trust_root(root));
    CHECK(has_rule(fs, "basic_constraints_not_critical"));
    CHECK_FALSE(has_error(fs));
  }
}
