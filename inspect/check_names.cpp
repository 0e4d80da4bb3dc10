// name.mismatch, sni.default_cert and sni.required.
//
// Rule for sni.default_cert: when a main handshake's leaf does not cover the requested
// name AND is byte-identical (sha256) to the leaf the same server sends without SNI or for
// an unknown SNI, the server fell back to its default certificate: the virtual host for the
// name has no TLS configuration. That finding replaces name.mismatch for the handshake (one
// cause, one finding); the mismatch hint stays in its evidence. Otherwise name.mismatch.
#include "certs/name_match.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

namespace tlsprobe::inspect::detail {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The nosni/othersni handshake whose leaf is `leaf`, made to the same address (or with an
// address unknown on either side). nosni is preferred: it is the plainer proof.
const HandshakeObservation* default_cert_witness(const Observations& obs,
                                                 const HandshakeObservation& main,
                                                 const certs::Certificate& leaf) {
  const HandshakeObservation* found = nullptr;
  for (const auto& h : obs.handshakes) {
    if (h.role != Role::nosni && h.role != Role::othersni) continue;
    if (h.outcome != HandshakeOutcome::ok || h.chain.empty()) continue;
    if (!(h.chain.front() == leaf)) continue;
    if (!h.address.empty() && !main.address.empty() && h.address != main.address) continue;
    if (!found || (found->role == Role::othersni && h.role == Role::nosni)) found = &h;
  }
  return found;
}

}  // namespace

MismatchHint mismatch_hint(const certs::Certificate& leaf, std::string_view requested_name) {
  const std::string host = normalize_name(requested_name);
  if (certs::is_ip_literal(host)) return {"ip_address", ""};
  for (const auto& raw : leaf.dns_names()) {
    const std::string pattern = normalize_name(raw);
    // www.example.com asked, example.com covered, or the other way round.
    if ((host.rfind("www.", 0) == 0 && pattern == host.substr(4)) || pattern == "www." + host)
      return {"www_vs_apex", raw};
  }
  for (const auto& raw : leaf.dns_names()) {
    const std::string pattern = normalize_name(raw);
    if (pattern.rfind("*.", 0) != 0) continue;
    const std::string base = pattern.substr(2);
    // "*.example.com" covers exactly one label: not example.com, not a.b.example.com.
    if (host == base || ends_with(host, "." + base)) return {"wildcard_depth", raw};
  }
  return {"other_names", ""};
}

void check_names(const HandshakeFacts& facts, const Observations& obs, Findings& out) {
  const auto& h = *facts.obs;
  if (h.chain.empty() || facts.requested_name.empty()) return;
  const auto& leaf = h.chain.front();
  if (certs::matches_host(leaf, facts.requested_name)) return;

  const MismatchHint hint = mismatch_hint(leaf, facts.requested_name);
  const HandshakeObservation* witness = default_cert_witness(obs, h, leaf);

  auto f = make_finding(witness ? codes::sni_default_cert : codes::name_mismatch, Severity::error,
                        h.role, subject_of(facts.endpoint, leaf));
  add_cert_evidence(f, leaf);
  f.evidence["requested_name"] = facts.requested_name;
  f.evidence["hint"] = hint.hint;
  f.evidence["closest_name"] = hint.closest_name;
  f.evidence["address"] = h.address;
  f.evidence["sni"] = h.sni.value_or("");
  f.evidence["position"] = "leaf";
  // A string, not a char pointer: GCC 12's -Wrestrict misfires on assigning "0" here (-O3).
  f.evidence["depth"] = std::string("0");
  // Browsers ignore the CN; say so when the CN is the only place the name appears.
  f.evidence["common_name_matches"] =
      normalize_name(leaf.common_name()) == normalize_name(facts.requested_name) ? "true" : "false";
  const bool ip = hint.hint == "ip_address";
  f.equivalents["openssl"] =
      ip ? "64 X509_V_ERR_IP_ADDRESS_MISMATCH" : "62 X509_V_ERR_HOSTNAME_MISMATCH";
  if (witness) {
    // The same hint name.mismatch would give (www vs apex, wildcard depth, IP address, the
    // names covered): the default certificate may be the right one missing a name.
    Finding as_mismatch = f;
    as_mismatch.code = std::string(codes::name_mismatch);
    explain(as_mismatch, hint.hint);
    f.evidence["hint_text"] = as_mismatch.message;
    f.evidence["default_via"] = std::string(to_string(witness->role));
    f.evidence["default_via_sni"] = witness->sni.value_or("");
    explain(f, to_string(witness->role));
  } else {
    explain(f, hint.hint);
  }
  out.push_back(std::move(f));
}

void check_sni_required(const Observations& obs, Findings& out) {
  // The server answered with SNI on some main handshake...
  const HandshakeObservation* with_sni = nullptr;
  for (const auto& h : obs.handshakes)
    if (is_main_role(h.role) && h.outcome == HandshakeOutcome::ok && h.sni) {
      with_sni = &h;
      break;
    }
  if (!with_sni) return;
  // ...and refused the handshake without SNI (once per target: DESIGN.md section 8).
  for (const auto& h : obs.handshakes) {
    if (h.role != Role::nosni || h.outcome != HandshakeOutcome::handshake_failed) continue;
    auto f = make_finding(codes::sni_required, Severity::info, Role::nosni,
                          endpoint_of(h.host.empty() ? obs.host : h.host, h.port));
    f.evidence["address"] = h.address;
    f.evidence["alert"] = h.alert;
    f.evidence["failure"] = std::string(to_string(h.failure));
    f.evidence["detail"] = h.failure_detail;
    f.evidence["sni_handshake_address"] = with_sni->address;
    f.evidence["sni"] = *with_sni->sni;
    explain(f);
    out.push_back(std::move(f));
    return;
  }
}

}  // namespace tlsprobe::inspect::detail
