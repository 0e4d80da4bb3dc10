// Helpers for the diagnose() tests: observations built by hand from the in-memory PKI,
// evaluated at testpki::fixed_now(). No sockets.
#pragma once

#include "certs/trust_store.hpp"
#include "inspect/codes.hpp"
#include "inspect/diagnose.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

namespace diagtest {

using namespace tlsprobe;
using namespace tlsprobe::inspect;
using namespace tlsprobe::testpki;
namespace codes = tlsprobe::inspect::codes;

inline constexpr const char* kHost = "www.example.test";

// A completed handshake (TLS 1.3, SNI = host) with `chain` as sent.
inline HandshakeObservation handshake(Role role, const std::string& host, certs::Chain chain,
                                      std::string address = "192.0.2.1:443") {
  HandshakeObservation h;
  h.role = role;
  h.host = host;
  h.port = 443;
  h.address = std::move(address);
  if (role != Role::nosni) h.sni = host;
  if (role == Role::othersni) h.sni = "tlsprobe-unknown.invalid";
  h.outcome = HandshakeOutcome::ok;
  h.tls_version = "1.3";
  h.cipher = "TLS_AES_128_GCM_SHA256";
  h.elapsed_ms = 3;
  h.chain = std::move(chain);
  return h;
}

inline Observations observations(const std::string& host, std::vector<HandshakeObservation> hs) {
  Observations o;
  o.target = host + ":443";
  o.host = host;
  o.port = 443;
  o.handshakes = std::move(hs);
  return o;
}

inline DiagnoseOptions options(const certs::TrustStore& trust) {
  DiagnoseOptions o;
  o.at = fixed_now();
  o.trust = &trust;
  return o;
}

inline certs::TrustStore trust_root(const Issued& root) {
  return certs::TrustStore::from_anchors({root.cert});
}

// diagnose() plus the invariants every result must keep, whatever the scenario: worst
// first, every finding explained (message, remedy, four equivalents, no unfilled
// placeholder) and at most one browser_shows per handshake (role + endpoint).
inline Findings run(const Observations& obs, const DiagnoseOptions& opt) {
  Findings fs = diagnose(obs, opt);
  for (std::size_t i = 1; i < fs.size(); ++i)
    CHECK(static_cast<int>(fs[i - 1].severity) >= static_cast<int>(fs[i].severity));
  std::vector<std::string> shown;
  for (const auto& f : fs) {
    INFO(f.code);
    CHECK(std::find(codes::all.begin(), codes::all.end(), f.code) != codes::all.end());
    CHECK(!f.subject.empty());
    CHECK(!f.message.empty());
    CHECK(!f.remedy.empty());
    CHECK(f.message.find('{') == std::string::npos);
    CHECK(f.remedy.find('{') == std::string::npos);
    for (auto key : {"openssl", "chrome", "firefox", "curl"}) {
      INFO(key);
      CHECK(f.equivalents.count(key) == 1);
    }
    if (f.browser_shows) {
      // A handshake: role, endpoint and the address dialled (edges share host:port).
      auto addr = f.evidence.find("address");
      std::string id = std::string(to_string(f.role)) + " " +
                       f.subject.substr(0, f.subject.find(' ')) + " " +
                       (addr == f.evidence.end() ? std::string() : addr->second);
      CHECK(std::find(shown.begin(), shown.end(), id) == shown.end());
      shown.push_back(id);
    }
  }
  return fs;
}

inline const Finding* find(const Findings& fs, std::string_view code,
                           std::optional<Role> role = std::nullopt) {
  for (const auto& f : fs)
    if (f.code == code && (!role || f.role == *role)) return &f;
  return nullptr;
}

inline std::size_t count(const Findings& fs, std::string_view code) {
  return static_cast<std::size_t>(
      std::count_if(fs.begin(), fs.end(), [&](const Finding& f) { return f.code == code; }));
}

inline std::string ev(const Finding& f, const std::string& key) {
  auto it = f.evidence.find(key);
  return it == f.evidence.end() ? std::string("<missing>") : it->second;
}

// Leaf spec for `names` with fresh dates (valid 30 days ago .. in 90 days).
inline CertSpec leaf_spec(std::vector<std::string> names) {
  CertSpec s;
  s.common_name = names.empty() ? "" : names.front();
  s.dns_names = std::move(names);
  s.not_before = fixed_now() - std::chrono::days(30);
  s.not_after = fixed_now() + std::chrono::days(90);
  return s;
}

inline CertSpec ca_spec(std::string cn) {
  CertSpec s;
  s.common_name = std::move(cn);
  s.is_ca = true;
  s.not_before = fixed_now() - std::chrono::days(365);
  s.not_after = fixed_now() + std::chrono::days(1825);
  return s;
}

// root -> intermediate -> leaf under names of its own (a private CA nobody trusts).
inline Hierarchy private_hierarchy(std::vector<std::string> names) {
  auto root = make_root(ca_spec("Corp Internal Root CA"));
  auto inter = issue(root, ca_spec("Corp Internal Issuing CA"));
  auto leaf = issue(inter, leaf_spec(std::move(names)));
  return Hierarchy{std::move(root), std::move(inter), std::move(leaf)};
}

}  // namespace diagtest
