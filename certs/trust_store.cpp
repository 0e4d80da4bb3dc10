#include "certs/trust_store.hpp"

#include "certs/pem.hpp"

#include <openssl/err.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace tlsprobe::certs {

struct TrustStore::Data {
  Chain anchors;
  std::unordered_set<std::string> sha256;
  // X509_NAME_hash of each anchor's subject -> index into anchors (confirmed with
  // X509_NAME_cmp: the hash is only a filter).
  std::unordered_multimap<unsigned long, std::size_t> by_subject;
  std::shared_ptr<X509_STORE> store;
};

namespace {

using Data = TrustStore::Data;

unsigned long name_hash(const X509_NAME* name) {
  int ok = 0;
  unsigned long h = X509_NAME_hash_ex(name, nullptr, nullptr, &ok);
  if (!ok) ERR_clear_error();
  return h;
}

X509StorePtr store_of(const Chain& anchors) {
  X509StorePtr store{X509_STORE_new()};
  if (!store) throw std::bad_alloc();
  for (const auto& a : anchors) {
    if (X509_STORE_add_cert(store.get(), a.x509()) != 1) {  // takes its own reference
      ERR_clear_error();                                    // a duplicate subject+serial: harmless
    }
  }
  return store;
}

std::shared_ptr<const Data> build(Chain anchors) {
  auto d = std::make_shared<Data>();
  for (auto& a : anchors) {
    if (!d->sha256.insert(a.sha256_hex()).second) continue;  // same certificate twice
    d->by_subject.emplace(name_hash(X509_get_subject_name(a.x509())), d->anchors.size());
    d->anchors.push_back(std::move(a));
  }
  d->store = std::shared_ptr<X509_STORE>(store_of(d->anchors));
  return d;
}

std::string system_bundle_path() {
  // Same lookup order as OpenSSL's own clients: the environment override first.
  if (const char* env = std::getenv(X509_get_default_cert_file_env()); env && *env) return env;
  std::error_code ec;
  const char* debian = "/etc/ssl/certs/ca-certificates.crt";
  if (std::filesystem::exists(debian, ec)) return debian;
  return X509_get_default_cert_file();
}

// The system bundle, parsed once per process (function-local static: thread-safe; a
// failure throws and is retried by the next caller).
const std::shared_ptr<const Data>& system_data() {
  static const std::shared_ptr<const Data> data = build(read_pem_file(system_bundle_path()));
  return data;
}

}  // namespace

TrustStore::TrustStore(SystemTrust system, const std::vector<std::string>& extra_pem_files) {
  if (system == SystemTrust::include && extra_pem_files.empty()) {
    data_ = system_data();  // the common case shares everything
    return;
  }
  Chain all;
  if (system == SystemTrust::include) all = system_data()->anchors;
  for (const auto& path : extra_pem_files) {
    Chain extra = read_pem_file(path);
    all.insert(all.end(), std::make_move_iterator(extra.begin()),
               std::make_move_iterator(extra.end()));
  }
  data_ = build(std::move(all));
}

TrustStore TrustStore::from_anchors(const Chain& anchors, SystemTrust system) {
  TrustStore t;
  Chain all;
  if (system == SystemTrust::include) all = system_data()->anchors;
  all.insert(all.end(), anchors.begin(), anchors.end());
  t.data_ = build(std::move(all));
  return t;
}

X509StorePtr TrustStore::make_store() const { return store_of(data_->anchors); }

const std::shared_ptr<X509_STORE>& TrustStore::shared_store() const { return data_->store; }

const Chain& TrustStore::anchors() const { return data_->anchors; }

std::size_t TrustStore::size() const { return data_->anchors.size(); }

bool TrustStore::is_anchor(const Certificate& cert) const {
  return data_->sha256.count(cert.sha256_hex()) != 0;
}

bool TrustStore::is_system_anchor(const Certificate& cert) const {
  // The system bundle is read once per process; only consulted for an anchor of this store.
  return is_anchor(cert) && system_data()->sha256.count(cert.sha256_hex()) != 0;
}

Chain TrustStore::find_issuers(const Certificate& cert) const {
  Chain out;
  const X509_NAME* issuer = X509_get_issuer_name(cert.x509());
  auto [lo, hi] = data_->by_subject.equal_range(name_hash(issuer));
  for (auto it = lo; it != hi; ++it) {
    const Certificate& a = data_->anchors[it->second];
    if (X509_NAME_cmp(X509_get_subject_name(a.x509()), issuer) != 0) continue;
    EVP_PKEY* key = X509_get0_pubkey(a.x509());  // borrowed
    if (key && X509_verify(cert.x509(), key) == 1) out.push_back(a);
  }
  ERR_clear_error();
  return out;
}

}  // namespace tlsprobe::certs
