// Pure analysis of a presented chain against a trust store: which certificates form the
// path from the leaf to an anchor, whether they were sent in order, what is extra, and
// which issuer is missing. No time and no name are involved here (see verify.hpp).
#pragma once

#include "certs/certificate.hpp"
#include "certs/trust_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::certs {

enum class PathEnd {
  anchored,        // the path reaches a trust anchor (sent or from the store)
  untrusted_root,  // the path ends in a self-signed certificate that is not an anchor
  missing_issuer,  // the path stops at a certificate whose issuer was neither sent nor trusted
  leaf_self_signed,  // the leaf itself is self-signed and not an anchor
  empty,           // nothing was presented
};

struct ChainPath {
  PathEnd end = PathEnd::empty;
  // Indices into the presented chain, leaf first, in issuer order.
  std::vector<std::size_t> path;
  // The anchor the path ends in (from the store or the presented chain), when anchored.
  std::optional<Certificate> anchor;
  bool anchor_was_sent = false;  // the trust anchor itself was in the presented chain
  // The presented chain is leaf first and each following certificate issued the one before
  // it (extra certificates after the path do not make it wrong).
  bool in_order = true;
  // Indices of presented certificates that are not on the path (and are not the anchor).
  std::vector<std::size_t> extra;
  // When end == missing_issuer: the issuer DN that is missing (RFC 4514) and the AIA
  // CA Issuers URL of the last certificate on the path, if any.
  std::string missing_issuer;
  std::string missing_issuer_aia_url;
  // When end == untrusted_root: index into the presented chain of the root sent.
  std::optional<std::size_t> untrusted_root_index;
};

// Builds the path from presented[0] (the leaf: the first certificate sent). A certificate
// issues another when its subject equals the other's issuer and its key verifies the
// other's signature.
ChainPath analyze_chain(const Chain& presented, const TrustStore& trust);

}  // namespace tlsprobe::certs
