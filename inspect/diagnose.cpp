// diagnose(): runs the checks per handshake, marks the one error Chrome would show for
// each handshake, adds the target-wide and client findings, and sorts worst first.
#include "inspect/diagnose.hpp"

#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

#include <optional>

namespace tlsprobe::inspect {

namespace detail {

namespace {

// Chrome reports one error per connection, the most serious by
// net/cert/cert_status_flags.cc MapCertStatusToNetError: INVALID before AUTHORITY_INVALID
// before COMMON_NAME_INVALID before WEAK_KEY before DATE_INVALID. Chromium 156's own
// verifier maps what it cannot classify further (SHA-1 or MD5 signatures, a CA without
// CA:TRUE, path length, name constraints, EKU, unknown critical extensions, bad encoding)
// to CERT_STATUS_INVALID, i.e. ERR_CERT_INVALID, which outranks every other certificate
// error. A connection that never completes (or only with TLS <= 1.1, which Chrome no longer
// speaks) shows a network error before any certificate error. nullopt: Chrome shows nothing.
std::optional<int> chrome_rank(const Finding& f) {
  if (f.severity != Severity::error) return std::nullopt;
  const std::string_view c = f.code;
  auto ev = [&](const char* key) {
    auto it = f.evidence.find(key);
    return it == f.evidence.end() ? std::string() : it->second;
  };
  if (c == codes::probe_unreachable || c == codes::tls_handshake_failed ||
      c == codes::tls_protocol_old)
    return 0;
  if (c == codes::chain_verify_failed) {
    // No path to an anchor is AUTHORITY_INVALID; anything else Chrome calls INVALID.
    const auto chrome = f.equivalents.find("chrome");
    if (chrome != f.equivalents.end() &&
        chrome->second.rfind("net::ERR_CERT_AUTHORITY_INVALID", 0) == 0)
      return 2;
    return 1;
  }
  // A blocked key is CERT_STATUS_REVOKED (CertVerifyProc, "IsBlockedByKey"), which
  // MapCertStatusToNetError reports before AUTHORITY_INVALID.
  if (c == codes::cert_known_bad_root) return 1;
  if (c == codes::sig_weak || c == codes::chain_not_a_ca || c == codes::chain_path_length ||
      c == codes::chain_name_constraints || c == codes::cert_bad_purpose ||
      c == codes::cert_critical_extension || c == codes::cert_malformed)
    return 1;
  if (c == codes::cert_self_signed || c == codes::chain_untrusted_root) return 2;
  if (c == codes::chain_incomplete) {
    // Chrome fetches the missing intermediate from the AIA URL and then shows nothing,
    // unless our own fetch showed that this does not help (aia_result, check_aia.cpp).
    const std::string result = ev("aia_result");
    if (!result.empty()) return result == "completes" ? std::nullopt : std::optional<int>(2);
    if (!ev("aia_url").empty()) return std::nullopt;
    return 2;
  }
  if (c == codes::name_mismatch || c == codes::sni_default_cert) return 3;
  if (c == codes::key_weak) {
    if (ev("browser_accepts") == "true") return std::nullopt;
    return 4;
  }
  if (c == codes::cert_expired || c == codes::cert_not_yet_valid) return 5;
  return std::nullopt;
}

// chrome_rank on a finer scale, for the codes Chrome ranks between two of the above
// (MapCertStatusToNetError): REVOKED after INVALID and before AUTHORITY_INVALID;
// CERTIFICATE_TRANSPARENCY_REQUIRED after COMMON_NAME_INVALID and before WEAK_KEY.
// Chrome enforces neither must-staple nor stapled responses and reads no CRL files.
std::optional<int> chrome_rank_x10(const Finding& f) {
  if (f.severity != Severity::error) return std::nullopt;
  if (f.code == codes::cert_revoked) return 15;
  if (f.code == codes::ct_insufficient_scts) return 35;
  if (f.code == codes::revocation_unknown || f.code == codes::ocsp_staple_invalid ||
      f.code == codes::ocsp_must_staple_missing)
    return std::nullopt;
  const auto r = chrome_rank(f);
  return r ? std::optional<int>(*r * 10) : std::nullopt;
}

}  // namespace

void mark_browser_shows(Findings& one_handshake) {
  Finding* best = nullptr;
  int best_rank = 0;
  for (auto& f : one_handshake) {
    f.browser_shows = false;
    auto r = chrome_rank_x10(f);
    if (r && (!best || *r < best_rank)) {
      best = &f;
      best_rank = *r;
    }
  }
  if (best) best->browser_shows = true;
}

}  // namespace detail

Findings diagnose(const Observations& obs, const DiagnoseOptions& options) {
  using namespace detail;
  // No store given: nothing is trusted (every chain is reported as untrusted), rather
  // than crashing on a contract violation.
  static const certs::TrustStore no_trust = certs::TrustStore::from_anchors({});
  const certs::TrustStore& trust = options.trust ? *options.trust : no_trust;

  // Facts of every completed main handshake, computed once (edges need the origin's).
  std::vector<std::optional<HandshakeFacts>> facts(obs.handshakes.size());
  const HandshakeFacts* origin = nullptr;
  for (std::size_t i = 0; i < obs.handshakes.size(); ++i) {
    const auto& h = obs.handshakes[i];
    if (!is_main_role(h.role) || !chain_judged(h)) continue;
    facts[i] = analyze_handshake(h, options, trust);
    if (h.role == Role::origin && !origin && !h.chain.empty()) origin = &*facts[i];
  }

  Findings all;
  for (std::size_t i = 0; i < obs.handshakes.size(); ++i) {
    const auto& h = obs.handshakes[i];
    // nosni/othersni handshakes only explain others (DESIGN.md section 8).
    if (!is_main_role(h.role)) continue;
    Findings group;
    if (h.outcome != HandshakeOutcome::ok) {
      check_failure(h, group);
      if (&h == &obs.handshakes.front()) refine_failure(h, obs.compat, group);
      // Refused for want of a client certificate after the server sent its chain: judge it.
      if (facts[i]) {
        note_chain_judged(h, group);
        check_chain(*facts[i], options, group);
        check_aia(*facts[i], trust, group);
        check_names(*facts[i], obs, group);
        check_known_bad_root(*facts[i], group);
        check_interception(*facts[i], group);
      }
      check_client_cert(h, group);
    } else if (h.chain.empty()) {
      check_no_certificate(h, group);  // an anonymous suite: nothing authenticated the server
    } else {
      const auto& f = *facts[i];
      check_chain(f, options, group);
      check_aia(f, trust, group);
      check_names(f, obs, group);
      check_verify_floor(f, group);
      if (!h.chain.empty()) check_profile(f, group);
      check_revocation(f, options, group);
      check_ct(f, options, group);
      check_known_bad_root(f, group);
      check_interception(f, group);
      check_client_cert(h, group);
      if (h.role == Role::origin && !h.chain.empty()) {
        const Findings own = group;  // origin.untrusted reports the worst of these
        check_origin(f, own, group);
      }
      if (h.role != Role::origin && origin) check_edge(f, *origin, options, group);
    }
    mark_browser_shows(group);
    all.insert(all.end(), group.begin(), group.end());
  }
  check_sni_required(obs, all);
  check_client(obs, all);
  check_compat(obs, all);
  sort_by_severity(all);
  return all;
}

}  // namespace tlsprobe::inspect
