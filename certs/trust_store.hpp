// TrustStore: the trust anchors a client would use. By default the system store (the
// Debian ca-certificates bundle, as curl and OpenSSL use it) plus anchors the user adds
// with --ca-file; replacing the system store is an explicit choice (--no-system-trust).
#pragma once

#include "certs/certificate.hpp"

#include <memory>
#include <string>
#include <vector>

namespace tlsprobe::certs {

enum class SystemTrust { include, exclude };

class TrustStore {
 public:
  // Loads the system store (when `system` is include) and each extra PEM file.
  // Throws PemError naming the file when one cannot be read or holds no certificate.
  // The system bundle is $SSL_CERT_FILE when set (as OpenSSL and curl do), else
  // /etc/ssl/certs/ca-certificates.crt, else OpenSSL's default cert file. It is read once
  // per process; a system-only TrustStore is then free to construct.
  // Copies are cheap: they share the immutable anchor set.
  explicit TrustStore(SystemTrust system, const std::vector<std::string>& extra_pem_files = {});
  // Anchors given in memory (tests).
  static TrustStore from_anchors(const Chain& anchors, SystemTrust system = SystemTrust::exclude);

  // A fresh X509_STORE holding every anchor (callers may set flags/time on it). Never null.
  X509StorePtr make_store() const;
  // One prepared X509_STORE shared by every copy of this TrustStore (what verify_chain uses;
  // building a store from ~150 system roots costs about a millisecond). READ-ONLY: never add
  // certificates to it or change its flags or parameters -- set time, host and flags on the
  // X509_STORE_CTX. Safe for concurrent verifications and for SSL_CTX_set1_cert_store
  // (which only takes a reference). Never null.
  const std::shared_ptr<X509_STORE>& shared_store() const;
  // Every anchor, deduplicated (system first, then extra files in order).
  const Chain& anchors() const;
  // True when this exact certificate (by SHA-256) is an anchor.
  bool is_anchor(const Certificate& cert) const;
  // True when it is an anchor of the system store (not only one added with --ca-file):
  // what browsers call a public root, to which the CT policy applies.
  bool is_system_anchor(const Certificate& cert) const;
  // Anchors whose subject equals `cert`'s issuer and whose key verifies `cert`'s signature.
  Chain find_issuers(const Certificate& cert) const;
  std::size_t size() const;

  struct Data;  // anchors, their index by subject, the prepared store

 private:
  TrustStore() = default;
  std::shared_ptr<const Data> data_;
};

}  // namespace tlsprobe::certs
