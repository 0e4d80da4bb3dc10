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
  anchored,          // the path reaches a trust anchor (sent or from the store)
  untrusted_root,    // the path ends in a self-signed certificate that is not an anchor
  missing_issuer,    // the path stops at a certificate whose issuer was neither sent nor trusted
  leaf_self_signed,  // the leaf itself is self-signed and not an anchor
  empty,             // nothing was presented
};

struct ChainPath {
  PathEnd end = PathEnd::empty;
  // Indices into the presented chain, leaf first, in issuer order (a sent anchor included).
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

// Builds the path from the leaf. A certificate issues another when its subject equals the
// other's issuer (X509_NAME_cmp) and its key verifies the other's signature.
//
// Which certificate is the leaf: presented[0] when it is not a CA (the normal case).
// When presented[0] is a CA (e.g. [intermediate, leaf] sent in the wrong order), the leaf is
// the first non-CA certificate that issues no other presented certificate; if there is none,
// presented[0] (a CA certificate served as the server's own certificate).
//
// Walking up from the leaf, at each certificate, in this order:
//  1. it is itself an anchor (by SHA-256; also the leaf or an intermediate) -> anchored,
//     anchor = it, anchor_was_sent = true, it is the last index of `path`;
//  2. it is self-signed: a store anchor with the same subject and key (a re-issued copy of
//     the same root) -> anchored at that store anchor, anchor_was_sent = true; otherwise
//     leaf_self_signed (when it is the leaf) or untrusted_root (untrusted_root_index);
//  3. a store anchor issues it -> anchored there (preferred to a sent issuer, so a sent
//     cross-signed copy of a store root, or an old cross-sign, ends up in `extra` and the
//     path is the one clients verify); when that anchor's exact certificate was sent, its
//     index ends `path` and anchor_was_sent = true;
//  4. a presented certificate not yet on the path issues it (the next one in sent order
//     preferred) -> continue from there;
//  5. otherwise missing_issuer (missing_issuer = its issuer DN, missing_issuer_aia_url =
//     its AIA URL). The path is at most 10 certificates (then also missing_issuer).
// Duplicates are extra and do not make the chain out of order: in_order means that, ignoring
// repeated certificates, the presented chain starts with `path` in that order.
ChainPath analyze_chain(const Chain& presented, const TrustStore& trust);

// True when `issuer`'s subject equals `child`'s issuer and `issuer`'s key verifies `child`.
bool issued_by(const Certificate& child, const Certificate& issuer);

}  // namespace tlsprobe::certs
