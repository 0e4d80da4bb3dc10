#include "certs/ct.hpp"

#include "certs/asn1_values.hpp"

#include <openssl/conf.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#include <unistd.h>
#include <cstdlib>

#include <map>
#include <set>
#include <stdexcept>

namespace tlsprobe::certs {

namespace {

struct CtlogStoreFree {
  void operator()(CTLOG_STORE* s) const noexcept { CTLOG_STORE_free(s); }
};
struct SctStackFree {
  void operator()(STACK_OF(SCT) * s) const noexcept { SCT_LIST_free(s); }
};
using SctListPtr = std::unique_ptr<STACK_OF(SCT), SctStackFree>;
using SctPtr = std::unique_ptr<SCT, Deleter<&SCT_free>>;
using PolicyCtxPtr = std::unique_ptr<CT_POLICY_EVAL_CTX, Deleter<&CT_POLICY_EVAL_CTX_free>>;

std::string sha256(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

}  // namespace

struct CtLogList::Data {
  std::vector<CtLog> logs;
  std::unique_ptr<CTLOG_STORE, CtlogStoreFree> store{CTLOG_STORE_new()};
};

CtLogList::CtLogList() : data_(std::make_shared<Data>()) {}

CtLogList CtLogList::from_logs(std::vector<CtLog> logs) {
  auto data = std::make_shared<Data>();
  if (!data->store) throw std::runtime_error("CTLOG_STORE_new: " + openssl_errors());
  // OpenSSL fills a CTLOG_STORE only from a ct_log_list.cnf file: write one (keys checked
  // first, names replaced by indexes so no description needs quoting) and load it.
  std::string cnf = "enabled_logs = ";
  std::string sections;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    auto& log = logs[i];
    const auto* p = reinterpret_cast<const unsigned char*>(log.key_der.data());
    EvpPkeyPtr key{d2i_PUBKEY(nullptr, &p, static_cast<long>(log.key_der.size()))};
    if (!key) {
      openssl_errors();
      throw std::invalid_argument("CT log \"" + log.description +
                                  "\": the key is not a DER SubjectPublicKeyInfo");
    }
    log.log_id = sha256(log.key_der);
    const std::string name = "log" + std::to_string(i);
    cnf += (i ? "," : "") + name;
    std::string b64(4 * ((log.key_der.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                  reinterpret_cast<const unsigned char*>(log.key_der.data()),
                                  static_cast<int>(log.key_der.size()));
    b64.resize(static_cast<std::size_t>(n));
    sections += "\n[" + name + "]\ndescription = " + name + "\nkey = " + b64 + "\n";
  }
  if (!logs.empty()) {
    char path[] = "/tmp/tlsprobe-ctlogs-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("cannot create a temporary CT log list file");
    const std::string text = cnf + "\n" + sections;
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    const int loaded = written ? CTLOG_STORE_load_file(data->store.get(), path) : 0;
    ::unlink(path);
    if (loaded != 1) throw std::runtime_error("cannot load the CT log list: " + openssl_errors());
  }
  data->logs = std::move(logs);
  CtLogList l;
  l.data_ = std::move(data);
  return l;
}

CtLogList CtLogList::from_openssl_cnf(const std::string& path) {
  std::unique_ptr<CONF, Deleter<&NCONF_free>> conf{NCONF_new(nullptr)};
  long line = 0;
  if (!conf || NCONF_load(conf.get(), path.c_str(), &line) != 1) {
    const std::string e = openssl_errors();
    throw std::runtime_error(path + ": cannot read the ct_log_list.cnf" +
                             (line > 0 ? " (line " + std::to_string(line) + ")" : "") + ": " + e);
  }
  const char* enabled = NCONF_get_string(conf.get(), nullptr, "enabled_logs");
  if (!enabled) {
    openssl_errors();
    throw std::runtime_error(path + ": no enabled_logs line (OpenSSL's ct_log_list.cnf format)");
  }
  std::vector<CtLog> logs;
  std::string list = enabled;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(pos, comma - pos);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    pos = comma + 1;
    if (name.empty()) continue;
    const char* desc = NCONF_get_string(conf.get(), name.c_str(), "description");
    const char* key = NCONF_get_string(conf.get(), name.c_str(), "key");
    if (!desc || !key) {
      openssl_errors();
      throw std::runtime_error(path + ": log [" + name + "] needs description and key");
    }
    const std::string b64 = key;
    std::string der(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
    if (n < 0) throw std::runtime_error(path + ": log [" + name + "]: the key is not base64");
    // EVP_DecodeBlock counts the padding as zero bytes: drop them.
    for (auto it = b64.rbegin(); it != b64.rend() && *it == '='; ++it) --n;
    der.resize(static_cast<std::size_t>(n));
    CtLog log;
    log.operator_name = desc;
    log.description = desc;
    log.key_der = std::move(der);
    logs.push_back(std::move(log));
  }
  try {
    return from_logs(std::move(logs));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

const std::vector<CtLog>& CtLogList::logs() const { return data_->logs; }
bool CtLogList::empty() const { return data_->logs.empty(); }
CTLOG_STORE* CtLogList::store() const { return data_->store.get(); }
const CtLog* CtLogList::find(const std::string& log_id) const {
  for (const auto& l : data_->logs)
    if (l.log_id == log_id) return &l;
  return nullptr;
}

namespace {

std::string validation_status(SCT* sct, TimePoint at) {
  switch (SCT_get_validation_status(sct)) {
    case SCT_VALIDATION_STATUS_VALID:
      return "valid";
    case SCT_VALIDATION_STATUS_UNKNOWN_LOG:
      return "unknown_log";
    case SCT_VALIDATION_STATUS_UNVERIFIED:
      return "unverified";
    case SCT_VALIDATION_STATUS_INVALID: {
      // SCT_validate refuses a timestamp after the evaluation time as well as a bad signature.
      const auto ms = SCT_get_timestamp(sct);
      const auto at_ms = static_cast<std::uint64_t>(at.time_since_epoch().count()) * 1000;
      return ms > at_ms ? "future_timestamp" : "invalid_signature";
    }
    default:
      return "malformed";
  }
}

}  // namespace

CtFacts check_scts(const Certificate& leaf, const Certificate* issuer,
                   const std::vector<std::string>& tls_scts,
                   const std::vector<std::string>& ocsp_scts, const CtLogList& logs, TimePoint at) {
  CtFacts f;
  f.lifetime_days =
      std::chrono::duration_cast<std::chrono::days>(leaf.not_after() - leaf.not_before()).count();
  // Chrome's CT policy (2022-): embedded SCTs, 2 for a certificate valid up to 180 days and
  // 3 beyond; SCTs delivered in the TLS extension or an OCSP staple, 2; in both cases from
  // at least 2 distinct log operators.
  f.required_embedded = f.lifetime_days <= 180 ? 2 : 3;
  PolicyCtxPtr ctx{CT_POLICY_EVAL_CTX_new()};
  if (!ctx) throw std::runtime_error("CT_POLICY_EVAL_CTX_new: " + openssl_errors());
  CT_POLICY_EVAL_CTX_set1_cert(ctx.get(), leaf.x509());
  if (issuer) CT_POLICY_EVAL_CTX_set1_issuer(ctx.get(), issuer->x509());
  CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx.get(), logs.store());
  CT_POLICY_EVAL_CTX_set_time(ctx.get(),
                              static_cast<std::uint64_t>(at.time_since_epoch().count()) * 1000);

  std::set<std::string> embedded_ops, delivered_ops;
  const auto judge = [&](SCT* sct, sct_source_t source, const char* source_name) {
    SCT_set_source(sct, source);  // decides the signed entry: precertificate or certificate
    SctFacts s;
    s.source = source_name;
    unsigned char* id = nullptr;
    const std::size_t id_len = SCT_get0_log_id(sct, &id);
    const std::string log_id(reinterpret_cast<const char*>(id), id_len);
    s.log_id_hex = hex_text(id, id_len);
    s.timestamp = TimePoint(std::chrono::seconds(SCT_get_timestamp(sct) / 1000));
    if (const CtLog* log = logs.find(log_id)) {
      s.log_description = log->description;
      s.log_operator = log->operator_name;
    }
    SCT_validate(sct, ctx.get());
    s.status = validation_status(sct, at);
    ERR_clear_error();
    if (s.status == "valid") {
      if (source == SCT_SOURCE_X509V3_EXTENSION) {
        ++f.valid_embedded;
        embedded_ops.insert(s.log_operator);
      } else {
        ++f.valid_delivered;
        delivered_ops.insert(s.log_operator);
      }
    }
    f.scts.push_back(std::move(s));
  };

  SctListPtr embedded{static_cast<STACK_OF(SCT)*>(
      X509_get_ext_d2i(leaf.x509(), NID_ct_precert_scts, nullptr, nullptr))};
  ERR_clear_error();
  if (embedded)
    for (int i = 0; i < sk_SCT_num(embedded.get()); ++i)
      judge(sk_SCT_value(embedded.get(), i), SCT_SOURCE_X509V3_EXTENSION, "embedded");
  const auto from_bytes = [&](const std::vector<std::string>& list, sct_source_t source,
                              const char* name) {
    for (const auto& bytes : list) {
      const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
      SctPtr sct{o2i_SCT(nullptr, &p, bytes.size())};
      if (!sct) {
        ERR_clear_error();
        SctFacts bad;
        bad.source = name;
        bad.status = "malformed";
        f.scts.push_back(std::move(bad));
        continue;
      }
      judge(sct.get(), source, name);
    }
  };
  from_bytes(tls_scts, SCT_SOURCE_TLS_EXTENSION, "tls_extension");
  from_bytes(ocsp_scts, SCT_SOURCE_OCSP_STAPLED_RESPONSE, "ocsp_staple");
  f.embedded_operators = static_cast<int>(embedded_ops.size());
  f.delivered_operators = static_cast<int>(delivered_ops.size());
  f.compliant = (f.valid_embedded >= f.required_embedded && f.embedded_operators >= 2) ||
                (f.valid_delivered >= 2 && f.delivered_operators >= 2);
  return f;
}

}  // namespace tlsprobe::certs
