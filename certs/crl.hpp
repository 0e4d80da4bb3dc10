// Certificate revocation lists (RFC 5280 section 5), read and applied with OpenSSL: given
// with --crl, or fetched from a CRL distribution point. A CRL counts for a certificate only
// when it is from that certificate's issuer (same name, signature verified with the issuer's
// key) and the issuer may sign CRLs (cRLSign, or no keyUsage at all).
#pragma once

#include "certs/certificate.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::certs {

struct X509CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * s) const noexcept { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};
using X509CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), X509CrlStackFree>;

class Crl {
 public:
  // Every CRL in a PEM text (one or more "X509 CRL" blocks) or one DER CRL. Throws PemError
  // ("<source>: …") when there is none.
  static std::vector<Crl> parse(std::string_view data, std::string_view source = "<memory>");
  // Same, from a file. Throws PemError naming the file.
  static std::vector<Crl> read_file(const std::string& path);

  X509_CRL* get() const { return crl_.get(); }           // borrowed
  const std::string& source() const { return source_; }  // file name or URL
  std::string issuer() const;                            // RFC 4514 DN
  std::optional<TimePoint> this_update() const;
  std::optional<TimePoint> next_update() const;
  std::string der() const;

 private:
  std::shared_ptr<X509_CRL> crl_;
  std::string source_;
};

// How a certificate stands against the CRLs of its issuer.
struct CrlVerdict {
  // not_covered: no CRL from this issuer; good: a usable CRL does not list it; revoked;
  // unusable: the issuer's CRLs all failed a check (problem says which).
  enum class Status { not_covered, good, revoked, unusable };
  Status status = Status::not_covered;
  std::string source;  // the CRL that decided (file or URL)
  std::optional<TimePoint> this_update, next_update, revocation_time;
  std::string reason;          // revocation reason ("keyCompromise"); empty when the entry has none
  std::string problem;         // unusable: "bad_signature", "no_crl_sign", "expired",
                               // "not_yet_valid", "crl_number" (missing or critical),
                               // "critical_extension"
  std::string problem_detail;  // one line for people
};

std::string_view to_string(CrlVerdict::Status s);

// Judges `cert` (issued by `issuer`) at `at` against every CRL in `crls` from that issuer.
CrlVerdict check_crls(const Certificate& cert, const Certificate& issuer,
                      const std::vector<Crl>& crls, TimePoint at);

}  // namespace tlsprobe::certs
