#include "inspect/transparency.hpp"

#include "certs/ocsp_response.hpp"
#include "inspect/revocation.hpp"

namespace tlsprobe::inspect {

TransparencyFacts transparency_facts(const HandshakeObservation& h,
                                     const DiagnoseOptions& options) {
  TransparencyFacts f;
  if (h.chain.empty() || !chain_judged(h)) return f;
  f.applies = true;
  f.log_list = options.ct_logs && !options.ct_logs->empty();
  static const certs::CtLogList no_logs;
  const certs::CtLogList& logs = f.log_list ? *options.ct_logs : no_logs;

  certs::Chain candidates = h.chain;
  candidates.insert(candidates.end(), h.completed_chain.begin(), h.completed_chain.end());
  const auto& leaf = h.chain.front();
  // Walk up to a trust anchor: the issuer for embedded SCTs, the root for the policy.
  std::optional<certs::Certificate> issuer;
  certs::Certificate cur = leaf;
  for (int depth = 0; depth < 8 && options.trust; ++depth) {
    if (options.trust->is_anchor(cur)) {
      f.anchor = cur.subject();
      f.policy_applies = options.ct_private_roots_as_public || options.trust->is_system_anchor(cur);
      break;
    }
    auto anchors = options.trust->find_issuers(cur);
    auto next = find_issuer(cur, anchors.empty() ? candidates : anchors);
    if (!next || *next == cur) break;
    if (depth == 0) issuer = next;
    cur = *next;
  }
  std::vector<std::string> staple_scts;
  if (!h.ocsp_staple.empty() && issuer) {
    certs::OcspCheckOptions oo;
    oo.at = options.at;
    staple_scts = certs::check_ocsp_response(h.ocsp_staple, leaf, *issuer, oo).scts;
  }
  f.ct = certs::check_scts(leaf, issuer ? &*issuer : nullptr, h.tls_scts, staple_scts, logs,
                           options.at);
  return f;
}

std::string transparency_summary(const TransparencyFacts& f) {
  if (!f.applies) return {};
  int embedded = 0, tls = 0, ocsp = 0, valid = 0;
  for (const auto& s : f.ct.scts) {
    if (s.source == "embedded") ++embedded;
    if (s.source == "tls_extension") ++tls;
    if (s.source == "ocsp_staple") ++ocsp;
    if (s.status == "valid") ++valid;
  }
  std::string out = std::to_string(f.ct.scts.size()) + " SCT" + (f.ct.scts.size() == 1 ? "" : "s") +
                    " (" + std::to_string(embedded) + " embedded, " + std::to_string(tls) +
                    " TLS extension, " + std::to_string(ocsp) + " OCSP staple)";
  if (!f.log_list) return out + "; not verified: no CT log list given (--ct-log-list)";
  out += ", " + std::to_string(valid) + " valid";
  if (!f.policy_applies)
    return out + "; Chrome's CT policy does not apply (" +
           (f.anchor.empty() ? std::string("no path to a trusted root")
                             : "private root " + f.anchor) +
           ")";
  return out + (f.ct.compliant ? "; meets Chrome's CT policy" : "; FAILS Chrome's CT policy");
}

}  // namespace tlsprobe::inspect
