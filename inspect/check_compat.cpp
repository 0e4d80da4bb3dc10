// Client compatibility findings (issue 15 item 1): which clients cannot negotiate with the
// server, and what current clients deprecate. Read from the main handshake, the cheap
// compatibility handshakes every probe makes (CompatFacts) and, with --clients/--deep, the
// enumeration (TlsScan) through the client matcher. Once per target, about its main
// (direct or edge) handshake.
#include "inspect/checks.hpp"
#include "inspect/client_match.hpp"
#include "inspect/codes.hpp"

#include <algorithm>

namespace tlsprobe::inspect::detail {

namespace {

bool finite_field(std::string_view group) {
  return group == "DH" || group.rfind("ffdhe", 0) == 0 || group.rfind("modp", 0) == 0;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

Finding compat_finding(std::string_view code, Severity severity, const HandshakeObservation& h) {
  auto f = make_finding(code, severity, h.role, endpoint_of(h.host, h.port));
  f.evidence["host"] = h.host;
  f.evidence["port"] = std::to_string(h.port);
  f.evidence["address"] = h.address;
  return f;
}

std::string profile_name(const std::string& id) {
  const auto* p = find_client_profile(id);
  return p ? std::string(p->name) : id;
}

// A completed handshake that tells what a TLS 1.2+ client gets (not the legacy fallback).
bool modern_ok(const HandshakeObservation& h) {
  return h.outcome == HandshakeOutcome::ok && !h.legacy_handshake && !h.cipher.empty();
}

void check_cipher_mismatch(const HandshakeObservation& h, const Observations& obs, Findings& out) {
  std::vector<std::string> failing, reasons;
  bool chrome_fails = false;
  std::string server_offers;
  if (obs.scan) {
    for (const auto& v : match_clients(*obs.scan)) {
      if (!v.browser || v.connects) continue;
      failing.push_back(v.name);
      reasons.push_back(v.name + ": " + v.reason);
      if (v.profile == "chrome") chrome_fails = true;
    }
    std::vector<std::string> suites;
    for (const auto& p : obs.scan->protocols)
      for (const auto& s : p.suites) add_unique(suites, s);
    server_offers = suites.empty() ? "no suite that was tried" : join(suites);
  } else if (obs.compat.browsers && !obs.compat.browsers->ok && obs.compat.browsers->refused) {
    if (obs.compat.profiles.empty()) {
      failing.push_back(profile_name("chrome"));
      reasons.push_back(profile_name("chrome") + ": " + obs.compat.browsers->failure);
      chrome_fails = true;
    }
    for (const auto& [id, attempt] : obs.compat.profiles) {
      if (attempt.ok || !attempt.refused) continue;
      failing.push_back(profile_name(id));
      reasons.push_back(profile_name(id) + ": " + attempt.failure);
      if (id == "chrome") chrome_fails = true;
    }
    server_offers =
        h.cipher + " (what it chose for OpenSSL's default offer, TLS " + h.tls_version + ")";
  }
  if (failing.empty()) return;
  auto f = compat_finding(codes::tls_cipher_mismatch, Severity::error, h);
  f.evidence["browsers"] = join(failing);
  f.evidence["browser_count"] = std::to_string(failing.size());
  f.evidence["why"] = "no cipher suite (or protocol version) in common with what they offer";
  f.evidence["reasons"] = join(reasons, "; ");
  f.evidence["server_offers"] = server_offers;
  f.evidence["source"] = obs.scan ? "enumeration" : "browser_handshakes";
  explain(f);
  f.browser_shows = chrome_fails;
  out.push_back(std::move(f));
}

void check_weak_kex(const HandshakeObservation& h, const Observations& obs, Findings& out) {
  struct Seen {
    std::string group;
    int bits = 0;
    std::string where;
  };
  std::vector<Seen> seen;
  if (modern_ok(h) && finite_field(h.kex_group))
    seen.push_back({h.kex_group, h.kex_bits, "in the main handshake"});
  if (obs.compat.dhe && obs.compat.dhe->ok && finite_field(obs.compat.dhe->kex_group))
    seen.push_back(
        {obs.compat.dhe->kex_group, obs.compat.dhe->kex_bits, "offering DHE suites only"});
  if (obs.scan && obs.scan->dh_bits > 0)
    seen.push_back({obs.scan->dh_group, obs.scan->dh_bits, "in the suite enumeration"});
  for (const auto& s : seen) {
    const bool small = s.bits > 0 && s.bits < 2048;
    const bool custom = s.group == "DH";
    if (!small && !custom) continue;
    auto f = compat_finding(codes::tls_weak_key_exchange, Severity::warning, h);
    f.evidence["dh_bits"] = std::to_string(s.bits);
    f.evidence["dh_group"] = custom ? "a custom group" : s.group;
    f.evidence["standard_group"] = custom ? "false" : "true";
    f.evidence["seen"] = s.where;
    explain(f, small ? "" : "custom");
    out.push_back(std::move(f));
    return;  // one finding per target: the first (most direct) observation
  }
}

void check_forward_secrecy(const HandshakeObservation& h, const Observations& obs, Findings& out) {
  std::string how, suites;
  auto non_fs = [](const std::string& cipher) {
    if (cipher.empty()) return false;
    const auto t = suite_traits(cipher);
    return !t.forward_secret && !t.anonymous;
  };
  if (modern_ok(h) && non_fs(h.cipher)) {
    how = "negotiates a suite";
    suites = h.cipher + " with OpenSSL's default offer";
  } else if (obs.compat.browsers && obs.compat.browsers->ok &&
             non_fs(obs.compat.browsers->cipher)) {
    how = "negotiates a suite";
    suites = obs.compat.browsers->cipher + " with Chrome's offer";
  } else {
    for (const auto& [id, attempt] : obs.compat.profiles)
      if (attempt.ok && non_fs(attempt.cipher)) {
        how = "negotiates a suite";
        suites = attempt.cipher + " with " + profile_name(id) + "'s offer";
        break;
      }
  }
  if (how.empty() && obs.scan) {
    std::vector<std::string> list;
    for (const auto& p : obs.scan->protocols)
      for (const auto& s : p.suites)
        if (non_fs(s)) add_unique(list, s);
    if (!list.empty()) {
      how = "accepts suites";
      suites = join(list);
    }
  }
  if (how.empty()) return;
  auto f = compat_finding(codes::tls_no_forward_secrecy, Severity::warning, h);
  f.evidence["how"] = how;
  f.evidence["suites"] = suites;
  explain(f);
  out.push_back(std::move(f));
}

void check_obsolete_cipher(const HandshakeObservation& h, const Observations& obs, Findings& out) {
  std::string how, suites;
  auto cbc = [](const std::string& cipher) {
    if (cipher.empty()) return false;
    const auto t = suite_traits(cipher);
    return !t.aead && !t.null_cipher;
  };
  if (obs.compat.browsers && obs.compat.browsers->ok && cbc(obs.compat.browsers->cipher)) {
    how = "negotiates";
    suites = obs.compat.browsers->cipher + " with Chrome's offer";
  } else if (obs.scan) {
    std::vector<std::string> list;
    bool any_aead = false;
    for (const auto& p : obs.scan->protocols)
      for (const auto& s : p.suites) {
        if (suite_traits(s).aead) any_aead = true;
        if (cbc(s)) add_unique(list, s);
      }
    if (!any_aead && !list.empty()) {
      how = "accepts";
      suites = join(list);
    }
  } else if (!obs.compat.browsers && modern_ok(h) && cbc(h.cipher)) {
    // No browser handshake was made: OpenSSL's offer puts AEAD first, so a CBC choice
    // means the server prefers CBC or has nothing else.
    how = "negotiates";
    suites = h.cipher + " with OpenSSL's default offer";
  }
  if (how.empty()) return;
  auto f = compat_finding(codes::tls_obsolete_cipher, Severity::warning, h);
  f.evidence["how"] = how;
  f.evidence["suites"] = suites;
  explain(f);
  out.push_back(std::move(f));
}

void check_old_protocol(const HandshakeObservation& h, const Observations& obs, Findings& out) {
  if (!modern_ok(h)) return;  // TLS 1.1 or older only: tls.protocol_old says it
  std::vector<std::string> old;
  if (obs.scan) {
    for (const char* v : {"1.0", "1.1"}) {
      const auto* p = obs.scan->protocol(v);
      if (p && p->accepted) old.emplace_back(v);
    }
  } else if (obs.compat.legacy && obs.compat.legacy->ok) {
    old.push_back(obs.compat.legacy->version);
  }
  if (old.empty()) return;
  auto f = compat_finding(codes::tls_old_protocol_enabled, Severity::warning, h);
  f.evidence["old_versions"] = join(old, " and ");
  f.evidence["best_version"] = h.tls_version;
  explain(f);
  out.push_back(std::move(f));
}

}  // namespace

void check_compat(const Observations& obs, Findings& out) {
  if (obs.handshakes.empty()) return;
  const auto& h = obs.handshakes.front();
  if (h.role != Role::direct && h.role != Role::edge) return;
  if (h.outcome != HandshakeOutcome::ok) return;  // tls.handshake_failed speaks for it
  Findings found;
  check_cipher_mismatch(h, obs, found);
  check_weak_kex(h, obs, found);
  check_forward_secrecy(h, obs, found);
  check_obsolete_cipher(h, obs, found);
  check_old_protocol(h, obs, found);
  // Chrome cannot connect at all: that is the one error it shows, before any certificate.
  const bool chrome_blocked = std::any_of(found.begin(), found.end(), [](const Finding& f) {
    return f.code == codes::tls_cipher_mismatch && f.browser_shows;
  });
  if (chrome_blocked)
    for (auto& f : out)
      if (f.role == h.role && f.subject.rfind(endpoint_of(h.host, h.port), 0) == 0)
        f.browser_shows = false;
  out.insert(out.end(), found.begin(), found.end());
}

FailureWords failure_in_words(std::string_view detail) {
  struct Row {
    std::string_view needle, reason, remedy;
  };
  static constexpr Row rows[] = {
      {"dh key too small",
       "the server chose a Diffie-Hellman (DHE) group smaller than clients accept (OpenSSL at "
       "security level 2 requires 2048 bits; Chrome and Firefox offer no DHE suite at all).",
       "Use ECDHE suites (nginx `ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-"
       "GCM-SHA256:...;`), or at least a 2048-bit standard DH group (`ssl_dhparam` with RFC "
       "7919 ffdhe2048; Apache `SSLOpenSSLConfCmd DHParameters`)."},
      {"bad dh value",
       "the server's Diffie-Hellman public value is invalid for its group (a broken or "
       "small-subgroup DH group).",
       "Replace the DH parameters with the RFC 7919 ffdhe2048 group (nginx `ssl_dhparam`), or "
       "use ECDHE suites only."},
      {"legacy sigalg disallowed or unsupported",
       "the server signed its handshake with SHA-1 (or MD5), which clients no longer accept.",
       "Use a server key and TLS library that sign with SHA-256 (TLS 1.2 with "
       "signature_algorithms, or TLS 1.3)."},
      {"no suitable signature algorithm",
       "the server offers no signature algorithm the client accepts for its certificate's key.",
       "Use an RSA (2048+ bits) or ECDSA P-256 certificate and a current TLS library."},
      {"ee key too small",
       "the server's certificate key is too small for the client's security level.",
       "Reissue the certificate with an RSA key of at least 2048 bits or an ECDSA P-256 key."},
  };
  for (const auto& r : rows)
    if (detail.find(r.needle) != std::string_view::npos)
      return {std::string(r.reason), std::string(r.remedy)};
  return {};
}

void refine_failure(const HandshakeObservation& h, const CompatFacts& compat, Findings& group) {
  if (h.outcome != HandshakeOutcome::handshake_failed) return;
  if (h.failure == FailureKind::client_cert_required || h.failure == FailureKind::not_tls) return;
  std::string reason, remedy, chrome, firefox;
  const auto words = failure_in_words(h.failure_detail);
  const auto* any = compat.anything ? &*compat.anything : nullptr;
  if (any && any->ok) {
    const auto t = suite_traits(any->cipher);
    const std::string chose = " (offered every suite this OpenSSL has, it chose " + any->cipher +
                              " at TLS " + any->version + ")";
    if (t.anonymous) {
      reason =
          "the server offers only anonymous cipher suites, which send no certificate and "
          "authenticate nobody; no current client offers them" +
          chose + ".";
      remedy =
          "Configure a certificate and authenticated suites: nginx `ssl_ciphers "
          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:...;` (remove "
          "aNULL/ADH/AECDH entries), Apache `SSLCipherSuite` likewise.";
    } else if (t.null_cipher) {
      reason =
          "the server offers only NULL cipher suites, which do not encrypt at all; no "
          "current client offers them" +
          chose + ".";
      remedy =
          "Remove eNULL/NULL suites and offer AES-GCM or ChaCha20 ones: nginx "
          "`ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:...;`.";
    } else if (t.finite_field_dh && any->kex_bits > 0 && any->kex_bits < 2048) {
      reason = "the server chose a " + std::to_string(any->kex_bits) +
               "-bit Diffie-Hellman group, smaller than clients accept (OpenSSL at security "
               "level 2 requires 2048 bits; Chrome and Firefox offer no DHE suite at all)" +
               chose + ".";
      remedy = std::string(failure_in_words("dh key too small").remedy);
    } else if (words.reason.empty()) {
      reason =
          "the server accepts only suites or versions that current clients no longer "
          "offer" +
          chose + ".";
      remedy =
          "Offer TLS 1.2/1.3 with ECDHE and AES-GCM or ChaCha20 (nginx `ssl_protocols "
          "TLSv1.2 TLSv1.3;` and `ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-"
          "AES128-GCM-SHA256:...;`; Apache `SSLProtocol -all +TLSv1.2 +TLSv1.3`, "
          "`SSLCipherSuite`).";
    }
    chrome = "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH";
    firefox = "SSL_ERROR_NO_CYPHER_OVERLAP";
  }
  if (reason.empty() && !words.reason.empty()) {
    reason = words.reason;
    remedy = words.remedy;
  }
  if (reason.empty()) return;
  for (auto& f : group) {
    if (f.code != codes::tls_handshake_failed) continue;
    f.evidence["reason"] = reason;
    f.evidence["reason_remedy"] = remedy;
    if (any && any->ok) {
      f.evidence["accepted_cipher"] = any->cipher;
      f.evidence["accepted_version"] = any->version;
      if (any->kex_bits > 0) f.evidence["accepted_kex_bits"] = std::to_string(any->kex_bits);
    }
    f.message.clear();
    f.remedy.clear();
    if (!chrome.empty()) f.equivalents["chrome"] = chrome;
    if (!firefox.empty()) f.equivalents["firefox"] = firefox;
    explain(f, "in_words");
  }
}

}  // namespace tlsprobe::inspect::detail
