// Path verification with OpenSSL, as a client would do it, at an explicit time.
#pragma once

#include "certs/certificate.hpp"
#include "certs/trust_store.hpp"

#include <string>
#include <vector>

namespace tlsprobe::certs {

struct VerifyOptions {
  TimePoint at{};          // evaluation time (required)
  std::string host;        // name or IP literal to check; empty = no name check
  bool check_time = true;  // false: X509_V_FLAG_NO_CHECK_TIME (diagnose trust apart from dates)
};

// One error OpenSSL reported while verifying, at one depth of the path it built.
struct VerifyError {
  int depth = -1;    // 0 = leaf, as OpenSSL counts
  int code = 0;      // X509_V_ERR_*
  std::string name;  // "X509_V_ERR_PERMITTED_VIOLATION"
  std::string text;  // X509_verify_cert_error_string()
};

struct VerifyResult {
  bool ok = false;
  int openssl_code = 0;      // X509_V_ERR_* (0 = X509_V_OK)
  int depth = -1;            // depth of the failing certificate, -1 when none
  std::string openssl_text;  // X509_verify_cert_error_string()
  std::string openssl_name;  // "X509_V_ERR_CERT_HAS_EXPIRED" etc.
  Chain verified_path;       // leaf .. anchor, as OpenSSL built it (empty on failure)
  // Every (depth, code) OpenSSL reported, in the order it found them: the verify callback
  // records each error and lets verification carry on, so an expired intermediate and a
  // name-constraint violation in the same chain are both here. errors[0] is the error
  // OpenSSL would have stopped at (openssl_code/depth above). Empty when ok.
  std::vector<VerifyError> errors;
  // The path OpenSSL built, leaf first (also on failure: as far as it got). Index = depth.
  Chain built_path;
};

// Verifies `presented` (index 0 = leaf, the rest untrusted intermediates) against `trust`.
// Names match SANs only, never the CN (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT); an IP literal
// host matches iPAddress SANs. Partial-chain trust is off: only anchors in `trust` count,
// and an anchor that is not self-signed (an intermediate given with --ca-file) does not end a
// path for OpenSSL (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT), as with curl; analyze_chain calls
// such a path anchored, as browsers do. Uses trust.shared_store(): cheap, thread-safe.
VerifyResult verify_chain(const Chain& presented, const TrustStore& trust,
                          const VerifyOptions& options);

// "X509_V_ERR_..." for a verify code.
std::string verify_code_name(int code);

}  // namespace tlsprobe::certs
