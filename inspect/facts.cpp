// Shared helpers of the checks: the facts of one handshake, computed once, and the
// evidence every finding about a certificate carries.
#include "certs/ascii.hpp"
#include "certs/name_match.hpp"
#include "inspect/checks.hpp"

#include <chrono>

namespace tlsprobe::inspect::detail {

std::string_view to_string(Position p) {
  switch (p) {
    case Position::leaf:
      return "leaf";
    case Position::intermediate:
      return "intermediate";
    case Position::root:
      return "root";
  }
  return "leaf";
}

bool is_main_role(Role r) { return r == Role::direct || r == Role::edge || r == Role::origin; }

std::string endpoint_of(std::string_view host, std::uint16_t port) {
  std::string out;
  // An IPv6 literal needs brackets, or the port would read as part of the address.
  if (host.find(':') != std::string_view::npos && host.front() != '[') {
    out = "[";  // appended: GCC 12's -Wrestrict misfires on `"[" + std::string&&` (bug 105329)
    out += host;
    out += ']';
  } else {
    out = std::string(host);
  }
  return out + ":" + std::to_string(port);
}

std::string subject_of(std::string_view endpoint, const certs::Certificate& cert) {
  return std::string(endpoint) + " (" + cert.subject() + ")";
}

std::string normalize_name(std::string_view name) {
  std::string out = certs::ascii_lower(name);
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

long long days_between(certs::TimePoint from, certs::TimePoint to) {
  return std::chrono::duration_cast<std::chrono::days>(to - from).count();
}

Finding make_finding(std::string_view code, Severity severity, Role role, std::string subject) {
  Finding f;
  f.code = std::string(code);
  f.severity = severity;
  f.role = role;
  f.subject = std::move(subject);
  return f;
}

void add_cert_evidence(Finding& f, const certs::Certificate& cert, std::string_view prefix) {
  const std::string p(prefix);
  f.evidence[p + "certificate"] = cert.subject();
  f.evidence[p + "issuer"] = cert.issuer();
  f.evidence[p + "common_name"] = cert.common_name();
  f.evidence[p + "sha256"] = cert.sha256_hex();
  f.evidence[p + "serial"] = cert.serial_hex();
  f.evidence[p + "not_before"] = certs::format_rfc3339(cert.not_before());
  f.evidence[p + "not_after"] = certs::format_rfc3339(cert.not_after());
  f.evidence[p + "names"] = join(cert.names());
}

namespace {

// The name a client checks the leaf against: the target host; for the origin the SNI it
// is sent with (a CDN checks the origin against the name it asks for), else the host.
std::string requested_name_of(const HandshakeObservation& obs) {
  if (obs.role == Role::origin && obs.sni && !obs.sni->empty()) return *obs.sni;
  if (!obs.host.empty()) return obs.host;
  return obs.sni.value_or("");
}

}  // namespace

HandshakeFacts analyze_handshake(const HandshakeObservation& obs, const DiagnoseOptions& options,
                                 const certs::TrustStore& trust) {
  HandshakeFacts facts;
  facts.obs = &obs;
  facts.endpoint = endpoint_of(obs.host, obs.port);
  facts.requested_name = requested_name_of(obs);
  facts.path = certs::analyze_chain(obs.chain, trust);

  for (std::size_t idx : facts.path.path) {
    if (idx >= obs.chain.size()) continue;  // defensive: never index past what was sent
    PathCert pc{obs.chain[idx], Position::intermediate, 0, false, trust.is_anchor(obs.chain[idx])};
    facts.path_certs.push_back(pc);
  }
  // The anchor may come from the store (not sent) or be the last certificate sent; add it
  // once, so that expiry follows the whole path a client verifies.
  if (facts.path.anchor && (facts.path_certs.empty() || facts.path_certs.back().cert.sha256_hex() !=
                                                            facts.path.anchor->sha256_hex())) {
    facts.path_certs.push_back(
        PathCert{*facts.path.anchor, Position::root, 0, !facts.path.anchor_was_sent, true});
  }
  for (std::size_t i = 0; i < facts.path_certs.size(); ++i) {
    auto& pc = facts.path_certs[i];
    pc.depth = static_cast<int>(i);
    if (i == 0) {
      pc.position = Position::leaf;  // a self-signed leaf is still "the leaf" to its owner
    } else if (pc.cert.is_self_signed() || pc.is_anchor) {
      pc.position = Position::root;
    } else {
      pc.position = Position::intermediate;
    }
  }

  certs::VerifyOptions vo;
  vo.at = options.at;
  vo.host = facts.requested_name;
  // Nothing to verify without a certificate (the checks skip such a handshake).
  if (!obs.chain.empty()) facts.verify = certs::verify_chain(obs.chain, trust, vo);
  facts.verify_at = options.at;
  return facts;
}

}  // namespace tlsprobe::inspect::detail
