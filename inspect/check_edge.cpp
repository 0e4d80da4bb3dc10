// edge.stale, edge.mismatch and origin.untrusted.
//
// Rules (DESIGN.md section 3; [[site]] edge_cert):
// - Equal leaves (sha256): nothing to say.
// - edge_cert = same: the origin's leaf is newer (later notBefore) -> edge.stale (the
//   origin was renewed, the CDN still serves the old copy); error when the edge's copy is
//   expired or within warn_days at `at`, else warning. Otherwise, when names, issuer or
//   key differ -> edge.mismatch. A leaf that differs only by being newer on the edge (the
//   origin has not caught up) or by serial/dates is not flagged: clients see the same
//   identity from the same CA with the same key.
// - edge_cert = own: the CDN serves its own certificate, so a different leaf and different
//   dates are expected (its own expiry is the edge handshake's cert.* finding); only an edge
//   leaf that does not cover the site's name is edge.mismatch.
#include "certs/name_match.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

#include <algorithm>
#include <chrono>

namespace tlsprobe::inspect::detail {

namespace {

std::vector<std::string> sorted_names(const certs::Certificate& c) {
  std::vector<std::string> names;
  for (const auto& n : c.names()) names.push_back(normalize_name(n));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

bool same_key(const certs::Certificate& a, const certs::Certificate& b) {
  // get0: borrowed from the X509, which the Certificate keeps alive.
  EVP_PKEY* ka = X509_get0_pubkey(a.x509());
  EVP_PKEY* kb = X509_get0_pubkey(b.x509());
  return ka && kb && EVP_PKEY_eq(ka, kb) == 1;
}

Finding compare_finding(std::string_view code, Severity sev, const HandshakeFacts& edge,
                        const HandshakeFacts& origin) {
  const auto& e = edge.obs->chain.front();
  const auto& o = origin.obs->chain.front();
  auto f = make_finding(code, sev, edge.obs->role, subject_of(edge.endpoint, e));
  add_cert_evidence(f, e);
  add_cert_evidence(f, e, "edge_");
  add_cert_evidence(f, o, "origin_");
  f.evidence["edge_address"] = edge.obs->address;
  f.evidence["origin_address"] = origin.obs->address;
  f.evidence["address"] = edge.obs->address;
  f.evidence["requested_name"] = edge.requested_name;
  return f;
}

}  // namespace

void check_edge(const HandshakeFacts& edge, const HandshakeFacts& origin,
                const DiagnoseOptions& options, Findings& out) {
  if (edge.obs->chain.empty() || origin.obs->chain.empty()) return;
  const auto& e = edge.obs->chain.front();
  const auto& o = origin.obs->chain.front();
  if (e == o) return;

  if (options.edge_cert == EdgeCert::own) {
    if (edge.requested_name.empty() || certs::matches_host(e, edge.requested_name)) return;
    auto f = compare_finding(codes::edge_mismatch, Severity::error, edge, origin);
    f.evidence["differs"] = "names";
    f.evidence["edge_cert"] = "own";
    explain(f, "own");
    out.push_back(std::move(f));
    return;
  }

  if (o.not_before() > e.not_before()) {
    const bool urgent = options.at > e.not_after() ||
                        e.not_after() - options.at <= std::chrono::days(options.warn_days);
    auto f = compare_finding(codes::edge_stale, urgent ? Severity::error : Severity::warning, edge,
                             origin);
    f.evidence["edge_days_left"] = std::to_string(days_between(options.at, e.not_after()));
    f.evidence["edge_expired"] = options.at > e.not_after() ? "true" : "false";
    f.evidence["warn_days"] = std::to_string(options.warn_days);
    f.evidence["edge_cert"] = "same";
    explain(f);
    out.push_back(std::move(f));
    return;
  }

  std::vector<std::string> differs;
  if (sorted_names(e) != sorted_names(o)) differs.push_back("names");
  if (e.issuer() != o.issuer()) differs.push_back("issuer");
  if (!same_key(e, o)) differs.push_back("key");
  if (differs.empty()) return;
  auto f = compare_finding(codes::edge_mismatch, Severity::error, edge, origin);
  f.evidence["differs"] = join(differs, ",");
  f.evidence["edge_cert"] = "same";
  explain(f);
  out.push_back(std::move(f));
}

void check_origin(const HandshakeFacts& origin, const Findings& origin_findings, Findings& out) {
  // The codes a CDN that verifies its origin strictly (OpenSSL-based, security level 2)
  // would refuse, in the order the reason is reported.
  static constexpr std::string_view reasons[] = {codes::cert_self_signed,
                                                 codes::chain_untrusted_root,
                                                 codes::chain_incomplete,
                                                 codes::sni_default_cert,
                                                 codes::name_mismatch,
                                                 codes::cert_expired,
                                                 codes::cert_not_yet_valid,
                                                 codes::key_weak,
                                                 codes::sig_weak};
  std::string reason;
  for (auto code : reasons) {
    auto it = std::find_if(origin_findings.begin(), origin_findings.end(),
                           [&](const Finding& f) { return f.code == code; });
    if (it != origin_findings.end()) {
      reason = std::string(code);
      break;
    }
  }
  if (reason.empty() && origin.verify.ok) return;
  if (reason.empty()) reason = "openssl";  // OpenSSL refused for a reason we do not classify

  const auto& leaf = origin.obs->chain.front();
  auto f = make_finding(codes::origin_untrusted, Severity::error, Role::origin,
                        subject_of(origin.endpoint, leaf));
  add_cert_evidence(f, leaf);
  f.evidence["reason"] = reason;
  f.evidence["requested_name"] = origin.requested_name;
  f.evidence["address"] = origin.obs->address;
  f.evidence["sni"] = origin.obs->sni.value_or("");
  f.evidence["openssl_code"] = std::to_string(origin.verify.openssl_code);
  f.evidence["openssl_error"] = origin.verify.openssl_name;
  f.evidence["openssl_text"] = origin.verify.openssl_text;
  f.evidence["openssl_depth"] = std::to_string(origin.verify.depth);
  if (!origin.verify.ok)
    f.equivalents["openssl"] =
        std::to_string(origin.verify.openssl_code) + " " + origin.verify.openssl_name;
  explain(f);
  out.push_back(std::move(f));
}

}  // namespace tlsprobe::inspect::detail
