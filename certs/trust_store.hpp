// TrustStore: the trust anchors a client would use. By default the system store (the
// Debian ca-certificates bundle, as curl and OpenSSL use it) plus anchors the user adds
// with --ca-file; replacing the system store is an explicit choice (--no-system-trust).
#pragma once

#include "certs/certificate.hpp"

#include <string>
#include <vector>

namespace tlsprobe::certs {

enum class SystemTrust { include, exclude };

class TrustStore {
 public:
  // Loads the system store (when `system` is include) and each extra PEM file.
  // Throws PemError naming the file when one cannot be read or holds no certificate.
  explicit TrustStore(SystemTrust system, const std::vector<std::string>& extra_pem_files = {});
  // Anchors given in memory (tests).
  static TrustStore from_anchors(const Chain& anchors, SystemTrust system = SystemTrust::exclude);

  // A fresh X509_STORE holding every anchor (callers may set flags/time on it). Never null.
  X509StorePtr make_store() const;
  // True when this exact certificate (by SHA-256) is an anchor.
  bool is_anchor(const Certificate& cert) const;
  // Anchors whose subject equals `cert`'s issuer and whose key verifies `cert`'s signature.
  Chain find_issuers(const Certificate& cert) const;
  std::size_t size() const { return anchors_.size(); }

 private:
  TrustStore() = default;
  Chain anchors_;
};

}  // namespace tlsprobe::certs
