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
  bool deep = false;    // probe --deep: list the accepted suites per protocol too
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

// --format summary: one line per target, "TARGET  CLASS  DAYS  WORST", where CLASS is the
// exit class (ok, error, unreachable), DAYS the main leaf's days left ("-" without a
// chain) and WORST the first finding ("severity code", or "no findings"). No newline.
std::string summary_line(const ProbeReport& report, const RenderOptions& options);

// Counts of finished targets by exit class, for the tally line and the progress line.
struct Tally {
  std::size_t total = 0;  // targets asked for
  std::size_t ok = 0, error = 0, unreachable = 0;
  std::size_t finished() const { return ok + error + unreachable; }
  void add(int exit_status);
};
// "tally: 3 of 5 targets, 1 ok, 1 error, 1 unreachable, 2 not finished (interrupted), 2.1 s"
std::string tally_line(const Tally& tally, bool interrupted, double seconds);
// "12/3000 done, 2 unreachable, 5 with errors, 38.4/s": the refreshing progress line.
std::string progress_line(const Tally& tally, double seconds);

}  // namespace tlsprobe::tools
