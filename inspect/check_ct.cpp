// ct.insufficient_scts and ct.sct_invalid for one completed handshake (transparency.hpp).
// Nothing without a log list: an SCT cannot be verified without its log's key, and the
// list is not built in (it changes as logs come and go).
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"
#include "inspect/transparency.hpp"

namespace tlsprobe::inspect::detail {

void check_ct(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out) {
  const auto tf = transparency_facts(*facts.obs, options);
  if (!tf.applies || !tf.log_list) return;
  const auto& leaf = facts.obs->chain.front();
  for (const auto& s : tf.ct.scts) {
    if (s.status == "valid" || s.status == "unverified") continue;
    auto f = make_finding(codes::ct_sct_invalid, Severity::warning, facts.obs->role,
                          subject_of(facts.endpoint, leaf));
    add_cert_evidence(f, leaf);
    f.evidence["address"] = facts.obs->address;
    f.evidence["position"] = "leaf";
    f.evidence["source"] = s.source;
    f.evidence["log_id"] = s.log_id_hex;
    f.evidence["log"] = s.log_description.empty() ? "the log " + s.log_id_hex : s.log_description;
    f.evidence["status"] = s.status;
    f.evidence["sct_time"] = s.timestamp ? certs::format_rfc3339(*s.timestamp) : "";
    f.evidence["detail"] = s.status == "unknown_log"        ? "the log is not in the log list"
                           : s.status == "future_timestamp" ? "its timestamp is in the future"
                           : s.status == "malformed"        ? "it cannot be parsed"
                                                            : "its signature does not verify";
    explain(f);
    out.push_back(std::move(f));
  }
  if (!tf.policy_applies || tf.ct.compliant) return;
  auto f = make_finding(codes::ct_insufficient_scts, Severity::error, facts.obs->role,
                        subject_of(facts.endpoint, leaf));
  add_cert_evidence(f, leaf);
  f.evidence["address"] = facts.obs->address;
  f.evidence["position"] = "leaf";
  const auto& ct = tf.ct;
  f.evidence["valid_scts"] = std::to_string(ct.valid_embedded + ct.valid_delivered);
  f.evidence["operators"] = std::to_string(std::max(ct.embedded_operators, ct.delivered_operators));
  f.evidence["lifetime_days"] = std::to_string(ct.lifetime_days);
  f.evidence["required"] =
      std::to_string(ct.required_embedded) + " embedded SCTs (or 2 delivered in TLS or OCSP)";
  f.evidence["sources"] = std::to_string(ct.valid_embedded) + " embedded, " +
                          std::to_string(ct.valid_delivered) + " delivered";
  f.evidence["root"] = tf.anchor;
  explain(f);
  out.push_back(std::move(f));
}

}  // namespace tlsprobe::inspect::detail
