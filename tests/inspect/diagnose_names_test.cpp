// name.mismatch (with its hint), sni.default_cert and sni.required from diagnose().
#include "diagnose_helpers.hpp"

using namespace diagtest;

namespace {

struct Site {
  Issued root, inter;
  certs::TrustStore trust;
};

Site site() {
  auto root = make_root(ca_spec("Names Root"));
  auto inter = issue(root, ca_spec("Names Intermediate"));
  auto trust = trust_root(root);
  return Site{std::move(root), std::move(inter), std::move(trust)};
}

certs::Chain chain_for(const Site& s, CertSpec spec) {
  auto leaf = issue(s.inter, std::move(spec));
  return {leaf.cert, s.inter.cert};
}

Findings diagnose_name(const Site& s, const std::string& host, CertSpec spec) {
  return run(observations(host, {handshake(Role::direct, host, chain_for(s, std::move(spec)))}),
             options(s.trust));
}

}  // namespace

TEST_CASE("name.mismatch hint www_vs_apex, both ways", "[diagnose][names]") {
  auto s = site();
  auto fs = diagnose_name(s, "www.example.test", leaf_spec({"example.test"}));
  REQUIRE(count(fs, codes::name_mismatch) == 1);
  auto* f = find(fs, codes::name_mismatch);
  CHECK(f->severity == Severity::error);
  CHECK(f->role == Role::direct);
  CHECK(ev(*f, "hint") == "www_vs_apex");
  CHECK(ev(*f, "requested_name") == "www.example.test");
  CHECK(ev(*f, "names") == "example.test");
  CHECK(ev(*f, "closest_name") == "example.test");
  CHECK(f->browser_shows);
  CHECK(f->equivalents.at("openssl").rfind("62 ", 0) == 0);
  CHECK(f->equivalents.at("chrome") == "net::ERR_CERT_COMMON_NAME_INVALID");
  CHECK(f->equivalents.at("firefox") == "SSL_ERROR_BAD_CERT_DOMAIN");
  CHECK(f->equivalents.at("curl").find("'www.example.test'") != std::string::npos);

  auto fs2 = diagnose_name(s, "example.test", leaf_spec({"www.example.test"}));
  REQUIRE(find(fs2, codes::name_mismatch));
  CHECK(ev(*find(fs2, codes::name_mismatch), "hint") == "www_vs_apex");
}

TEST_CASE("name.mismatch hint ip_address when reached by IP without an IP SAN",
          "[diagnose][names]") {
  auto s = site();
  auto fs = diagnose_name(s, "192.0.2.10", leaf_spec({"example.test"}));
  REQUIRE(count(fs, codes::name_mismatch) == 1);
  auto* f = find(fs, codes::name_mismatch);
  CHECK(ev(*f, "hint") == "ip_address");
  CHECK(ev(*f, "requested_name") == "192.0.2.10");
  CHECK(f->equivalents.at("openssl").rfind("64 ", 0) == 0);

  auto spec = leaf_spec({"example.test"});
  spec.ip_names = {"192.0.2.10"};
  CHECK(count(diagnose_name(s, "192.0.2.10", spec), codes::name_mismatch) == 0);
}

TEST_CASE("name.mismatch hint wildcard_depth: one label only, not the apex", "[diagnose][names]") {
  auto s = site();
  auto fs = diagnose_name(s, "a.b.example.test", leaf_spec({"*.example.test"}));
  REQUIRE(find(fs, codes::name_mismatch));
  CHECK(ev(*find(fs, codes::name_mismatch), "hint") == "wildcard_depth");
  CHECK(ev(*find(fs, codes::name_mismatch), "closest_name") == "*.example.test");

  auto fs2 = diagnose_name(s, "example.test", leaf_spec({"*.example.test"}));
  REQUIRE(find(fs2, codes::name_mismatch));
  CHECK(ev(*find(fs2, codes::name_mismatch), "hint") == "wildcard_depth");

  CHECK(diagnose_name(s, "a.example.test", leaf_spec({"*.example.test"})).empty());
}

TEST_CASE("name.mismatch hint other_names, and the CN alone never matches", "[diagnose][names]") {
  auto s = site();
  auto fs = diagnose_name(s, "shop.example.test", leaf_spec({"blog.other.test", "other.test"}));
  REQUIRE(find(fs, codes::name_mismatch));
  CHECK(ev(*find(fs, codes::name_mismatch), "hint") == "other_names");
  CHECK(ev(*find(fs, codes::name_mismatch), "names") == "blog.other.test, other.test");

  auto cn_only = leaf_spec({});
  cn_only.common_name = "shop.example.test";
  auto fs2 = diagnose_name(s, "shop.example.test", cn_only);
  REQUIRE(find(fs2, codes::name_mismatch));
  CHECK(ev(*find(fs2, codes::name_mismatch), "common_name_matches") == "true");
}

TEST_CASE("matching names (case, trailing dot) give no name finding", "[diagnose][names]") {
  auto s = site();
  CHECK(diagnose_name(s, "WWW.Example.Test.", leaf_spec({"www.example.test"})).empty());
}

TEST_CASE("expired certificate for the wrong name: Chrome shows the name error",
          "[diagnose][browser]") {
  auto s = site();
  auto spec = leaf_spec({"other.test"});
  spec.not_after = fixed_now() - std::chrono::days(1);
  auto fs = diagnose_name(s, kHost, spec);
  auto* nm = find(fs, codes::name_mismatch);
  auto* ex = find(fs, codes::cert_expired);
  REQUIRE(nm);
  REQUIRE(ex);
  CHECK(nm->browser_shows);
  CHECK_FALSE(ex->browser_shows);
}

TEST_CASE("sni.default_cert when the leaf is the one sent without SNI, replacing name.mismatch",
          "[diagnose][sni]") {
  auto s = site();
  auto default_chain = chain_for(s, leaf_spec({"default.example.test"}));
  auto obs = observations(kHost, {handshake(Role::direct, kHost, default_chain),
                                  handshake(Role::nosni, kHost, default_chain)});
  auto fs = run(obs, options(s.trust));
  REQUIRE(count(fs, codes::sni_default_cert) == 1);
  CHECK(count(fs, codes::name_mismatch) == 0);
  auto* f = find(fs, codes::sni_default_cert);
  CHECK(f->severity == Severity::error);
  CHECK(f->role == Role::direct);
  CHECK(ev(*f, "default_via") == "nosni");
  CHECK(ev(*f, "requested_name") == kHost);
  CHECK(ev(*f, "hint") == "other_names");
  CHECK(ev(*f, "sha256") == default_chain[0].sha256_hex());
  CHECK(f->browser_shows);
  CHECK(fs.size() == 1);  // the nosni handshake adds nothing of its own

  SECTION("proven by an unknown SNI too") {
    auto obs2 = observations(kHost, {handshake(Role::direct, kHost, default_chain),
                                     handshake(Role::othersni, kHost, default_chain)});
    auto fs2 = run(obs2, options(s.trust));
    REQUIRE(find(fs2, codes::sni_default_cert));
    CHECK(ev(*find(fs2, codes::sni_default_cert), "default_via") == "othersni");
  }
  SECTION("a different certificate without SNI: plain name.mismatch") {
    auto other = chain_for(s, leaf_spec({"fallback.example.test"}));
    auto obs3 = observations(kHost, {handshake(Role::direct, kHost, default_chain),
                                     handshake(Role::nosni, kHost, other)});
    auto fs3 = run(obs3, options(s.trust));
    CHECK(count(fs3, codes::sni_default_cert) == 0);
    CHECK(count(fs3, codes::name_mismatch) == 1);
  }
  SECTION("the name is covered: same certificate without SNI is fine") {
    auto good = chain_for(s, leaf_spec({kHost}));
    auto obs4 = observations(
        kHost, {handshake(Role::direct, kHost, good), handshake(Role::nosni, kHost, good)});
    CHECK(run(obs4, options(s.trust)).empty());
  }
}

TEST_CASE("nosni and othersni handshakes produce no findings of their own", "[diagnose][sni]") {
  auto s = site();
  auto spec = leaf_spec({"default.test"});
  spec.not_after = fixed_now() - std::chrono::days(5);
  auto broken = make_self_signed(spec);
  auto good = chain_for(s, leaf_spec({kHost}));
  auto failed = handshake(Role::othersni, kHost, {});
  failed.outcome = HandshakeOutcome::handshake_failed;
  failed.failure = FailureKind::alert;
  failed.alert = "unrecognized_name";
  auto obs = observations(kHost, {handshake(Role::direct, kHost, good),
                                  handshake(Role::nosni, kHost, {broken.cert}), failed});
  CHECK(run(obs, options(s.trust)).empty());
}

TEST_CASE("sni.required when the handshake without SNI fails and the one with SNI works",
          "[diagnose][sni]") {
  auto s = site();
  auto good = chain_for(s, leaf_spec({kHost}));
  auto nosni = handshake(Role::nosni, kHost, {});
  nosni.outcome = HandshakeOutcome::handshake_failed;
  nosni.failure = FailureKind::alert;
  nosni.alert = "unrecognized_name";
  auto obs = observations(kHost, {handshake(Role::direct, kHost, good), nosni});
  auto fs = run(obs, options(s.trust));
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == codes::sni_required);
  CHECK(fs[0].severity == Severity::info);
  CHECK(fs[0].role == Role::nosni);
  CHECK(ev(fs[0], "alert") == "unrecognized_name");
  CHECK_FALSE(fs[0].browser_shows);

  SECTION("not when the SNI handshake failed too") {
    auto direct = handshake(Role::direct, kHost, {});
    direct.outcome = HandshakeOutcome::handshake_failed;
    direct.failure = FailureKind::closed;
    auto fs2 = run(observations(kHost, {direct, nosni}), options(s.trust));
    CHECK(count(fs2, codes::sni_required) == 0);
    CHECK(count(fs2, codes::tls_handshake_failed) == 1);
  }
  SECTION("not when the server answers without SNI") {
    auto obs3 = observations(
        kHost, {handshake(Role::direct, kHost, good), handshake(Role::nosni, kHost, good)});
    CHECK(run(obs3, options(s.trust)).empty());
  }
}

TEST_CASE("a self-signed default certificate: Chrome shows the authority error first",
          "[diagnose][browser]") {
  auto s = site();
  auto self = make_self_signed(leaf_spec({"localhost"}));
  auto obs = observations(kHost, {handshake(Role::direct, kHost, {self.cert}),
                                  handshake(Role::nosni, kHost, {self.cert})});
  auto fs = run(obs, options(s.trust));
  auto* dc = find(fs, codes::sni_default_cert);
  auto* ss = find(fs, codes::cert_self_signed);
  REQUIRE(dc);
  REQUIRE(ss);
  CHECK(ss->browser_shows);
  CHECK_FALSE(dc->browser_shows);
  CHECK(ev(*dc, "default_via") == "nosni");
}
