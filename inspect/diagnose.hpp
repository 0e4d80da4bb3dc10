// diagnose(): observations + options in, findings out. Pure: no sockets, no clock, no logs.
#pragma once

#include "certs/crl.hpp"
#include "certs/ct.hpp"
#include "certs/trust_store.hpp"
#include "inspect/finding.hpp"
#include "inspect/observation.hpp"

#include <memory>

namespace tlsprobe::inspect {

// How an edge's certificate relates to the origin's ([[site]] edge_cert).
enum class EdgeCert { same, own };

struct DiagnoseOptions {
  certs::TimePoint at{};  // evaluation time (required; the caller's clock or --at)
  int warn_days = 21;
  const certs::TrustStore* trust = nullptr;  // required
  EdgeCert edge_cert = EdgeCert::same;
  // Revocation: CRLs given offline (--crl); every certificate of the path is judged against
  // the ones from its issuer (cert.revoked, revocation.unknown).
  std::vector<certs::Crl> crls;
  // Certificate Transparency: the log list SCTs are verified against (empty: every SCT is
  // from an unknown log), and whether anchors added with --ca-file count as system roots
  // for the CT policy (tests; browsers exempt private roots).
  std::shared_ptr<const certs::CtLogList> ct_logs;
  bool ct_private_roots_as_public = false;
};

// Findings for every handshake in `obs`, each with its role; worst first.
// - direct/edge/origin handshakes get cert.*, chain.*, name.*, key.*, sig.*, tls.*,
//   probe.* findings; origin failures also origin.untrusted; each edge is compared with
//   the origin (edge.stale / edge.mismatch).
// - nosni/othersni handshakes only decide sni.default_cert and sni.required.
// - obs.client decides client.no_sni and client.sni_host_mismatch.
Findings diagnose(const Observations& obs, const DiagnoseOptions& options);

}  // namespace tlsprobe::inspect
