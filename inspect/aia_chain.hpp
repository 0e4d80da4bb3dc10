// The chain a server sent, repaired with the issuers fetched from AIA URLs: which
// certificates then form the path, and the fullchain a server should send instead. Pure:
// the prober uses it to decide the next hop, diagnosis to judge the repair, and
// `tlsprobe probe --fullchain-out` writes its fullchain.
#pragma once

#include "certs/chain_path.hpp"
#include "certs/trust_store.hpp"
#include "inspect/observation.hpp"

#include <string>

namespace tlsprobe::inspect {

struct RepairedChain {
  certs::Chain combined;  // the chain as sent, then each fetched certificate not already there
  certs::ChainPath path;  // certs::analyze_chain(combined, trust)
  // When path.end is anchored and a fetched certificate other than a root is on the path:
  // the leaf, then the intermediates in issuer order (sent and fetched), without self-signed
  // roots (clients have those; nginx `ssl_certificate` wants exactly this). Empty otherwise.
  certs::Chain fullchain;
  // Subjects (RFC 4514) of the fetched certificates in `fullchain`, in issuer order.
  std::vector<std::string> fetched_on_path;
};

RepairedChain repair_chain(const certs::Chain& sent, const std::vector<AiaFetch>& fetches,
                           const certs::TrustStore& trust);

// The chain `obs`'s server should send, ready for nginx `ssl_certificate`: the leaf, then
// the intermediates in issuer order (sent and fetched), no self-signed root, nothing extra.
// Empty when even with the fetched issuers the path reaches no anchor of `trust`.
certs::Chain chain_to_serve(const HandshakeObservation& obs, const certs::TrustStore& trust);

// The caIssuers URL to fetch next for `repaired` (the AIA URL of the certificate the path
// stops at), or empty when nothing is missing or that certificate names no URL.
std::string next_aia_url(const RepairedChain& repaired);

// True for an http:// URL (case-insensitive scheme): Chrome fetches only those, and a
// CA Issuers URL over https would need a trusted chain to fetch a chain.
bool is_http_url(std::string_view url);

}  // namespace tlsprobe::inspect
