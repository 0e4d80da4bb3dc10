// Known-bad roots: CA keys whose private half is public (so anyone can mint a certificate
// for any name that a machine trusting them accepts) or that browsers distrust after a
// compromise or misuse. Each entry is the SHA-256 of the DER SubjectPublicKeyInfo, as in
// Chromium's net/cert/cert_verify_proc_blocklist.inc, with a name and where it comes from.
// cert.known_bad_root (check_known_bad_root.cpp) looks up every certificate of the path.
//
// Matching on the key, not the certificate, catches re-issued certificates for the same key
// (Chromium blocks by SPKI for the same reason).
#pragma once

#include "certs/certificate.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tlsprobe::inspect {

enum class BadRootReason {
  key_published,  // the private key was extracted or shipped: anyone can impersonate any site
  distrusted,     // a compromised or misused CA that browsers block
};

std::string_view to_string(BadRootReason r);

struct KnownBadRoot {
  std::string_view spki_sha256;  // 64 lower-case hex digits
  std::string_view name;         // what the root is known as ("Superfish, Inc.")
  BadRootReason reason = BadRootReason::key_published;
  std::string_view source;  // where the hash and the story come from
};

// The list shipped with tlsprobe.
std::span<const KnownBadRoot> known_bad_roots();

// The entry for a SPKI hash (lower- or upper-case hex): the shipped list, then the entries a
// test added with TestOnlyKnownBadRoot. nullopt when the key is not known to be bad.
std::optional<KnownBadRoot> find_known_bad_root(std::string_view spki_sha256_hex);

// SHA-256 of the certificate's DER SubjectPublicKeyInfo, lower-case hex (computed by OpenSSL);
// empty when OpenSSL cannot encode the key.
std::string spki_sha256_hex(const certs::Certificate& cert);

// TEST HOOK, for tests only: nobody has the private keys of the shipped roots (that would be
// the point of shipping them), so a test cannot serve a chain that ends in one. While an
// object of this class lives, a copy of `entry` is also known bad; the destructor removes
// it. Thread-safe.
class TestOnlyKnownBadRoot {
 public:
  explicit TestOnlyKnownBadRoot(const KnownBadRoot& entry);
  ~TestOnlyKnownBadRoot();
  TestOnlyKnownBadRoot(const TestOnlyKnownBadRoot&) = delete;
  TestOnlyKnownBadRoot& operator=(const TestOnlyKnownBadRoot&) = delete;
};

}  // namespace tlsprobe::inspect
