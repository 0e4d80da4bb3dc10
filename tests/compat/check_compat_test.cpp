// The five compatibility codes and the worded tls.handshake_failed from hand-made
// observations (inspect/check_compat.cpp): each made to appear, and absent on a healthy
// server. Pure: no sockets.
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"
#include "inspect/diagnose_helpers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe::inspect;
using diagtest::find;

namespace {

HandshakeObservation main_ok(std::string version, std::string cipher, std::string group = "X25519",
                             int bits = 253) {
  HandshakeObservation h;
  h.role = Role::direct;
  h.host = "compat.test";
  h.port = 443;
  h.address = "127.0.0.1:443";
  h.outcome = HandshakeOutcome::ok;
  h.tls_version = std::move(version);
  h.cipher = std::move(cipher);
  h.kex_group = std::move(group);
  h.kex_bits = bits;
  return h;
}

TlsAttempt ok_attempt(std::string version, std::string cipher, std::string group = "X25519",
                      int bits = 253) {
  TlsAttempt a;
  a.ok = true;
  a.version = std::move(version);
  a.cipher = std::move(cipher);
  a.kex_group = std::move(group);
  a.kex_bits = bits;
  return a;
}

TlsAttempt refused_attempt() {
  TlsAttempt a;
  a.failure = "the server sent the TLS alert handshake_failure";
  a.refused = true;
  return a;
}

// A healthy modern server as the cheap handshakes see it.
Observations healthy() {
  Observations obs;
  obs.host = "compat.test";
  obs.handshakes.push_back(main_ok("1.3", "TLS_AES_256_GCM_SHA384"));
  obs.compat.browsers = ok_attempt("1.3", "TLS_AES_128_GCM_SHA256");
  obs.compat.dhe = refused_attempt();
  obs.compat.legacy = refused_attempt();
  return obs;
}

Findings run(const Observations& obs) {
  Findings out;
  detail::check_compat(obs, out);
  return out;
}

}  // namespace

TEST_CASE("healthy modern server: none of the compatibility codes", "[compat][codes]") {
  CHECK(run(healthy()).empty());
}

TEST_CASE("tls.cipher_mismatch names the browsers whose handshakes were refused",
          "[compat][codes]") {
  auto obs = healthy();
  obs.handshakes[0] = main_ok("1.2", "DHE-RSA-AES128-GCM-SHA256", "ffdhe2048", 2048);
  obs.compat.browsers = refused_attempt();
  obs.compat.dhe.reset();
  obs.compat.profiles = {
      {"chrome", refused_attempt()}, {"firefox", refused_attempt()}, {"safari", refused_attempt()}};
  const auto fs = run(obs);
  const auto* f = find(fs, codes::tls_cipher_mismatch);
  REQUIRE(f);
  CHECK(f->severity == Severity::error);
  CHECK(f->browser_shows);
  CHECK(f->evidence.at("browsers").find("Chrome") != std::string::npos);
  CHECK(f->evidence.at("browsers").find("Firefox") != std::string::npos);
  CHECK(f->evidence.at("browsers").find("Safari") != std::string::npos);
  CHECK(f->equivalents.at("chrome") == "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH");
  CHECK(f->equivalents.at("firefox") == "SSL_ERROR_NO_CYPHER_OVERLAP");
  CHECK(f->remedy.find("ssl_ciphers") != std::string::npos);
  // ffdhe2048 is a standard 2048-bit group: no weak key exchange.
  CHECK_FALSE(find(fs, codes::tls_weak_key_exchange));
}

TEST_CASE("tls.cipher_mismatch: only the refused browsers are named", "[compat][codes]") {
  auto obs = healthy();
  obs.handshakes[0] = main_ok("1.2", "AES128-GCM-SHA256", "", 0);
  obs.compat.browsers = refused_attempt();
  obs.compat.profiles = {{"chrome", refused_attempt()},
                         {"firefox", ok_attempt("1.2", "AES128-GCM-SHA256", "", 0)},
                         {"safari", ok_attempt("1.2", "AES256-GCM-SHA384", "", 0)}};
  const auto fs = run(obs);
  const auto* f = find(fs, codes::tls_cipher_mismatch);
  REQUIRE(f);
  CHECK(f->evidence.at("browser_count") == "1");
  CHECK(f->evidence.at("browsers").find("Firefox") == std::string::npos);
  // RSA key exchange negotiated by OpenSSL's offer: no forward secrecy.
  const auto* fs_finding = find(fs, codes::tls_no_forward_secrecy);
  REQUIRE(fs_finding);
  CHECK(fs_finding->severity == Severity::warning);
  CHECK(fs_finding->evidence.at("suites").find("AES128-GCM-SHA256") != std::string::npos);
}

TEST_CASE("a refused browser handshake that timed out is not a mismatch", "[compat][codes]") {
  auto obs = healthy();
  TlsAttempt timeout;
  timeout.failure = "the TLS handshake did not finish in time";
  obs.compat.browsers = timeout;
  CHECK_FALSE(find(run(obs), codes::tls_cipher_mismatch));
}

TEST_CASE("tls.weak_key_exchange: a small group, and a custom group", "[compat][codes]") {
  auto obs = healthy();
  obs.compat.dhe = ok_attempt("1.2", "DHE-RSA-AES128-GCM-SHA256", "DH", 1024);
  auto fs = run(obs);
  const auto* f = find(fs, codes::tls_weak_key_exchange);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(f->evidence.at("dh_bits") == "1024");
  CHECK(f->message.find("1024-bit") != std::string::npos);

  obs.compat.dhe = ok_attempt("1.2", "DHE-RSA-AES128-GCM-SHA256", "DH", 2048);
  fs = run(obs);
  f = find(fs, codes::tls_weak_key_exchange);
  REQUIRE(f);
  CHECK(f->evidence.at("standard_group") == "false");

  obs.compat.dhe = ok_attempt("1.2", "DHE-RSA-AES128-GCM-SHA256", "ffdhe2048", 2048);
  CHECK_FALSE(find(run(obs), codes::tls_weak_key_exchange));
}

TEST_CASE("tls.obsolete_cipher: Chrome's offer ends on a CBC suite", "[compat][codes]") {
  auto obs = healthy();
  obs.handshakes[0] = main_ok("1.2", "ECDHE-RSA-AES256-SHA");
  obs.compat.browsers = ok_attempt("1.2", "ECDHE-RSA-AES128-SHA");
  const auto fs = run(obs);
  const auto* f = find(fs, codes::tls_obsolete_cipher);
  REQUIRE(f);
  CHECK(f->severity == Severity::warning);
  CHECK(f->evidence.at("suites").find("ECDHE-RSA-AES128-SHA") != std::string::npos);
  CHECK_FALSE(find(fs, codes::tls_no_forward_secrecy));  // ECDHE is forward secret
}

TEST_CASE("tls.old_protocol_enabled: TLS 1.0/1.1 beside 1.2+, not when it is all there is",
          "[compat][codes]") {
  auto obs = healthy();
  obs.compat.legacy = ok_attempt("1.1", "ECDHE-RSA-AES128-SHA");
  auto fs = run(obs);
  const auto* f = find(fs, codes::tls_old_protocol_enabled);
  REQUIRE(f);
  CHECK(f->evidence.at("old_versions") == "1.1");
  CHECK(f->evidence.at("best_version") == "1.3");
  // Only TLS 1.1 (the main handshake needed the legacy fallback): tls.protocol_old's case.
  obs.handshakes[0].legacy_handshake = true;
  obs.handshakes[0].tls_version = "1.1";
  CHECK_FALSE(find(run(obs), codes::tls_old_protocol_enabled));
}

TEST_CASE("with an enumeration the codes come from what the server accepts", "[compat][codes]") {
  auto obs = healthy();
  TlsScan scan;
  ProtocolScan p12;
  p12.version = "1.2";
  p12.accepted = true;
  p12.suites = {"ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"};
  ProtocolScan p10;
  p10.version = "1.0";
  p10.accepted = true;
  p10.suites = {"AES128-SHA"};
  scan.protocols = {p12, p10};
  scan.dh_group = "DH";
  scan.dh_bits = 1024;
  obs.scan = scan;
  const auto fs = run(obs);
  CHECK(find(fs, codes::tls_no_forward_secrecy));     // AES128-SHA accepted
  CHECK(find(fs, codes::tls_old_protocol_enabled));   // TLS 1.0 accepted
  CHECK(find(fs, codes::tls_weak_key_exchange));      // 1024-bit DH
  CHECK_FALSE(find(fs, codes::tls_obsolete_cipher));  // an AEAD suite exists
  CHECK_FALSE(find(fs, codes::tls_cipher_mismatch));  // Chrome has ECDHE-RSA-AES128-GCM
}

TEST_CASE("tls.handshake_failed in words: dh key too small, anonymous-only, NULL-only",
          "[compat][codes]") {
  HandshakeObservation h;
  h.role = Role::direct;
  h.host = "compat.test";
  h.outcome = HandshakeOutcome::handshake_failed;
  h.failure = FailureKind::other;
  h.failure_detail = "error:0A00018A:SSL routines::dh key too small";
  Findings group;
  detail::check_failure(h, group);
  REQUIRE(group.size() == 1);
  CompatFacts compat;
  detail::refine_failure(h, compat, group);
  CHECK(group[0].message.find("Diffie-Hellman") != std::string::npos);
  CHECK(group[0].message.find("0A00018A") == std::string::npos);  // no raw OpenSSL text
  CHECK(group[0].evidence.at("detail").find("dh key too small") != std::string::npos);

  // The server answers only an offer with anonymous suites.
  h.failure = FailureKind::alert;
  h.alert = "handshake_failure";
  h.failure_detail = "the server sent the TLS alert handshake_failure";
  group.clear();
  detail::check_failure(h, group);
  compat.anything = ok_attempt("1.2", "ADH-AES128-GCM-SHA256", "ffdhe2048", 2048);
  detail::refine_failure(h, compat, group);
  CHECK(group[0].message.find("anonymous") != std::string::npos);
  CHECK(group[0].evidence.at("accepted_cipher") == "ADH-AES128-GCM-SHA256");
  CHECK(group[0].equivalents.at("chrome") == "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH");

  group.clear();
  detail::check_failure(h, group);
  compat.anything = ok_attempt("1.2", "NULL-SHA256", "", 0);
  detail::refine_failure(h, compat, group);
  CHECK(group[0].message.find("NULL") != std::string::npos);

  // Unknown reason, nothing accepted: the message stays as it was.
  group.clear();
  detail::check_failure(h, group);
  const auto before = group[0].message;
  compat.anything = refused_attempt();
  compat.anything->refused = true;
  detail::refine_failure(h, compat, group);
  CHECK(group[0].message == before);
}
