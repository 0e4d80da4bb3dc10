#include "certs/verify.hpp"

#include "certs/name_match.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace tlsprobe::certs {
namespace {

struct CodeName {
  int code;
  const char* name;
};

// Every X509_V_* code of OpenSSL 3.0's <openssl/x509_vfy.h>, in header order (the first
// name wins if two ever share a value).
constexpr CodeName code_names[] = {
    {X509_V_OK, "X509_V_OK"},
    {X509_V_ERR_UNSPECIFIED, "X509_V_ERR_UNSPECIFIED"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT"},
    {X509_V_ERR_UNABLE_TO_GET_CRL, "X509_V_ERR_UNABLE_TO_GET_CRL"},
    {X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, "X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE"},
    {X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, "X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE"},
    {X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY,
     "X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY"},
    {X509_V_ERR_CERT_SIGNATURE_FAILURE, "X509_V_ERR_CERT_SIGNATURE_FAILURE"},
    {X509_V_ERR_CRL_SIGNATURE_FAILURE, "X509_V_ERR_CRL_SIGNATURE_FAILURE"},
    {X509_V_ERR_CERT_NOT_YET_VALID, "X509_V_ERR_CERT_NOT_YET_VALID"},
    {X509_V_ERR_CERT_HAS_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED"},
    {X509_V_ERR_CRL_NOT_YET_VALID, "X509_V_ERR_CRL_NOT_YET_VALID"},
    {X509_V_ERR_CRL_HAS_EXPIRED, "X509_V_ERR_CRL_HAS_EXPIRED"},
    {X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, "X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD"},
    {X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, "X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD"},
    {X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD, "X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD"},
    {X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, "X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD"},
    {X509_V_ERR_OUT_OF_MEM, "X509_V_ERR_OUT_OF_MEM"},
    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"},
    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"},
    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE"},
    {X509_V_ERR_CERT_CHAIN_TOO_LONG, "X509_V_ERR_CERT_CHAIN_TOO_LONG"},
    {X509_V_ERR_CERT_REVOKED, "X509_V_ERR_CERT_REVOKED"},
    {X509_V_ERR_NO_ISSUER_PUBLIC_KEY, "X509_V_ERR_NO_ISSUER_PUBLIC_KEY"},
    {X509_V_ERR_PATH_LENGTH_EXCEEDED, "X509_V_ERR_PATH_LENGTH_EXCEEDED"},
    {X509_V_ERR_INVALID_PURPOSE, "X509_V_ERR_INVALID_PURPOSE"},
    {X509_V_ERR_CERT_UNTRUSTED, "X509_V_ERR_CERT_UNTRUSTED"},
    {X509_V_ERR_CERT_REJECTED, "X509_V_ERR_CERT_REJECTED"},
    {X509_V_ERR_SUBJECT_ISSUER_MISMATCH, "X509_V_ERR_SUBJECT_ISSUER_MISMATCH"},
    {X509_V_ERR_AKID_SKID_MISMATCH, "X509_V_ERR_AKID_SKID_MISMATCH"},
    {X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH, "X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH"},
    {X509_V_ERR_KEYUSAGE_NO_CERTSIGN, "X509_V_ERR_KEYUSAGE_NO_CERTSIGN"},
    {X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, "X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER"},
    {X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, "X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION"},
    {X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, "X509_V_ERR_KEYUSAGE_NO_CRL_SIGN"},
    {X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION, "X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION"},
    {X509_V_ERR_INVALID_NON_CA, "X509_V_ERR_INVALID_NON_CA"},
    {X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED, "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"},
    {X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE, "X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE"},
    {X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED, "X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED"},
    {X509_V_ERR_INVALID_EXTENSION, "X509_V_ERR_INVALID_EXTENSION"},
    {X509_V_ERR_INVALID_POLICY_EXTENSION, "X509_V_ERR_INVALID_POLICY_EXTENSION"},
    {X509_V_ERR_NO_EXPLICIT_POLICY, "X509_V_ERR_NO_EXPLICIT_POLICY"},
    {X509_V_ERR_DIFFERENT_CRL_SCOPE, "X509_V_ERR_DIFFERENT_CRL_SCOPE"},
    {X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE, "X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE"},
    {X509_V_ERR_UNNESTED_RESOURCE, "X509_V_ERR_UNNESTED_RESOURCE"},
    {X509_V_ERR_PERMITTED_VIOLATION, "X509_V_ERR_PERMITTED_VIOLATION"},
    {X509_V_ERR_EXCLUDED_VIOLATION, "X509_V_ERR_EXCLUDED_VIOLATION"},
    {X509_V_ERR_SUBTREE_MINMAX, "X509_V_ERR_SUBTREE_MINMAX"},
    {X509_V_ERR_APPLICATION_VERIFICATION, "X509_V_ERR_APPLICATION_VERIFICATION"},
    {X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, "X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE"},
    {X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX, "X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX"},
    {X509_V_ERR_UNSUPPORTED_NAME_SYNTAX, "X509_V_ERR_UNSUPPORTED_NAME_SYNTAX"},
    {X509_V_ERR_CRL_PATH_VALIDATION_ERROR, "X509_V_ERR_CRL_PATH_VALIDATION_ERROR"},
    {X509_V_ERR_PATH_LOOP, "X509_V_ERR_PATH_LOOP"},
    {X509_V_ERR_SUITE_B_INVALID_VERSION, "X509_V_ERR_SUITE_B_INVALID_VERSION"},
    {X509_V_ERR_SUITE_B_INVALID_ALGORITHM, "X509_V_ERR_SUITE_B_INVALID_ALGORITHM"},
    {X509_V_ERR_SUITE_B_INVALID_CURVE, "X509_V_ERR_SUITE_B_INVALID_CURVE"},
    {X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM,
     "X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM"},
    {X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED, "X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED"},
    {X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256,
     "X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256"},
    {X509_V_ERR_HOSTNAME_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH"},
    {X509_V_ERR_EMAIL_MISMATCH, "X509_V_ERR_EMAIL_MISMATCH"},
    {X509_V_ERR_IP_ADDRESS_MISMATCH, "X509_V_ERR_IP_ADDRESS_MISMATCH"},
    {X509_V_ERR_DANE_NO_MATCH, "X509_V_ERR_DANE_NO_MATCH"},
    {X509_V_ERR_EE_KEY_TOO_SMALL, "X509_V_ERR_EE_KEY_TOO_SMALL"},
    {X509_V_ERR_CA_KEY_TOO_SMALL, "X509_V_ERR_CA_KEY_TOO_SMALL"},
    {X509_V_ERR_CA_MD_TOO_WEAK, "X509_V_ERR_CA_MD_TOO_WEAK"},
    {X509_V_ERR_INVALID_CALL, "X509_V_ERR_INVALID_CALL"},
    {X509_V_ERR_STORE_LOOKUP, "X509_V_ERR_STORE_LOOKUP"},
    {X509_V_ERR_NO_VALID_SCTS, "X509_V_ERR_NO_VALID_SCTS"},
    {X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION, "X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION"},
    {X509_V_ERR_OCSP_VERIFY_NEEDED, "X509_V_ERR_OCSP_VERIFY_NEEDED"},
    {X509_V_ERR_OCSP_VERIFY_FAILED, "X509_V_ERR_OCSP_VERIFY_FAILED"},
    {X509_V_ERR_OCSP_CERT_UNKNOWN, "X509_V_ERR_OCSP_CERT_UNKNOWN"},
    {X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM, "X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM"},
    {X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH, "X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH"},
    {X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY, "X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY"},
    {X509_V_ERR_INVALID_CA, "X509_V_ERR_INVALID_CA"},
    {X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA, "X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA"},
    {X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN, "X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN"},
    {X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA,
     "X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA"},
    {X509_V_ERR_ISSUER_NAME_EMPTY, "X509_V_ERR_ISSUER_NAME_EMPTY"},
    {X509_V_ERR_SUBJECT_NAME_EMPTY, "X509_V_ERR_SUBJECT_NAME_EMPTY"},
    {X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER, "X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER"},
    {X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER, "X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER"},
    {X509_V_ERR_EMPTY_SUBJECT_ALT_NAME, "X509_V_ERR_EMPTY_SUBJECT_ALT_NAME"},
    {X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL, "X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL"},
    {X509_V_ERR_CA_BCONS_NOT_CRITICAL, "X509_V_ERR_CA_BCONS_NOT_CRITICAL"},
    {X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL, "X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL"},
    {X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL, "X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL"},
    {X509_V_ERR_CA_CERT_MISSING_KEY_USAGE, "X509_V_ERR_CA_CERT_MISSING_KEY_USAGE"},
    {X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3, "X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3"},
    {X509_V_ERR_EC_KEY_EXPLICIT_PARAMS, "X509_V_ERR_EC_KEY_EXPLICIT_PARAMS"},
};

std::string code_name_of(int code) {
  for (const auto& c : code_names)
    if (c.code == code) return c.name;
  return "X509_V_ERR_" + std::to_string(code);
}

std::string strip_for_check(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::string(host);
}

// Verify callback: records every error with its depth and tells OpenSSL to carry on, so
// one run lists all the reasons a client refuses, not only the first. A C callback: it must
// not throw (an allocation failure stops verification instead).
extern "C" int record_and_continue(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  auto* errors = static_cast<std::vector<VerifyError>*>(X509_STORE_CTX_get_app_data(ctx));
  if (!errors) return 0;
  const int code = X509_STORE_CTX_get_error(ctx);
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  try {
    // OpenSSL may report the same (depth, code) twice (e.g. while trying two paths).
    for (const auto& e : *errors)
      if (e.code == code && e.depth == depth) return 1;
    errors->push_back(
        VerifyError{depth, code, code_name_of(code), X509_verify_cert_error_string(code)});
  } catch (...) {
    return 0;
  }
  return 1;
}

}  // namespace

std::string verify_code_name(int code) { return code_name_of(code); }

VerifyResult verify_chain(const Chain& presented, const TrustStore& trust,
                          const VerifyOptions& options) {
  VerifyResult r;
  if (presented.empty()) {
    r.openssl_code = X509_V_ERR_UNSPECIFIED;
    r.openssl_text = "no certificate presented";
    r.openssl_name = verify_code_name(r.openssl_code);
    r.errors.push_back(VerifyError{-1, r.openssl_code, r.openssl_name, r.openssl_text});
    return r;
  }
  ERR_clear_error();
  X509StackPtr untrusted{sk_X509_new_null()};
  if (!untrusted) throw std::bad_alloc();
  for (std::size_t i = 1; i < presented.size(); ++i) {
    X509Ptr ref = up_ref(presented[i].x509());
    if (!sk_X509_push(untrusted.get(), ref.get())) throw std::bad_alloc();
    (void)ref.release();  // the stack owns this reference now (freed by X509StackFree)
  }

  X509StoreCtxPtr ctx{X509_STORE_CTX_new()};
  if (!ctx) throw std::bad_alloc();
  // The shared store is only read: time, host and flags go on the context's own param.
  if (X509_STORE_CTX_init(ctx.get(), trust.shared_store().get(), presented[0].x509(),
                          untrusted.get()) != 1)
    throw std::runtime_error("X509_STORE_CTX_init: " + openssl_errors());
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());  // borrowed
  // OpenSSL honours USE_CHECK_TIME (set by set_time) before NO_CHECK_TIME: set one only.
  if (options.check_time)
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(options.at.time_since_epoch().count()));
  else
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  if (!options.host.empty()) {
    std::string host = strip_for_check(options.host);
    // SANs only, like browsers (OpenSSL would otherwise fall back to the CN), and no
    // partial wildcards ("f*.example.com"), like name_match.hpp.
    X509_VERIFY_PARAM_set_hostflags(
        param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, host.data(), host.size());
    if (ok != 1) {
      // A host OpenSSL refuses to take (e.g. an embedded NUL) can match nothing.
      ERR_clear_error();
      r.openssl_code = X509_V_ERR_HOSTNAME_MISMATCH;
      r.depth = 0;
      r.openssl_text = X509_verify_cert_error_string(r.openssl_code);
      r.openssl_name = verify_code_name(r.openssl_code);
      r.errors.push_back(VerifyError{0, r.openssl_code, r.openssl_name, r.openssl_text});
      return r;
    }
  }

  X509_STORE_CTX_set_app_data(ctx.get(), &r.errors);
  X509_STORE_CTX_set_verify_cb(ctx.get(), record_and_continue);
  const int rc = X509_verify_cert(ctx.get());
  // The callback let OpenSSL carry on past each error: the run only passed when it
  // recorded none. rc <= 0 with nothing recorded is an internal failure (memory, a call
  // OpenSSL refused): never "ok".
  r.ok = rc == 1 && r.errors.empty();
  if (!r.ok && r.errors.empty()) {
    int code = X509_STORE_CTX_get_error(ctx.get());
    if (code == X509_V_OK) code = X509_V_ERR_UNSPECIFIED;
    r.errors.push_back(VerifyError{X509_STORE_CTX_get_error_depth(ctx.get()), code,
                                   code_name_of(code), X509_verify_cert_error_string(code)});
  }
  r.openssl_code = r.ok ? X509_V_OK : r.errors.front().code;
  r.depth = r.ok ? -1 : r.errors.front().depth;
  r.openssl_text = X509_verify_cert_error_string(r.openssl_code);
  r.openssl_name = verify_code_name(r.openssl_code);
  {
    X509StackPtr chain{X509_STORE_CTX_get1_chain(ctx.get())};
    for (int i = 0; chain && i < sk_X509_num(chain.get()); ++i) {
      X509* x = sk_X509_value(chain.get(), i);  // borrowed from the stack
      // Presented certificates are reused (no re-parse); anchors likewise.
      auto same = [&](const Certificate& c) { return X509_cmp(c.x509(), x) == 0; };
      auto it = std::find_if(presented.begin(), presented.end(), same);
      if (it != presented.end()) {
        r.built_path.push_back(*it);
        continue;
      }
      auto at = std::find_if(trust.anchors().begin(), trust.anchors().end(), same);
      r.built_path.push_back(at != trust.anchors().end() ? *at : Certificate::from_x509(x));
    }
  }
  if (r.ok) r.verified_path = r.built_path;
  ERR_clear_error();
  return r;
}

}  // namespace tlsprobe::certs
