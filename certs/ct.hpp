// Certificate Transparency: a CT log list (Chrome's log_list.json entries or OpenSSL's
// ct_log_list.cnf), and the SCTs of a leaf from all three deliveries (embedded in the
// certificate, the TLS extension, the stapled OCSP response) verified with OpenSSL's CT
// API (CTLOG_STORE, CT_POLICY_EVAL_CTX, SCT_validate), then counted by Chrome's CT policy.
#pragma once

#include "certs/certificate.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::certs {

struct CtLog {
  std::string operator_name;  // Chrome's operators[].name; the description for a .cnf list
  std::string description;
  std::string key_der;  // SubjectPublicKeyInfo, DER
  std::string log_id;   // SHA-256 of key_der (raw bytes)
};

class CtLogList {
 public:
  CtLogList();  // empty: no SCT can be verified
  // Throws std::invalid_argument naming the log when a key is not a public key.
  static CtLogList from_logs(std::vector<CtLog> logs);
  // OpenSSL's ct_log_list.cnf format (CTLOG_STORE_load_file): each log's operator is its
  // description. Throws std::runtime_error "<path>: …".
  static CtLogList from_openssl_cnf(const std::string& path);

  const std::vector<CtLog>& logs() const;
  const CtLog* find(const std::string& log_id) const;
  bool empty() const;
  CTLOG_STORE* store() const;  // borrowed; never null

  struct Data;

 private:
  std::shared_ptr<const Data> data_;
};

// One SCT and what became of it.
struct SctFacts {
  std::string source;  // "embedded", "tls_extension", "ocsp_staple"
  std::string log_id_hex;
  std::string log_description;  // empty when the log is not in the list
  std::string log_operator;
  std::optional<TimePoint> timestamp;
  // "valid", "invalid_signature", "unknown_log", "future_timestamp", "unverified" (no issuer),
  // "malformed"
  std::string status;
};

// Chrome's CT policy applied to the valid SCTs.
struct CtFacts {
  std::vector<SctFacts> scts;
  int valid_embedded = 0, valid_delivered = 0;  // delivered: TLS extension or OCSP staple
  int embedded_operators = 0, delivered_operators = 0;
  long lifetime_days = 0;
  int required_embedded = 2;  // 2 for a lifetime up to 180 days, else 3
  bool compliant = false;
};

// `issuer` may be null: embedded SCTs (over the precertificate, which names the issuer's key)
// cannot then be verified. `at` is the evaluation time (an SCT from the future is invalid).
CtFacts check_scts(const Certificate& leaf, const Certificate* issuer,
                   const std::vector<std::string>& tls_scts,
                   const std::vector<std::string>& ocsp_scts, const CtLogList& logs, TimePoint at);

}  // namespace tlsprobe::certs
