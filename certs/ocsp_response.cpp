#include "certs/ocsp_response.hpp"

#include "certs/ascii.hpp"
#include "certs/asn1_values.hpp"

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace tlsprobe::certs {

namespace {

using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, Deleter<&OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Deleter<&OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, Deleter<&OCSP_CERTID_free>>;
using TlsFeaturePtr = std::unique_ptr<TLS_FEATURE, Deleter<&TLS_FEATURE_free>>;
using CrlDistPointsPtr = std::unique_ptr<CRL_DIST_POINTS, Deleter<&CRL_DIST_POINTS_free>>;

struct SctStackFree {
  void operator()(STACK_OF(SCT) * s) const noexcept { SCT_LIST_free(s); }
};

// The SingleResponse for `leaf`: CertIDs are hashed with SHA-1 almost everywhere, SHA-256
// by a few responders; a response names the hash it used, so try both.
OCSP_SINGLERESP* find_single(OCSP_BASICRESP* bs, const Certificate& leaf,
                             const Certificate& issuer) {
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    OcspCertIdPtr id{OCSP_cert_to_id(md, leaf.x509(), issuer.x509())};
    if (!id) continue;
    const int idx = OCSP_resp_find(bs, id.get(), -1);
    if (idx >= 0) return OCSP_resp_get0(bs, idx);
  }
  return nullptr;
}

// OCSP_basic_verify with the issuer as the only trust anchor (partial chain: the issuer is
// usually an intermediate): the signer must be the issuer, or a certificate the issuer
// issued with id-kp-OCSPSigning. OCSP_NOEXPLICIT: a self-signed issuer does not make any
// certificate under it a responder (OpenSSL's legacy "explicitly trusted root" rule).
void verify_signature(OCSP_BASICRESP* bs, const Certificate& issuer, TimePoint at, OcspVerdict& v) {
  X509StorePtr store{X509_STORE_new()};
  X509StackPtr extra{sk_X509_new_null()};
  if (!store || !extra || X509_STORE_add_cert(store.get(), issuer.x509()) != 1) {
    v.problem = "malformed";
    v.problem_detail = "cannot prepare the verification: " + openssl_errors();
    return;
  }
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at.time_since_epoch().count()));
  X509_up_ref(issuer.x509());
  sk_X509_push(extra.get(), issuer.x509());

  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(bs, &signer, extra.get()) == 1 && signer) {
    v.signer = name_text(X509_get_subject_name(signer));
    v.delegated = X509_cmp(signer, issuer.x509()) != 0;
  }
  ERR_clear_error();
  if (OCSP_basic_verify(bs, extra.get(), store.get(), OCSP_NOEXPLICIT) == 1) return;
  const unsigned long err = ERR_peek_last_error();
  const std::string text = openssl_errors();
  if (ERR_GET_LIB(err) == ERR_LIB_OCSP && ERR_GET_REASON(err) == OCSP_R_SIGNATURE_FAILURE) {
    v.problem = "bad_signature";
    v.problem_detail = "the signature does not verify with the key of " +
                       (v.signer.empty() ? std::string("the named responder") : v.signer);
  } else {
    v.problem = "unauthorized_responder";
    v.problem_detail = "signed by " +
                       (v.signer.empty() ? std::string("an unknown key") : v.signer) +
                       ", which is neither the issuer " + issuer.subject() +
                       " nor a responder it authorised (" + text + ")";
  }
}

void read_scts(OCSP_SINGLERESP* single, OcspVerdict& v) {
  std::unique_ptr<STACK_OF(SCT), SctStackFree> scts{static_cast<STACK_OF(SCT)*>(
      OCSP_SINGLERESP_get1_ext_d2i(single, NID_ct_cert_scts, nullptr, nullptr))};
  ERR_clear_error();
  if (!scts) return;
  for (int i = 0; i < sk_SCT_num(scts.get()); ++i) {
    unsigned char* out = nullptr;
    const int len = i2o_SCT(sk_SCT_value(scts.get(), i), &out);
    if (len > 0)
      v.scts.emplace_back(reinterpret_cast<const char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
  }
}

}  // namespace

OcspVerdict check_ocsp_response(std::string_view der, const Certificate& leaf,
                                const Certificate& issuer, const OcspCheckOptions& options) {
  OcspVerdict v;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr resp{d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()))};
  if (!resp || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    v.problem = "malformed";
    v.problem_detail = "not a DER OCSPResponse (" + std::to_string(der.size()) + " bytes)";
    ERR_clear_error();
    return v;
  }
  const int status = OCSP_response_status(resp.get());
  v.response_status = ascii_lower(OCSP_response_status_str(status));
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    v.problem = "not_successful";
    v.problem_detail = "the responder answered " + v.response_status;
    return v;
  }
  OcspBasicPtr bs{OCSP_response_get1_basic(resp.get())};
  if (!bs) {
    v.problem = "malformed";
    v.problem_detail = "successful, but no basic OCSP response inside";
    ERR_clear_error();
    return v;
  }
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* by_name = nullptr;
  if (OCSP_resp_get0_id(bs.get(), &key_id, &by_name) == 1) {
    if (by_name)
      v.responder = name_text(by_name);
    else if (key_id)
      v.responder = "key:" + hex_text(ASN1_STRING_get0_data(key_id),
                                      static_cast<std::size_t>(ASN1_STRING_length(key_id)));
  }
  v.produced_at = time_point_of(OCSP_resp_get0_produced_at(bs.get()));

  OCSP_SINGLERESP* single = find_single(bs.get(), leaf, issuer);
  if (single) {
    int reason = -1;
    ASN1_GENERALIZEDTIME *rev = nullptr, *this_upd = nullptr, *next_upd = nullptr;
    const int cs = OCSP_single_get0_status(single, &reason, &rev, &this_upd, &next_upd);
    v.cert_status = OCSP_cert_status_str(cs);
    v.this_update = time_point_of(this_upd);
    if (next_upd) v.next_update = time_point_of(next_upd);
    if (cs == V_OCSP_CERTSTATUS_REVOKED) {
      v.revocation_time = time_point_of(rev);
      if (reason >= 0) v.revocation_reason = OCSP_crl_reason_str(reason);
    }
    read_scts(single, v);
  }

  // Signature and authorisation first: nothing else in an unauthenticated response counts.
  verify_signature(bs.get(), issuer, options.at, v);
  if (!v.valid()) return v;
  if (!single) {
    v.problem = "wrong_certificate";
    v.problem_detail = "the response has no status for serial " + leaf.serial_hex() +
                       " issued by " + issuer.subject();
    return v;
  }
  // OCSP_check_validity's rule, at the evaluation time instead of the wall clock.
  if (!v.this_update) {
    v.problem = "malformed";
    v.problem_detail = "thisUpdate is missing or unreadable";
  } else if (*v.this_update > options.at + options.leeway) {
    v.problem = "not_yet_valid";
    v.problem_detail = "thisUpdate " + format_rfc3339(*v.this_update) + " is in the future";
  } else if (v.next_update && *v.next_update < options.at - options.leeway) {
    v.problem = "expired";
    v.problem_detail = "nextUpdate " + format_rfc3339(*v.next_update) + " has passed";
  } else if (v.next_update && *v.next_update < *v.this_update) {
    v.problem = "malformed";
    v.problem_detail = "nextUpdate is before thisUpdate";
  }
  return v;
}

OcspRequest make_ocsp_request(const Certificate& leaf, const Certificate& issuer) {
  using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, Deleter<&OCSP_REQUEST_free>>;
  OcspRequestPtr req{OCSP_REQUEST_new()};
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf.x509(), issuer.x509());
  if (!req || !id || !OCSP_request_add0_id(req.get(), id)) {
    OCSP_CERTID_free(id);
    throw std::runtime_error("cannot build an OCSP request: " + openssl_errors());
  }
  OcspRequest out;
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1 ||
      OCSP_request_add1_nonce(req.get(), nonce, sizeof nonce) != 1)
    throw std::runtime_error("cannot add an OCSP nonce: " + openssl_errors());
  out.nonce.assign(reinterpret_cast<const char*>(nonce), sizeof nonce);
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &der);
  if (len <= 0) throw std::runtime_error("cannot encode the OCSP request: " + openssl_errors());
  out.der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string ocsp_nonce_check(const OcspRequest& request, std::string_view response_der) {
  using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, Deleter<&OCSP_REQUEST_free>>;
  const auto* rp = reinterpret_cast<const unsigned char*>(request.der.data());
  OcspRequestPtr req{d2i_OCSP_REQUEST(nullptr, &rp, static_cast<long>(request.der.size()))};
  const auto* p = reinterpret_cast<const unsigned char*>(response_der.data());
  OcspResponsePtr resp{d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response_der.size()))};
  OcspBasicPtr bs{resp ? OCSP_response_get1_basic(resp.get()) : nullptr};
  ERR_clear_error();
  if (!req || !bs) return "unreadable";
  // 1: equal; -1: in the request only (the responder ignores nonces); 0: different.
  switch (OCSP_check_nonce(req.get(), bs.get())) {
    case 1:
      return "echoed";
    case -1:
      return "absent";
    default:
      return "mismatch";
  }
}

bool has_must_staple(const Certificate& cert) {
  TlsFeaturePtr features{
      static_cast<TLS_FEATURE*>(X509_get_ext_d2i(cert.x509(), NID_tlsfeature, nullptr, nullptr))};
  ERR_clear_error();
  if (!features) return false;
  for (int i = 0; i < sk_ASN1_INTEGER_num(features.get()); ++i)
    if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features.get(), i)) == TLSEXT_TYPE_status_request)
      return true;
  return false;
}

std::vector<std::string> ocsp_urls(const Certificate& cert) {
  std::vector<std::string> out;
  STACK_OF(OPENSSL_STRING)* urls = X509_get1_ocsp(cert.x509());
  for (int i = 0; i < sk_OPENSSL_STRING_num(urls); ++i)
    out.emplace_back(sk_OPENSSL_STRING_value(urls, i));
  X509_email_free(urls);  // OpenSSL's documented free for X509_get1_ocsp's stack
  return out;
}

std::vector<std::string> crl_urls(const Certificate& cert) {
  std::vector<std::string> out;
  CrlDistPointsPtr dps{static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert.x509(), NID_crl_distribution_points, nullptr, nullptr))};
  ERR_clear_error();
  if (!dps) return out;
  for (int i = 0; i < sk_DIST_POINT_num(dps.get()); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
    if (!dp->distpoint || dp->distpoint->type != 0) continue;  // fullName only
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  return out;
}

}  // namespace tlsprobe::certs
