// cert.*, chain.*, key.*, sig.*, tls.*, probe.* from diagnose(), on in-memory chains.
#include "diagnose_helpers.hpp"

using namespace diagtest;

TEST_CASE("a healthy chain gives zero findings", "[diagnose]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto obs = observations(kHost, {handshake(Role::direct, kHost, h.fullchain())});
  auto fs = run(obs, options(trust));
  for (const auto& f : fs) INFO(f.code);
  CHECK(fs.empty());
}

TEST_CASE("cert.expired on the leaf says leaf and its notAfter", "[diagnose][dates]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto spec = leaf_spec({kHost});
  spec.not_before = fixed_now() - std::chrono::days(120);
  spec.not_after = fixed_now() - std::chrono::days(3);
  auto leaf = issue(h.intermediate, spec);
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, h.intermediate.cert})}),
          options(trust));
  REQUIRE(count(fs, codes::cert_expired) == 1);
  auto* f = find(fs, codes::cert_expired);
  CHECK(f->severity == Severity::error);
  CHECK(f->role == Role::direct);
  CHECK(ev(*f, "position") == "leaf");
  CHECK(ev(*f, "depth") == "0");
  CHECK(ev(*f, "not_after") == certs::format_rfc3339(spec.not_after));
  CHECK(ev(*f, "certificate") == leaf.cert.subject());
  CHECK(ev(*f, "sha256") == leaf.cert.sha256_hex());
  CHECK(ev(*f, "days_expired") == "3");
  CHECK(f->browser_shows);
  CHECK(f->equivalents.at("openssl").rfind("10 ", 0) == 0);
  CHECK(f->subject.find("www.example.test:443") == 0);
  CHECK(count(fs, codes::cert_expiring_soon) == 0);
}

TEST_CASE("cert.expired on an intermediate of the path says intermediate", "[diagnose][dates]") {
  auto root = make_root(ca_spec("Expiry Root"));
  auto ispec = ca_spec("Expired Intermediate");
  ispec.not_before = fixed_now() - std::chrono::days(800);
  ispec.not_after = fixed_now() - std::chrono::days(1);
  auto inter = issue(root, ispec);
  auto leaf = issue(inter, leaf_spec({kHost}));
  auto trust = trust_root(root);
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})}),
                options(trust));
  REQUIRE(count(fs, codes::cert_expired) == 1);
  auto* f = find(fs, codes::cert_expired);
  CHECK(ev(*f, "position") == "intermediate");
  CHECK(ev(*f, "depth") == "1");
  CHECK(ev(*f, "certificate") == inter.cert.subject());
  CHECK(ev(*f, "not_after") == certs::format_rfc3339(ispec.not_after));
  CHECK(f->equivalents.at("firefox") == "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE");
}

TEST_CASE("an expired extra certificate (old cross-sign) is chain.extra_certs, not cert.expired",
          "[diagnose][dates]") {
  auto h = make_hierarchy({kHost});
  auto old_root = make_root(ca_spec("Old Root"));
  // Same subject as the current root but issued by the old one, with another key: not an
  // issuer of anything on the path, as an outdated cross-sign the server still sends.
  auto xspec = ca_spec("tlsprobe Test Root CA");
  xspec.not_before = fixed_now() - std::chrono::days(2000);
  xspec.not_after = fixed_now() - std::chrono::days(100);
  auto cross = issue(old_root, xspec);
  auto trust = trust_root(h.root);
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost,
                                               {h.leaf.cert, h.intermediate.cert, cross.cert})}),
                options(trust));
  CHECK(count(fs, codes::cert_expired) == 0);
  REQUIRE(count(fs, codes::chain_extra_certs) == 1);
  auto* f = find(fs, codes::chain_extra_certs);
  CHECK(f->severity == Severity::info);
  CHECK(ev(*f, "sha256") == cross.cert.sha256_hex());
  CHECK(ev(*f, "index") == "2");
  CHECK(ev(*f, "expired") == "true");
  CHECK_FALSE(f->browser_shows);
  CHECK_FALSE(has_error(fs));
}

TEST_CASE("cert.not_yet_valid names notBefore", "[diagnose][dates]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto spec = leaf_spec({kHost});
  spec.not_before = fixed_now() + std::chrono::days(2);
  auto leaf = issue(h.intermediate, spec);
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, h.intermediate.cert})}),
          options(trust));
  REQUIRE(count(fs, codes::cert_not_yet_valid) == 1);
  auto* f = find(fs, codes::cert_not_yet_valid);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "not_before") == certs::format_rfc3339(spec.not_before));
  CHECK(ev(*f, "position") == "leaf");
  CHECK(ev(*f, "days_until_valid") == "2");
  CHECK(f->browser_shows);
  CHECK(f->equivalents.at("openssl").rfind("9 ", 0) == 0);
}

TEST_CASE("cert.expiring_soon within warn_days, not beyond", "[diagnose][dates]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto spec = leaf_spec({kHost});
  spec.not_after = fixed_now() + std::chrono::days(10);
  auto soon = issue(h.intermediate, spec);
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {soon.cert, h.intermediate.cert})}),
          options(trust));
  REQUIRE(count(fs, codes::cert_expiring_soon) == 1);
  auto* f = find(fs, codes::cert_expiring_soon);
  CHECK(f->severity == Severity::warning);
  CHECK(ev(*f, "days_left") == "10");
  CHECK(ev(*f, "position") == "leaf");
  CHECK_FALSE(f->browser_shows);

  spec.not_after = fixed_now() + std::chrono::days(30);
  auto later = issue(h.intermediate, spec);
  auto fs2 =
      run(observations(kHost, {handshake(Role::direct, kHost, {later.cert, h.intermediate.cert})}),
          options(trust));
  CHECK(count(fs2, codes::cert_expiring_soon) == 0);
  auto opt = options(trust);
  opt.warn_days = 45;
  auto fs3 =
      run(observations(kHost, {handshake(Role::direct, kHost, {later.cert, h.intermediate.cert})}),
          opt);
  CHECK(count(fs3, codes::cert_expiring_soon) == 1);
}

TEST_CASE("cert.self_signed for a self-signed leaf that is not an anchor", "[diagnose][trust]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto self = make_self_signed(leaf_spec({kHost}));
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost, {self.cert})}), options(trust));
  REQUIRE(count(fs, codes::cert_self_signed) == 1);
  auto* f = find(fs, codes::cert_self_signed);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "certificate") == self.cert.subject());
  CHECK(ev(*f, "sha256") == self.cert.sha256_hex());
  CHECK(f->browser_shows);
  CHECK(f->equivalents.at("openssl").rfind("18 ", 0) == 0);
  CHECK(f->equivalents.at("chrome") == "net::ERR_CERT_AUTHORITY_INVALID");
  CHECK(count(fs, codes::chain_untrusted_root) == 0);
  CHECK(count(fs, codes::chain_incomplete) == 0);

  SECTION("trusted on purpose: no finding") {
    auto anchored = certs::TrustStore::from_anchors({self.cert});
    auto fs2 =
        run(observations(kHost, {handshake(Role::direct, kHost, {self.cert})}), options(anchored));
    for (const auto& f : fs2) UNSCOPED_INFO(f.code);
    CHECK(fs2.empty());
  }
}

TEST_CASE("expired and self-signed: Chrome shows the self-signed error", "[diagnose][browser]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto spec = leaf_spec({kHost});
  spec.not_before = fixed_now() - std::chrono::days(400);
  spec.not_after = fixed_now() - std::chrono::days(35);
  auto self = make_self_signed(spec);
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost, {self.cert})}), options(trust));
  auto* ss = find(fs, codes::cert_self_signed);
  auto* ex = find(fs, codes::cert_expired);
  REQUIRE(ss);
  REQUIRE(ex);
  CHECK(ss->browser_shows);
  CHECK_FALSE(ex->browser_shows);
  CHECK(ev(*ex, "position") == "leaf");
}

TEST_CASE("chain.untrusted_root names the private root that was sent", "[diagnose][trust]") {
  auto pub = make_hierarchy({"other.test"});
  auto trust = trust_root(pub.root);
  auto priv = private_hierarchy({kHost});
  auto fs = run(
      observations(kHost, {handshake(Role::direct, kHost,
                                     {priv.leaf.cert, priv.intermediate.cert, priv.root.cert})}),
      options(trust));
  REQUIRE(count(fs, codes::chain_untrusted_root) == 1);
  auto* f = find(fs, codes::chain_untrusted_root);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "root") == priv.root.cert.subject());
  CHECK(ev(*f, "root_sent") == "true");
  CHECK(ev(*f, "sha256") == priv.root.cert.sha256_hex());
  CHECK(f->browser_shows);
  CHECK(f->equivalents.at("openssl").rfind("19 ", 0) == 0);
  CHECK(count(fs, codes::chain_incomplete) == 0);
  CHECK(count(fs, codes::cert_self_signed) == 0);
  CHECK(count(fs, codes::chain_contains_root) == 0);
}

TEST_CASE("issuer not sent and no AIA: chain.untrusted_root (internal CA), not incomplete",
          "[diagnose][trust]") {
  auto pub = make_hierarchy({"other.test"});
  auto trust = trust_root(pub.root);
  auto priv = private_hierarchy({kHost});  // no AIA anywhere
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, priv.fullchain())}), options(trust));
  REQUIRE(count(fs, codes::chain_untrusted_root) == 1);
  auto* f = find(fs, codes::chain_untrusted_root);
  CHECK(ev(*f, "root_sent") == "false");
  CHECK(ev(*f, "missing_issuer") == priv.root.cert.subject());
  CHECK(ev(*f, "aia_url") == "");
  CHECK(f->browser_shows);
  CHECK(count(fs, codes::chain_incomplete) == 0);
}

TEST_CASE("chain.incomplete names the missing issuer and its AIA URL", "[diagnose][trust]") {
  auto root = make_root(ca_spec("AIA Root"));
  auto inter = issue(root, ca_spec("AIA Intermediate"));
  auto spec = leaf_spec({kHost});
  spec.aia_issuer_url = "http://ca.example.test/intermediate.crt";
  auto leaf = issue(inter, spec);
  auto trust = trust_root(root);
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert})}), options(trust));
  REQUIRE(count(fs, codes::chain_incomplete) == 1);
  auto* f = find(fs, codes::chain_incomplete);
  CHECK(f->severity == Severity::error);
  CHECK(f->role == Role::direct);
  CHECK(ev(*f, "missing_issuer") == inter.cert.subject());
  CHECK(ev(*f, "aia_url") == "http://ca.example.test/intermediate.crt");
  CHECK(ev(*f, "certificate") == leaf.cert.subject());
  CHECK(ev(*f, "position") == "leaf");
  // Chrome fetches the intermediate via AIA: it shows nothing for this handshake.
  CHECK_FALSE(f->browser_shows);
  const auto& ossl = f->equivalents.at("openssl");
  CHECK((ossl.rfind("20 ", 0) == 0 || ossl.rfind("21 ", 0) == 0));
  CHECK(count(fs, codes::chain_untrusted_root) == 0);
  CHECK(count(fs, codes::cert_self_signed) == 0);

  SECTION("serving the intermediate fixes it") {
    auto fs2 = run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})}),
                   options(trust));
    CHECK(fs2.empty());
  }
}

TEST_CASE(
    "intermediate sent, its root neither sent nor trusted: chain.untrusted_root, even with AIA",
    "[diagnose][trust]") {
  // An internal hierarchy (root -> issuing CA -> leaf) served correctly as leaf + issuing CA
  // to a client that lacks the internal root: the fix is trusting the root, not serving more.
  auto root = make_root(ca_spec("Corp Root"));
  auto ispec = ca_spec("Corp Issuing CA");
  ispec.aia_issuer_url = "http://pki.corp.test/root.crt";
  auto inter = issue(root, ispec);
  auto spec = leaf_spec({kHost});
  spec.aia_issuer_url = "http://pki.corp.test/issuing.crt";
  auto leaf = issue(inter, spec);
  auto pub = make_hierarchy({"other.test"});
  auto trust = trust_root(pub.root);
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})}),
                options(trust));
  REQUIRE(count(fs, codes::chain_untrusted_root) == 1);
  auto* f = find(fs, codes::chain_untrusted_root);
  CHECK(ev(*f, "root_sent") == "false");
  CHECK(ev(*f, "missing_issuer") == root.cert.subject());
  CHECK(ev(*f, "certificate") == inter.cert.subject());
  CHECK(count(fs, codes::chain_incomplete) == 0);
}

TEST_CASE("chain.wrong_order when intermediates are sent out of issuer order",
          "[diagnose][layout]") {
  auto root = make_root(ca_spec("Order Root"));
  auto i1 = issue(root, ca_spec("Order Intermediate 1"));
  auto i2 = issue(i1, ca_spec("Order Intermediate 2"));
  auto leaf = issue(i2, leaf_spec({kHost}));
  auto trust = trust_root(root);
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, i1.cert, i2.cert})}),
          options(trust));
  REQUIRE(count(fs, codes::chain_wrong_order) == 1);
  auto* f = find(fs, codes::chain_wrong_order);
  CHECK(f->severity == Severity::warning);
  CHECK(ev(*f, "path_indices") == "0,2,1");
  CHECK(count(fs, codes::chain_extra_certs) == 0);
  CHECK_FALSE(has_error(fs));

  auto fs2 =
      run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, i2.cert, i1.cert})}),
          options(trust));
  CHECK(fs2.empty());
}

TEST_CASE("chain.contains_root when the trusted root itself is sent", "[diagnose][layout]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto fs = run(observations(kHost, {handshake(Role::direct, kHost,
                                               {h.leaf.cert, h.intermediate.cert, h.root.cert})}),
                options(trust));
  REQUIRE(count(fs, codes::chain_contains_root) == 1);
  auto* f = find(fs, codes::chain_contains_root);
  CHECK(f->severity == Severity::info);
  CHECK(ev(*f, "certificate") == h.root.cert.subject());
  CHECK(ev(*f, "index") == "2");
  CHECK(count(fs, codes::chain_extra_certs) == 0);
  CHECK(count(fs, codes::chain_untrusted_root) == 0);
  CHECK(fs.size() == 1);
}

TEST_CASE("key.weak for RSA 1024 and EC P-224, not for RSA 2048", "[diagnose][crypto]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto spec = leaf_spec({kHost});
  spec.key = KeyKind::rsa_1024;
  auto weak = issue(h.intermediate, spec);
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {weak.cert, h.intermediate.cert})}),
          options(trust));
  REQUIRE(count(fs, codes::key_weak) == 1);
  auto* f = find(fs, codes::key_weak);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "key_type") == "RSA");
  CHECK(ev(*f, "key_bits") == "1024");
  CHECK(ev(*f, "position") == "leaf");
  // Chromium loads a page with an RSA-1024 leaf (ERR_CERT_WEAK_KEY is below 1024 bits
  // only): an error for curl and OpenSSL, but not what the browser shows.
  CHECK_FALSE(f->browser_shows);
  CHECK(ev(*f, "browser_accepts") == "true");
  CHECK(f->equivalents.at("chrome").rfind("none", 0) == 0);

  spec.key = KeyKind::ec_p224;
  auto weak_ec = issue(h.intermediate, spec);
  auto fs2 = run(
      observations(kHost, {handshake(Role::direct, kHost, {weak_ec.cert, h.intermediate.cert})}),
      options(trust));
  REQUIRE(count(fs2, codes::key_weak) == 1);
  CHECK(ev(*find(fs2, codes::key_weak), "key_bits") == "224");
  CHECK(find(fs2, codes::key_weak)->browser_shows);  // an EC key below P-256: Chrome refuses

  spec.key = KeyKind::rsa_2048;
  auto ok = issue(h.intermediate, spec);
  auto fs3 =
      run(observations(kHost, {handshake(Role::direct, kHost, {ok.cert, h.intermediate.cert})}),
          options(trust));
  CHECK(count(fs3, codes::key_weak) == 0);
}

TEST_CASE("sig.weak for a SHA-1 signed leaf, not for a root's SHA-1 self-signature",
          "[diagnose][crypto]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto spec = leaf_spec({kHost});
  spec.hash = SigHash::sha1;
  auto weak = issue(h.intermediate, spec);
  auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {weak.cert, h.intermediate.cert})}),
          options(trust));
  REQUIRE(count(fs, codes::sig_weak) == 1);
  auto* f = find(fs, codes::sig_weak);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "weak_hash") == "SHA-1");
  CHECK(ev(*f, "certificate") == weak.cert.subject());
  CHECK(f->browser_shows);

  auto rspec = ca_spec("SHA1 Root");
  rspec.hash = SigHash::sha1;
  auto root = make_root(rspec);
  auto inter = issue(root, ca_spec("SHA256 Intermediate"));
  auto leaf = issue(inter, leaf_spec({kHost}));
  auto trust2 = trust_root(root);
  auto fs2 = run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})}),
                 options(trust2));
  CHECK(count(fs2, codes::sig_weak) == 0);
}

TEST_CASE("tls.protocol_old for TLS 1.1 and legacy handshakes, not for TLS 1.2",
          "[diagnose][protocol]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto hs = handshake(Role::direct, kHost, h.fullchain());
  hs.tls_version = "1.1";
  hs.legacy_handshake = true;
  auto fs = run(observations(kHost, {hs}), options(trust));
  REQUIRE(count(fs, codes::tls_protocol_old) == 1);
  auto* f = find(fs, codes::tls_protocol_old);
  CHECK(f->severity == Severity::error);
  CHECK(ev(*f, "tls_version") == "1.1");
  CHECK(f->browser_shows);

  hs.tls_version = "1.0";
  CHECK(count(run(observations(kHost, {hs}), options(trust)), codes::tls_protocol_old) == 1);
  hs.tls_version = "SSLv3";
  CHECK(count(run(observations(kHost, {hs}), options(trust)), codes::tls_protocol_old) == 1);

  hs.tls_version = "1.2";
  hs.legacy_handshake = false;
  CHECK(run(observations(kHost, {hs}), options(trust)).empty());
}

TEST_CASE("tls.handshake_failed says why, and no certificate findings follow",
          "[diagnose][failure]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  auto self = make_self_signed(leaf_spec({"wrong.test"}));
  auto hs = handshake(Role::direct, kHost, {self.cert});
  hs.outcome = HandshakeOutcome::handshake_failed;
  hs.failure = FailureKind::alert;
  hs.alert = "certificate_required";
  auto fs = run(observations(kHost, {hs}), options(trust));
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == codes::tls_handshake_failed);
  CHECK(fs[0].severity == Severity::error);
  CHECK(ev(fs[0], "failure") == "client_cert_required");
  CHECK(ev(fs[0], "alert") == "certificate_required");
  CHECK(fs[0].browser_shows);

  hs.failure = FailureKind::not_tls;
  hs.alert.clear();
  auto fs2 = run(observations(kHost, {hs}), options(trust));
  REQUIRE(fs2.size() == 1);
  CHECK(ev(fs2[0], "failure") == "not_tls");
  CHECK(fs2[0].equivalents.at("chrome") == "net::ERR_SSL_PROTOCOL_ERROR");
}

TEST_CASE("probe.unreachable says which failure and after how long", "[diagnose][failure]") {
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  HandshakeObservation hs;
  hs.role = Role::direct;
  hs.host = kHost;
  hs.sni = kHost;
  hs.outcome = HandshakeOutcome::unreachable;
  hs.failure = FailureKind::dns;
  hs.elapsed_ms = 12.4;
  auto fs = run(observations(kHost, {hs}), options(trust));
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == codes::probe_unreachable);
  CHECK(ev(fs[0], "which") == "dns");
  CHECK(ev(fs[0], "elapsed_ms") == "12");
  CHECK(fs[0].equivalents.at("chrome") == "net::ERR_NAME_NOT_RESOLVED");

  hs.failure = FailureKind::refused;
  hs.address = "192.0.2.1:443";
  CHECK(ev(run(observations(kHost, {hs}), options(trust)).at(0), "which") == "refused");
  hs.failure = FailureKind::connect_timeout;
  hs.elapsed_ms = 10000;
  auto fs3 = run(observations(kHost, {hs}), options(trust));
  CHECK(ev(fs3.at(0), "which") == "timeout");
  CHECK(ev(fs3.at(0), "elapsed_ms") == "10000");
}

TEST_CASE("probe.unreachable names the port that was dialled, not the target's",
          "[diagnose][failure]") {
  // `probe host:443 --connect 127.0.0.1:5555` refused: port 5555 refused, not 443.
  auto h = make_hierarchy({kHost});
  auto trust = trust_root(h.root);
  HandshakeObservation hs;
  hs.role = Role::direct;
  hs.host = kHost;
  hs.port = 443;
  hs.outcome = HandshakeOutcome::unreachable;
  hs.failure = FailureKind::refused;
  hs.address = "127.0.0.1:5555";
  const auto fs = run(observations(kHost, {hs}), options(trust));
  REQUIRE(fs.size() == 1);
  CHECK(ev(fs[0], "port") == "5555");
  CHECK(fs[0].message.find("port 5555") != std::string::npos);
  CHECK(fs[0].message.find("port 443") == std::string::npos);
  CHECK(fs[0].remedy.find("port 5555") != std::string::npos);

  hs.address = "[::1]:8443";
  CHECK(ev(run(observations(kHost, {hs}), options(trust)).at(0), "port") == "8443");
  hs.address = "127.0.0.1:443";  // dialled the target's own port: unchanged
  CHECK(ev(run(observations(kHost, {hs}), options(trust)).at(0), "port") == "443");
}

TEST_CASE("a completed handshake without a certificate is a failed handshake, never ok",
          "[diagnose]") {
  // An anonymous suite authenticates nobody (issue 11 item 7): one tls.handshake_failed per
  // handshake, and no certificate finding (there is no certificate).
  auto trust = certs::TrustStore::from_anchors({});
  auto fs = run(
      observations(kHost, {handshake(Role::direct, kHost, {}), handshake(Role::origin, kHost, {})}),
      options(trust));
  REQUIRE(fs.size() == 2);
  for (const auto& f : fs) {
    CHECK(f.code == codes::tls_handshake_failed);
    CHECK(ev(f, "failure") == "no_certificate");
  }
}
