#include "pki/ct_pki.hpp"

#include <openssl/ct.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <stdexcept>

namespace tlsprobe::testpki {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("ct_pki: " + what + ": " + certs::openssl_errors());
}

struct SctStackFree {
  void operator()(STACK_OF(SCT) * s) const noexcept { SCT_LIST_free(s); }
};

std::string sha256(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string be(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

std::string base64(const std::string& der) {
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(der.data()),
                                static_cast<int>(der.size()));
  b64.resize(static_cast<std::size_t>(n));
  return b64;
}

// RFC 6962 section 3.2: the digitally-signed struct of a v1 SCT, signed with the log's key.
SCT* sign_sct(const TestCtLog& log, ct_log_entry_type_t type, const std::string& entry,
              TimePoint when, bool corrupt) {
  const std::uint64_t ms = static_cast<std::uint64_t>(when.time_since_epoch().count()) * 1000;
  const std::string tbs = std::string(1, '\0') + std::string(1, '\0') + be(ms, 8) +
                          be(type == CT_LOG_ENTRY_TYPE_PRECERT ? 1 : 0, 2) + entry + be(0, 2);
  certs::EvpMdCtxPtr md{EVP_MD_CTX_new()};
  std::size_t len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, log.key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(tbs.data()),
                     tbs.size()) != 1)
    fail("sign SCT");
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1)
    fail("sign SCT");
  sig.resize(len);
  if (corrupt) sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
  SCT* sct = SCT_new();
  if (!sct || SCT_set_version(sct, SCT_VERSION_V1) != 1 || SCT_set_log_entry_type(sct, type) != 1 ||
      SCT_set1_log_id(sct, reinterpret_cast<const unsigned char*>(log.log_id.data()),
                      log.log_id.size()) != 1 ||
      SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256) != 1 ||
      SCT_set1_signature(sct, reinterpret_cast<const unsigned char*>(sig.data()), sig.size()) != 1)
    fail("build SCT");
  SCT_set_timestamp(sct, ms);
  return sct;
}

std::string der_of(X509* x) {
  unsigned char* out = nullptr;
  const int len = i2d_X509(x, &out);
  std::string s(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return s;
}

}  // namespace

certs::CtLog TestCtLog::entry() const {
  certs::CtLog l;
  l.operator_name = operator_name;
  l.description = description;
  l.key_der = key_der;
  l.log_id = log_id;
  return l;
}

TestCtLog make_ct_log(std::string description, std::string operator_name) {
  TestCtLog log;
  log.description = std::move(description);
  log.operator_name = std::move(operator_name);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) fail("key");
  log.key.reset(key, EVP_PKEY_free);
  unsigned char* out = nullptr;
  const int len = i2d_PUBKEY(key, &out);
  if (len <= 0) fail("i2d_PUBKEY");
  log.key_der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  log.log_id = sha256(log.key_der);
  return log;
}

std::string make_sct(const TestCtLog& log, const certs::Certificate& cert, TimePoint when,
                     bool corrupt) {
  const std::string der = cert.der();
  std::unique_ptr<SCT, certs::Deleter<&SCT_free>> sct{
      sign_sct(log, CT_LOG_ENTRY_TYPE_X509, be(der.size(), 3) + der, when, corrupt)};
  unsigned char* out = nullptr;
  const int len = i2o_SCT(sct.get(), &out);
  if (len <= 0) fail("i2o_SCT");
  std::string s(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return s;
}

Issued embed_scts(const Issued& leaf, const Issued& issuer,
                  const std::vector<const TestCtLog*>& logs, TimePoint when, bool corrupt_first) {
  certs::X509Ptr x{X509_dup(leaf.cert.x509())};
  if (!x) fail("X509_dup");
  // The precertificate entry: issuer key hash, then the TBS as it is before the SCT list.
  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer.cert.x509()), &spki);
  const std::string key_hash = sha256(std::string(reinterpret_cast<char*>(spki), spki_len));
  OPENSSL_free(spki);
  unsigned char* tbs = nullptr;
  const int tbs_len = i2d_re_X509_tbs(x.get(), &tbs);
  if (tbs_len <= 0) fail("i2d_re_X509_tbs");
  const std::string tbs_der(reinterpret_cast<char*>(tbs), static_cast<std::size_t>(tbs_len));
  OPENSSL_free(tbs);
  std::unique_ptr<STACK_OF(SCT), SctStackFree> list{sk_SCT_new_null()};
  for (std::size_t i = 0; i < logs.size(); ++i)
    sk_SCT_push(list.get(), sign_sct(*logs[i], CT_LOG_ENTRY_TYPE_PRECERT,
                                     key_hash + be(tbs_der.size(), 3) + tbs_der, when,
                                     corrupt_first && i == 0));
  if (X509_add1_ext_i2d(x.get(), NID_ct_precert_scts, list.get(), 0, X509V3_ADD_APPEND) != 1)
    fail("SCT list extension");
  if (X509_sign(x.get(), issuer.pkey(), EVP_sha256()) <= 0) fail("re-sign");
  const auto der = der_of(x.get());
  auto cert = certs::Certificate::from_der(der);
  if (!cert) fail("re-parse");
  return Issued{*cert, leaf.key};
}

std::string chrome_log_list_json(const std::vector<const TestCtLog*>& logs) {
  // One operator object per distinct operator name, in order of appearance.
  std::vector<std::string> ops;
  for (const auto* l : logs)
    if (std::find(ops.begin(), ops.end(), l->operator_name) == ops.end())
      ops.push_back(l->operator_name);
  std::string out = "{\"version\": \"test\", \"operators\": [";
  for (std::size_t o = 0; o < ops.size(); ++o) {
    out += std::string(o ? "," : "") + "{\"name\": \"" + ops[o] + "\", \"email\": [], \"logs\": [";
    bool first = true;
    for (const auto* l : logs) {
      if (l->operator_name != ops[o]) continue;
      out += std::string(first ? "" : ",") + "{\"description\": \"" + l->description +
             "\", \"log_id\": \"" + base64(l->log_id) + "\", \"key\": \"" + base64(l->key_der) +
             "\", \"url\": \"https://ct.example.test/\", \"mmd\": 86400, \"state\": "
             "{\"usable\": {\"timestamp\": \"2024-01-01T00:00:00Z\"}}}";
      first = false;
    }
    out += "]}";
  }
  return out + "]}\n";
}

std::string openssl_ct_log_list_cnf(const std::vector<const TestCtLog*>& logs) {
  std::string out = "enabled_logs = ";
  std::string sections;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const std::string name = "test_log_" + std::to_string(i);
    out += (i ? "," : "") + name;
    sections += "\n[" + name + "]\ndescription = " + logs[i]->description +
                "\nkey = " + base64(logs[i]->key_der) + "\n";
  }
  return out + "\n" + sections;
}

}  // namespace tlsprobe::testpki
