// Certificate: an immutable value holding one X.509 certificate and the facts tlsprobe
// reports about it, extracted once with OpenSSL (never by parsing DER by hand).
#pragma once

#include "certs/ossl.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::certs {

using TimePoint = std::chrono::sys_seconds;

struct KeyInfo {
  std::string type;   // "RSA", "EC", "Ed25519", "Ed448", "DSA", or OpenSSL's short name
  int bits = 0;       // key size in bits (EC: the curve's order size, e.g. 256)
  std::string curve;  // EC only: "prime256v1", "secp384r1", ...
};

class Certificate {
 public:
  // Takes its own reference to `x509`. Throws std::invalid_argument on null.
  static Certificate from_x509(X509* x509);
  // Parses DER; nullopt when it is not a certificate.
  static std::optional<Certificate> from_der(const std::string& der);

  X509* x509() const { return x509_.get(); }  // borrowed; lives as long as this object
  const std::string& der() const { return der_; }

  const std::string& subject() const { return subject_; }          // RFC 4514 DN, escaped
  const std::string& issuer() const { return issuer_; }            // RFC 4514 DN, escaped
  const std::string& common_name() const { return common_name_; }  // may be empty
  const std::string& serial_hex() const { return serial_hex_; }    // uppercase hex, no colons
  TimePoint not_before() const { return not_before_; }
  TimePoint not_after() const { return not_after_; }
  const std::vector<std::string>& dns_names() const { return dns_names_; }  // SAN dNSName
  const std::vector<std::string>& ip_names() const { return ip_names_; }    // SAN iPAddress, text
  // All SANs for display: DNS names then IPs ("IP:" prefix not added).
  std::vector<std::string> names() const;
  const KeyInfo& key() const { return key_; }
  const std::string& signature_algorithm() const { return sig_alg_; }    // e.g. "ecdsa-with-SHA256"
  const std::string& aia_issuer_url() const { return aia_issuer_url_; }  // CA Issuers URI or empty
  const std::string& sha256_hex() const { return sha256_hex_; }  // uppercase hex of DER, no colons
  bool is_ca() const { return is_ca_; }                          // basicConstraints CA:TRUE
  // Subject equals issuer and the signature verifies with its own key.
  bool is_self_signed() const { return self_signed_; }

  friend bool operator==(const Certificate& a, const Certificate& b) {
    return a.sha256_hex_ == b.sha256_hex_;
  }

 private:
  Certificate() = default;
  std::shared_ptr<X509> x509_;  // shared: copies of a Certificate share one X509
  std::string der_, subject_, issuer_, common_name_, serial_hex_;
  TimePoint not_before_{}, not_after_{};
  std::vector<std::string> dns_names_, ip_names_;
  KeyInfo key_;
  std::string sig_alg_, aia_issuer_url_, sha256_hex_;
  bool is_ca_ = false, self_signed_ = false;
};

// A chain as presented by a server, in the order it was sent (index 0 = what the server
// sent first, normally the leaf).
using Chain = std::vector<Certificate>;

// RFC 3339 UTC text ("2026-11-24T05:45:00Z") and back; parse returns nullopt on bad input.
std::string format_rfc3339(TimePoint t);
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// Escapes control, non-ASCII-printable and bidi characters for display in logs and terminals
// ("\x1b" -> "\\x1b", U+202E -> "\\u202E"). Certificate fields are attacker-controlled.
std::string escape_for_display(std::string_view text);

}  // namespace tlsprobe::certs
