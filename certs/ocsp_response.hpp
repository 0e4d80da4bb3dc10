// An OCSP response (stapled in the handshake, or fetched from the responder) read and judged
// with OpenSSL's OCSP API: which status it gives the certificate, whether the issuer or a
// responder the issuer authorised signed it (OCSP_basic_verify), and whether it is fresh
// at the evaluation time.
#pragma once

#include "certs/certificate.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::certs {

struct OcspCheckOptions {
  TimePoint at{};                    // evaluation time (required)
  std::chrono::seconds leeway{300};  // clock skew allowed on thisUpdate/nextUpdate, as
                                     // OpenSSL's OCSP_check_validity callers use
};

// Why a response cannot be relied on (empty `problem` in OcspVerdict: it can).
//   malformed               not an OCSPResponse
//   not_successful          responseStatus other than successful (tryLater, unauthorized…)
//   wrong_certificate       no SingleResponse for this certificate and issuer
//   bad_signature           the signature does not verify with the signer's key
//   unauthorized_responder  signed by neither the issuer nor a responder certificate the
//                           issuer issued with id-kp-OCSPSigning
//   not_yet_valid / expired thisUpdate in the future / nextUpdate in the past
struct OcspVerdict {
  std::string response_status;  // "successful", "trylater", … (OpenSSL's words)
  std::string cert_status;      // "good", "revoked", "unknown"; empty when not found
  std::optional<TimePoint> produced_at, this_update, next_update, revocation_time;
  std::string revocation_reason;  // "keyCompromise", …; empty when none given
  std::string responder;          // responderID: the DN, or "key:<SHA-1 hex>"
  std::string signer;             // subject DN of the certificate whose key signed it
  bool delegated = false;         // signed by a responder certificate, not the issuer
  std::string problem;            // see above; empty: trustworthy
  std::string problem_detail;     // one line for people
  // Signed certificate timestamps carried in the SingleResponse (RFC 6962 section 3.3),
  // each in its TLS encoding.
  std::vector<std::string> scts;
  bool valid() const { return problem.empty(); }
};

// Reads `der` (an OCSPResponse) and judges it for `leaf` as issued by `issuer`.
OcspVerdict check_ocsp_response(std::string_view der, const Certificate& leaf,
                                const Certificate& issuer, const OcspCheckOptions& options);

// A DER OCSPRequest for `leaf` (SHA-1 CertID, as responders expect) with a random nonce.
struct OcspRequest {
  std::string der;
  std::string nonce;  // the nonce's raw bytes
};
OcspRequest make_ocsp_request(const Certificate& leaf, const Certificate& issuer);
// Whether `response_der` echoes the request's nonce: "echoed", "absent" (the responder
// ignores nonces, which RFC 8954 allows), "mismatch", or "unreadable".
std::string ocsp_nonce_check(const OcspRequest& request, std::string_view response_der);

// True when `cert` carries the TLS Feature extension (RFC 7633) with status_request (5):
// "OCSP must-staple".
bool has_must_staple(const Certificate& cert);

// The http:// (or other) OCSP responder URLs of `cert`'s AIA, in order.
std::vector<std::string> ocsp_urls(const Certificate& cert);
// The URIs of `cert`'s CRL distribution points (fullName URIs), in order.
std::vector<std::string> crl_urls(const Certificate& cert);

}  // namespace tlsprobe::certs
