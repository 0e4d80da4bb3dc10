// Path verification with OpenSSL, as a client would do it, at an explicit time.
#pragma once

#include "certs/certificate.hpp"
#include "certs/trust_store.hpp"

#include <string>

namespace tlsprobe::certs {

struct VerifyOptions {
  TimePoint at{};          // evaluation time (required)
  std::string host;        // name or IP literal to check; empty = no name check
  bool check_time = true;  // false: X509_V_FLAG_NO_CHECK_TIME (diagnose trust apart from dates)
};

struct VerifyResult {
  bool ok = false;
  int openssl_code = 0;      // X509_V_ERR_* (0 = X509_V_OK)
  int depth = -1;            // depth of the failing certificate, -1 when none
  std::string openssl_text;  // X509_verify_cert_error_string()
  std::string openssl_name;  // "X509_V_ERR_CERT_HAS_EXPIRED" etc.
  Chain verified_path;       // leaf .. anchor, as OpenSSL built it (empty on failure)
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
