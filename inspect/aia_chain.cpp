#include "inspect/aia_chain.hpp"

#include "certs/ascii.hpp"

#include <algorithm>

namespace tlsprobe::inspect {

RepairedChain repair_chain(const certs::Chain& sent, const std::vector<AiaFetch>& fetches,
                           const certs::TrustStore& trust) {
  RepairedChain r;
  r.combined = sent;
  const std::size_t sent_count = sent.size();
  for (const auto& f : fetches) {
    if (!f.ok) continue;
    for (const auto& c : f.certs)
      if (std::find(r.combined.begin(), r.combined.end(), c) == r.combined.end())
        r.combined.push_back(c);
  }
  r.path = certs::analyze_chain(r.combined, trust);
  if (r.path.end != certs::PathEnd::anchored) return r;
  bool uses_fetched = false;
  for (std::size_t idx : r.path.path) {
    if (idx >= r.combined.size()) continue;
    const auto& c = r.combined[idx];
    if (c.is_self_signed()) continue;  // a root: clients have it, servers need not send it
    if (idx >= sent_count) {
      uses_fetched = true;
      r.fetched_on_path.push_back(c.subject());
    }
    r.fullchain.push_back(c);
  }
  if (!uses_fetched) {
    r.fullchain.clear();
    r.fetched_on_path.clear();
  }
  return r;
}

certs::Chain chain_to_serve(const HandshakeObservation& obs, const certs::TrustStore& trust) {
  const auto r = repair_chain(obs.chain, obs.aia_fetches, trust);
  if (r.path.end != certs::PathEnd::anchored) return {};
  certs::Chain out;
  for (std::size_t idx : r.path.path)
    if (idx < r.combined.size() && !r.combined[idx].is_self_signed())
      out.push_back(r.combined[idx]);
  return out;
}

std::string next_aia_url(const RepairedChain& repaired) {
  if (repaired.path.end != certs::PathEnd::missing_issuer) return {};
  return repaired.path.missing_issuer_aia_url;
}

bool is_http_url(std::string_view url) {
  static constexpr std::string_view scheme = "http://";
  return url.size() > scheme.size() && certs::ascii_istarts_with(url, scheme);
}

}  // namespace tlsprobe::inspect
