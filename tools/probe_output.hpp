// Rendering `tlsprobe probe` results: the JSON document DESIGN sections 4 and 8 pin, and
// the text report (chain tree with days left, findings with remedies).
#pragma once

#include "certs/trust_store.hpp"
#include "inspect/diagnose.hpp"
#include "inspect/finding.hpp"
#include "inspect/observation.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace tlsprobe::tools {

// One probed target with its diagnosis.
struct ProbeReport {
  inspect::Observations observations;
  inspect::Findings findings;
};

struct RenderOptions {
  certs::TimePoint at{};  // evaluation time: days left, verify
  const certs::TrustStore* trust = nullptr;
  bool colour = false;  // ANSI colours (only when stdout is a terminal)
  // Set: each main handshake gets its "revocation" and "transparency" facts (text lines and
  // JSON objects), judged with these options (CRLs, CT log list).
  const inspect::DiagnoseOptions* diagnose = nullptr;
};

// {"target", "observations":[{"role","address","sni","tls_version","chain":[…],"verify":{…},…}],
//  "findings":[…]}
boost::json::object report_json(const ProbeReport& report, const RenderOptions& options);
boost::json::object finding_json(const inspect::Finding& finding);
std::string report_text(const ProbeReport& report, const RenderOptions& options);

// True when the target's main handshake (the first one) completed.
bool main_handshake_ok(const inspect::Observations& obs);
// Exit status for one target: 0 no error finding, 1 error findings, 2 not probed.
int exit_status(const ProbeReport& report);

}  // namespace tlsprobe::tools
