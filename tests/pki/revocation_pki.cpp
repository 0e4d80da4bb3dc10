#include "pki/revocation_pki.hpp"

#include "certs/asn1_values.hpp"

#include <openssl/ct.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace tlsprobe::testpki {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("revocation_pki: " + what + ": " + certs::openssl_errors());
}

using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, certs::Deleter<&OCSP_BASICRESP_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, certs::Deleter<&OCSP_RESPONSE_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, certs::Deleter<&OCSP_CERTID_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, certs::Deleter<&X509_CRL_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, certs::Deleter<&X509_REVOKED_free>>;
using AsnEnumPtr = std::unique_ptr<ASN1_ENUMERATED, certs::Deleter<&ASN1_ENUMERATED_free>>;

struct SctStackFree {
  void operator()(STACK_OF(SCT) * s) const noexcept { SCT_LIST_free(s); }
};

}  // namespace

std::string make_ocsp_response(const Issued& issuer, const certs::Certificate& leaf,
                               const OcspSpec& spec) {
  if (spec.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    OcspResponsePtr resp{OCSP_response_create(spec.response_status, nullptr)};
    if (!resp) fail("OCSP_response_create");
    unsigned char* out = nullptr;
    const int len = i2d_OCSP_RESPONSE(resp.get(), &out);
    std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
    return der;
  }
  OcspBasicPtr bs{OCSP_BASICRESP_new()};
  const certs::Certificate& about = spec.other_cert ? *spec.other_cert : leaf;
  OcspCertIdPtr id{OCSP_cert_to_id(EVP_sha1(), about.x509(), issuer.cert.x509())};
  if (!bs || !id) fail("OCSP_BASICRESP_new");
  const int status = spec.status == OcspStatus::good      ? V_OCSP_CERTSTATUS_GOOD
                     : spec.status == OcspStatus::revoked ? V_OCSP_CERTSTATUS_REVOKED
                                                          : V_OCSP_CERTSTATUS_UNKNOWN;
  auto this_upd = certs::asn1_time_of(spec.this_update);
  auto next_upd = spec.next_update ? certs::asn1_time_of(*spec.next_update) : certs::Asn1TimePtr{};
  auto rev = certs::asn1_time_of(spec.revocation_time);
  OCSP_SINGLERESP* single = OCSP_basic_add1_status(
      bs.get(), id.get(), status, spec.reason,
      status == V_OCSP_CERTSTATUS_REVOKED ? rev.get() : nullptr, this_upd.get(), next_upd.get());
  if (!single) fail("OCSP_basic_add1_status");
  if (!spec.scts.empty()) {
    std::unique_ptr<STACK_OF(SCT), SctStackFree> list{sk_SCT_new_null()};
    for (const auto& s : spec.scts) {
      const auto* p = reinterpret_cast<const unsigned char*>(s.data());
      SCT* sct = o2i_SCT(nullptr, &p, s.size());
      if (!sct) fail("o2i_SCT");
      sk_SCT_push(list.get(), sct);
    }
    if (OCSP_SINGLERESP_add1_ext_i2d(single, NID_ct_cert_scts, list.get(), 0, 0) != 1)
      fail("SCT list extension");
  }
  const Issued& signer = spec.signer ? *spec.signer : issuer;
  const unsigned long flags = spec.signer && spec.include_signer ? 0UL : OCSP_NOCERTS;
  if (OCSP_basic_sign(bs.get(), signer.cert.x509(), signer.pkey(), EVP_sha256(), nullptr, flags) !=
      1)
    fail("OCSP_basic_sign");
  OcspResponsePtr resp{OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs.get())};
  if (!resp) fail("OCSP_response_create");
  unsigned char* out = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp.get(), &out);
  if (len <= 0) fail("i2d_OCSP_RESPONSE");
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

Issued make_ocsp_responder(const Issued& ca, std::string common_name) {
  CertSpec spec;
  spec.common_name = std::move(common_name);
  spec.ext_key_usage = "OCSPSigning";
  spec.not_before = fixed_now() - std::chrono::days(30);
  spec.not_after = fixed_now() + std::chrono::days(3650);
  return issue(ca, std::move(spec));
}

std::string make_crl_pem(const Issued& issuer, const CrlSpec& spec) {
  CrlPtr crl{X509_CRL_new()};
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1) fail("X509_CRL_new");
  if (X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.cert.x509())) != 1)
    fail("CRL issuer");
  auto this_upd = certs::asn1_time_of(spec.this_update);
  if (X509_CRL_set1_lastUpdate(crl.get(), this_upd.get()) != 1) fail("thisUpdate");
  if (spec.next_update) {
    auto next_upd = certs::asn1_time_of(*spec.next_update);
    if (X509_CRL_set1_nextUpdate(crl.get(), next_upd.get()) != 1) fail("nextUpdate");
  }
  for (const auto& e : spec.revoked) {
    RevokedPtr r{X509_REVOKED_new()};
    auto when = certs::asn1_time_of(e.revoked_at);
    if (!r || X509_REVOKED_set_serialNumber(r.get(), X509_get_serialNumber(e.cert.x509())) != 1 ||
        X509_REVOKED_set_revocationDate(r.get(), when.get()) != 1)
      fail("revoked entry");
    if (e.reason >= 0) {
      AsnEnumPtr reason{ASN1_ENUMERATED_new()};
      if (!reason || ASN1_ENUMERATED_set(reason.get(), e.reason) != 1 ||
          X509_REVOKED_add1_ext_i2d(r.get(), NID_crl_reason, reason.get(), 0, 0) != 1)
        fail("reason code");
    }
    if (X509_CRL_add0_revoked(crl.get(), r.get()) != 1) fail("add revoked");
    r.release();  // the CRL owns it now
  }
  if (spec.crl_number) {
    certs::Asn1IntegerPtr number{ASN1_INTEGER_new()};
    if (!number || ASN1_INTEGER_set(number.get(), 1) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(),
                              spec.crl_number_critical ? 1 : 0, 0) != 1)
      fail("cRLNumber");
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), spec.sign_with ? spec.sign_with : issuer.pkey(), EVP_sha256()) <= 0)
    fail("X509_CRL_sign");
  certs::BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) fail("PEM");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace tlsprobe::testpki
