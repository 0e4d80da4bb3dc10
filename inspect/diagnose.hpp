// diagnose(): observations + options in, findings out. Pure: no sockets, no clock, no logs.
#pragma once

#include "inspect/diagnose_options.hpp"
#include "inspect/finding.hpp"
#include "inspect/observation.hpp"

namespace tlsprobe::inspect {

// Findings for every handshake in `obs`, each with its role; worst first.
// - direct/edge/origin handshakes get cert.*, chain.*, name.*, key.*, sig.*, tls.*,
//   probe.* findings; origin failures also origin.untrusted; each edge is compared with
//   the origin (edge.stale / edge.mismatch).
// - nosni/othersni handshakes only decide sni.default_cert and sni.required.
// - obs.client decides client.no_sni and client.sni_host_mismatch.
Findings diagnose(const Observations& obs, const DiagnoseOptions& options);

}  // namespace tlsprobe::inspect
