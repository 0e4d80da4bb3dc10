#include "certs/crl.hpp"

#include "certs/asn1_values.hpp"
#include "certs/pem.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

namespace tlsprobe::certs {

namespace {

using AsnEnumPtr = std::unique_ptr<ASN1_ENUMERATED, Deleter<&ASN1_ENUMERATED_free>>;

std::shared_ptr<X509_CRL> own(X509_CRL* c) { return {c, X509_CRL_free}; }

// RFC 5280 5.2.3: a CRL MUST carry a non-critical cRLNumber. Critical extensions other
// than the ones OpenSSL applies itself (issuingDistributionPoint, delta, AKI) make it
// unusable (5.2: a client must not use a CRL with an unrecognised critical extension).
std::string extension_problem(X509_CRL* crl, std::string& detail) {
  bool has_number = false;
  for (int i = 0; i < X509_CRL_get_ext_count(crl); ++i) {
    X509_EXTENSION* ext = X509_CRL_get_ext(crl, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    const bool critical = X509_EXTENSION_get_critical(ext) == 1;
    if (nid == NID_crl_number) {
      has_number = true;
      if (critical) {
        detail =
            "its cRLNumber extension is marked critical (RFC 5280 5.2.3: MUST be non-critical)";
        return "crl_number";
      }
      continue;
    }
    if (critical && nid != NID_issuing_distribution_point && nid != NID_delta_crl &&
        nid != NID_authority_key_identifier) {
      char oid[80] = {};
      OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 1);
      detail = std::string("it has a critical extension clients do not process (") + oid + ")";
      return "critical_extension";
    }
  }
  if (!has_number) {
    detail = "it has no cRLNumber extension (RFC 5280 5.2.3: conforming CRLs MUST have one)";
    return "crl_number";
  }
  return {};
}

}  // namespace

std::vector<Crl> Crl::parse(std::string_view data, std::string_view source) {
  std::vector<Crl> out;
  BioPtr bio{BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))};
  if (!bio) throw PemError(std::string(source) + ": " + openssl_errors());
  if (data.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
    while (X509_CRL* c = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
      Crl crl;
      crl.crl_ = own(c);
      crl.source_ = std::string(source);
      out.push_back(std::move(crl));
    }
    ERR_clear_error();  // the end of the text reads as "no start line"
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    if (X509_CRL* c = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()))) {
      Crl crl;
      crl.crl_ = own(c);
      crl.source_ = std::string(source);
      out.push_back(std::move(crl));
    }
    ERR_clear_error();
  }
  if (out.empty()) throw PemError(std::string(source) + ": no CRL (PEM \"X509 CRL\" or DER) found");
  return out;
}

std::vector<Crl> Crl::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PemError(path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

std::string Crl::issuer() const { return name_text(X509_CRL_get_issuer(crl_.get())); }
std::optional<TimePoint> Crl::this_update() const {
  return time_point_of(X509_CRL_get0_lastUpdate(crl_.get()));
}
std::optional<TimePoint> Crl::next_update() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(crl_.get());
  return t ? time_point_of(t) : std::nullopt;
}
std::string Crl::der() const {
  unsigned char* out = nullptr;
  const int len = i2d_X509_CRL(crl_.get(), &out);
  std::string s = len > 0 ? std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(len))
                          : std::string();
  OPENSSL_free(out);
  return s;
}

std::string_view to_string(CrlVerdict::Status s) {
  switch (s) {
    case CrlVerdict::Status::not_covered:
      return "not_covered";
    case CrlVerdict::Status::good:
      return "good";
    case CrlVerdict::Status::revoked:
      return "revoked";
    case CrlVerdict::Status::unusable:
      return "unusable";
  }
  return "unknown";
}

CrlVerdict check_crls(const Certificate& cert, const Certificate& issuer,
                      const std::vector<Crl>& crls, TimePoint at) {
  CrlVerdict best;  // a usable CRL's answer wins over an unusable one's
  for (const auto& crl : crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer.x509())) != 0)
      continue;  // another issuer's CRL: a serial on it says nothing about this certificate
    CrlVerdict v;
    v.source = crl.source();
    v.this_update = crl.this_update();
    v.next_update = crl.next_update();
    EVP_PKEY* key = X509_get0_pubkey(issuer.x509());
    const std::uint32_t ku = X509_get_key_usage(issuer.x509());
    if (!key || X509_CRL_verify(crl.get(), key) != 1) {
      v.problem = "bad_signature";
      v.problem_detail = "its signature does not verify with the key of " + issuer.subject();
    } else if (ku != UINT32_MAX && !(ku & KU_CRL_SIGN)) {
      // X509_get_key_usage gives UINT32_MAX when there is no keyUsage extension at all.
      v.problem = "no_crl_sign";
      v.problem_detail = "its issuer " + issuer.subject() +
                         " has a keyUsage without cRLSign, so it may not sign CRLs";
    } else if (auto p = extension_problem(crl.get(), v.problem_detail); !p.empty()) {
      v.problem = p;
    } else if (!v.this_update || *v.this_update > at) {
      v.problem = "not_yet_valid";
      v.problem_detail = "its thisUpdate " +
                         (v.this_update ? format_rfc3339(*v.this_update) : std::string("?")) +
                         " is after " + format_rfc3339(at);
    } else if (v.next_update && *v.next_update < at) {
      v.problem = "expired";
      v.problem_detail = "its nextUpdate " + format_rfc3339(*v.next_update) + " has passed";
    }
    ERR_clear_error();
    if (!v.problem.empty()) {
      v.status = CrlVerdict::Status::unusable;
      if (best.status == CrlVerdict::Status::not_covered) best = v;
      continue;
    }
    X509_REVOKED* entry = nullptr;
    // 1: listed; 2: listed as removeFromCRL (a delta CRL un-revoking it): not revoked.
    if (X509_CRL_get0_by_cert(crl.get(), &entry, cert.x509()) == 1 && entry) {
      v.status = CrlVerdict::Status::revoked;
      v.revocation_time = time_point_of(X509_REVOKED_get0_revocationDate(entry));
      AsnEnumPtr reason{static_cast<ASN1_ENUMERATED*>(
          X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr))};
      if (reason) v.reason = OCSP_crl_reason_str(ASN1_ENUMERATED_get(reason.get()));
      ERR_clear_error();
      return v;  // revoked by one usable CRL of the issuer: that settles it
    }
    v.status = CrlVerdict::Status::good;
    best = v;
  }
  return best;
}

}  // namespace tlsprobe::certs
