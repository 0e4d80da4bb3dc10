// OcspResponder: OpenSSL's own OCSP responder (`openssl ocsp -index … -port …`) as a child
// process on 127.0.0.1, answering from a CA index it is given (good, revoked, and unknown for
// serials it does not list), signing with the key it is given (the issuer's, or on purpose a
// wrong one). Stopped (SIGTERM, then SIGKILL) in the destructor.
#pragma once

#include "pki/test_pki.hpp"

#include <sys/types.h>
#include <cstdint>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

struct OcspIndexEntry {
  certs::Certificate cert;
  bool revoked = false;
  std::string reason = "keyCompromise";  // with revoked
};

class OcspResponder {
 public:
  // Serves on `port` (pick one with unused_port(): the leaf's AIA names it before the
  // responder runs). `ca` is the issuer whose certificates the index lists; `signer` signs
  // the responses (normally `ca` itself).
  OcspResponder(std::uint16_t port, const testpki::Issued& ca, const testpki::Issued& signer,
                const std::vector<OcspIndexEntry>& index);
  ~OcspResponder();
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string log() const;  // its stdout and stderr so far

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tlsprobe::testsupport
