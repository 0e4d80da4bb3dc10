#include "inspect/upstream_acceptable.hpp"

#include <algorithm>

namespace tlsprobe::inspect {

bool upstream_acceptable(const certs::VerifyResult& verify, const Findings& findings, Role role) {
  if (!verify.ok) return false;
  return std::none_of(findings.begin(), findings.end(), [role](const Finding& f) {
    return f.severity == Severity::error && f.role == role;
  });
}

}  // namespace tlsprobe::inspect
