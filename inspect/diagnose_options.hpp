// What diagnose() is told besides the observations: the evaluation time, the trust store and
// the revocation and CT inputs. Its own header so the checks (checks.hpp) can use it without
// including diagnose.hpp, whose diagnose() calls them.
#pragma once

#include "certs/crl.hpp"
#include "certs/ct.hpp"
#include "certs/trust_store.hpp"

#include <memory>
#include <vector>

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

}  // namespace tlsprobe::inspect
