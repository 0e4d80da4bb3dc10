// LeafMinter: mints the leaf certificate tlsprobe shows a client while intercepting.
//
// Profile of a minted leaf (PEERS.md section 3, point 6):
//   subject     CN = the requested host (or the upstream leaf's first SAN), O = "tlsprobe"
//               (the CN is omitted when longer than the 64 characters X.520 allows)
//   SANs        the upstream leaf's dNSName and iPAddress SANs plus the requested name; an IP
//               literal goes in as an iPAddress SAN, never as a dNSName
//   extensions  CA:FALSE (critical), keyUsage digitalSignature (critical), EKU serverAuth,
//               SKI, AKI = the CA's key id
//   validity    now - 1 h .. now + 30 days, never after the CA's notAfter (nor before its
//               notBefore)
//   key         one ECDSA P-256 key per LeafMinter (generated once per process)
//   signature   ECDSA-SHA256 by the CA, random 127-bit serial
// Nothing else is copied from the upstream leaf: not its dates, key, issuer, EKUs or name
// constraints, so a bad upstream property is never carried over into a clean-looking leaf.
// Whether to mint at all (explain / mirror / pass) is the proxy's policy, not this file's.
//
// Errors are data (MintResult), not exceptions: minting runs inside the proxy's handlers.
// Thread safety: mint() is const and may run on many threads at once.
#pragma once

#include "certs/authority.hpp"
#include "certs/certificate.hpp"
#include "certs/ossl.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace tlsprobe::certs {

inline constexpr std::chrono::hours kLeafBackdate{1};    // tolerate client clocks a bit slow
inline constexpr std::chrono::days kLeafValidity{30};    // short: a leaked leaf is soon useless
inline constexpr std::size_t kMaxCommonNameLength = 64;  // ub-common-name, RFC 5280 appendix A

// A minted leaf and what a TLS server needs to present it.
struct MintedLeaf {
  Certificate leaf;
  // What to send: the leaf, then the CA. The CA is the anchor, so sending it is not needed
  // for verification, but it lets people view and export it from the browser's certificate
  // viewer, and the proxy serves one chain shape for both the real and the throwaway CA.
  Chain chain;
  std::shared_ptr<EVP_PKEY> key;  // the minter's shared leaf key
};

enum class MintError {
  none,
  no_name,     // neither a requested host nor an upstream SAN
  bad_host,    // the requested host is not a valid DNS name or IP literal
  ca_expired,  // the CA's notAfter has passed: no leaf can be valid
  openssl,     // an OpenSSL call failed (detail has its error queue)
};

struct MintResult {
  std::shared_ptr<const MintedLeaf> leaf;  // null unless error == MintError::none
  MintError error = MintError::none;
  std::string detail;  // one line for logs; empty on success
  explicit operator bool() const { return leaf != nullptr; }
};

// Lower-case, trailing dot removed, IPv6 brackets removed: how requested names are compared,
// minted and used as cache keys ("WWW.Example.COM." and "www.example.com" are one name).
std::string normalize_host(std::string_view host);

class LeafMinter {
 public:
  // Generates the shared leaf key and precomputes the extensions every leaf carries.
  // Throws AuthorityError when the key cannot be generated (startup only).
  explicit LeafMinter(Authority ca);
  ~LeafMinter();
  LeafMinter(const LeafMinter&) = delete;
  LeafMinter& operator=(const LeafMinter&) = delete;

  // Mints a leaf for `requested_host` (SNI, or the CONNECT/Host name when the client sent
  // none) covering the upstream leaf's names too. `upstream_leaf` may be null (nothing known
  // about the upstream, e.g. the explain page for an unreachable host).
  MintResult mint(const Certificate* upstream_leaf, std::string_view requested_host) const;
  // Same, at an explicit time (tests).
  MintResult mint(const Certificate* upstream_leaf, std::string_view requested_host,
                  std::chrono::system_clock::time_point now) const;

  const Authority& authority() const { return ca_; }
  EVP_PKEY* leaf_key() const { return leaf_key_.get(); }

 private:
  struct Precomputed;
  Authority ca_;
  std::shared_ptr<EVP_PKEY> leaf_key_;
  std::unique_ptr<const Precomputed> pre_;
};

// Presents `leaf` on one server connection: certificate, key and chain set on the SSL itself
// (SSL_use_cert_and_key), replacing whatever the SSL_CTX had. This is the fast path: the proxy
// keeps one SSL_CTX for all intercepted clients and calls this per connection (before the
// handshake, or from the ClientHello/servername callback), so no SSL_CTX is built per host.
// Returns false (and leaves the error queue to openssl_errors()) when OpenSSL refuses.
bool use_minted_leaf(SSL* ssl, const MintedLeaf& leaf);

// A TLS server context presenting `leaf` (tests, tools; slower than use_minted_leaf per host:
// building an SSL_CTX costs far more than minting). TLS 1.2 minimum. Null on failure.
SslCtxPtr make_server_ctx(const MintedLeaf& leaf);

}  // namespace tlsprobe::certs
