// A test Certificate Transparency log: a key pair, SCTs it signs over certificates made in
// tests, and log-list files naming it (Chrome's JSON and OpenSSL's ct_log_list.cnf).
//
// Embedded SCTs follow RFC 6962's precertificate flow as far as a verifier can tell: the log
// signs the precertificate entry (the SHA-256 of the issuer's key and the leaf's TBS without
// the SCT list), then the leaf is re-signed by the issuer with the SCT list added. No
// poisoned precertificate is issued and submitted first: a verifier (OpenSSL's SCT_validate)
// reconstructs exactly this TBS from the final certificate, so the result is the same.
#pragma once

#include "certs/ct.hpp"
#include "pki/test_pki.hpp"

#include <string>
#include <vector>

namespace tlsprobe::testpki {

struct TestCtLog {
  std::string description, operator_name;
  std::shared_ptr<EVP_PKEY> key;  // ECDSA P-256, as real logs use
  std::string key_der;            // SubjectPublicKeyInfo
  std::string log_id;             // SHA-256 of key_der
  certs::CtLog entry() const;
};

TestCtLog make_ct_log(std::string description, std::string operator_name);

// An SCT (TLS encoding) from `log` over `cert` as an X.509 entry: what a server sends in the
// TLS extension or a stapled OCSP response carries. `corrupt`: a signature that fails.
std::string make_sct(const TestCtLog& log, const certs::Certificate& cert, TimePoint when,
                     bool corrupt = false);

// `leaf` re-issued by `issuer` with one embedded SCT per log (see above); `corrupt_first`
// spoils the first SCT's signature.
Issued embed_scts(const Issued& leaf, const Issued& issuer,
                  const std::vector<const TestCtLog*>& logs, TimePoint when,
                  bool corrupt_first = false);

// Log-list files naming `logs`.
std::string chrome_log_list_json(const std::vector<const TestCtLog*>& logs);
std::string openssl_ct_log_list_cnf(const std::vector<const TestCtLog*>& logs);

}  // namespace tlsprobe::testpki
