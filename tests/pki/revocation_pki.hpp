// OCSP responses and CRLs made in memory for the revocation tests, signed with OpenSSL
// (OCSP_basic_sign, X509_CRL_sign) by the test PKI's CAs, or on purpose by the wrong key.
#pragma once

#include "pki/test_pki.hpp"

#include <openssl/ocsp.h>

#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::testpki {

enum class OcspStatus { good, revoked, unknown };

struct OcspSpec {
  OcspStatus status = OcspStatus::good;
  TimePoint this_update = fixed_now() - std::chrono::hours(1);
  std::optional<TimePoint> next_update = fixed_now() + std::chrono::days(3);
  TimePoint revocation_time = fixed_now() - std::chrono::days(2);
  int reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
  // Who signs: null = the issuer. Else this certificate and key (a delegated responder
  // issued by the issuer with OCSPSigning, or an impostor); `include_signer` puts it in the
  // response's certs so a verifier can find it.
  const Issued* signer = nullptr;
  bool include_signer = true;
  // Respond for this certificate instead of the leaf asked about (a wrong staple).
  const certs::Certificate* other_cert = nullptr;
  std::vector<std::string> scts;  // TLS-encoded SCTs for the SingleResponse's SCT list
  int response_status = OCSP_RESPONSE_STATUS_SUCCESSFUL;  // other: an error response
};

// DER OCSPResponse about `leaf` as issued by `issuer`.
std::string make_ocsp_response(const Issued& issuer, const certs::Certificate& leaf,
                               const OcspSpec& spec = {});

// A responder certificate issued by `ca` with extendedKeyUsage OCSPSigning.
Issued make_ocsp_responder(const Issued& ca, std::string common_name = "tlsprobe Test OCSP");

struct CrlEntry {
  certs::Certificate cert;
  TimePoint revoked_at = fixed_now() - std::chrono::days(2);
  int reason = 1;  // keyCompromise; -1: no reason code
};

struct CrlSpec {
  TimePoint this_update = fixed_now() - std::chrono::days(1);
  std::optional<TimePoint> next_update = fixed_now() + std::chrono::days(7);
  std::vector<CrlEntry> revoked;
  bool crl_number = true;
  bool crl_number_critical = false;
  EVP_PKEY* sign_with = nullptr;  // null: the issuer's key
};

// PEM "X509 CRL" issued (named and signed) by `issuer`.
std::string make_crl_pem(const Issued& issuer, const CrlSpec& spec = {});

}  // namespace tlsprobe::testpki
