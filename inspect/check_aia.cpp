// What the issuers fetched from AIA URLs prove about an incomplete chain. Chrome fetches a
// missing intermediate from the caIssuers URL and then shows nothing; every other client
// fails. So the chain.incomplete finding says which of these the fetch proved:
//  - the fetched issuer completes a path to a trust anchor: serving it fixes the chain;
//  - even with the fetched issuer there is no trusted path (an internal root, a wrong file);
//  - the fetch failed (the URL is dead, slow, too large, not a certificate).
// Pure: the fetches were made by the prober and are in the observation.
#include "inspect/aia_chain.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

namespace tlsprobe::inspect::detail {

namespace {

// The finding that says the issuer is missing: chain.incomplete, or (before the rule that
// calls every missing issuer incomplete) chain.untrusted_root for an issuer not sent.
Finding* missing_issuer_finding(Findings& group) {
  for (auto& f : group)
    if (f.code == codes::chain_incomplete) return &f;
  for (auto& f : group) {
    auto it = f.evidence.find("root_sent");
    if (f.code == codes::chain_untrusted_root && it != f.evidence.end() && it->second == "false")
      return &f;
  }
  return nullptr;
}

// "CN=Example Issuing CA" when the certificate has a CN, else its whole DN.
std::string short_name(const certs::Certificate& c) {
  return c.common_name().empty() ? c.subject() : "CN=" + c.common_name();
}

std::string fetches_text(const std::vector<AiaFetch>& fetches) {
  std::vector<std::string> parts;
  for (const auto& f : fetches) {
    std::string p = f.url + " -> ";
    if (f.ok) {
      std::vector<std::string> names;
      for (const auto& c : f.certs) names.push_back(short_name(c));
      p += join(names, " + ");
    } else {
      p += "failed: " + f.error;
    }
    if (f.from_cache) p += " (cached)";
    parts.push_back(std::move(p));
  }
  return join(parts, "; ");
}

// Why the repaired chain still has no trusted path, in words.
std::string no_path_reason(const RepairedChain& r, const certs::VerifyResult& v) {
  switch (r.path.end) {
    case certs::PathEnd::untrusted_root: {
      const std::size_t i = r.path.untrusted_root_index.value_or(0);
      if (i < r.combined.size())
        return "it ends at " + r.combined[i].subject() + ", which is not a trusted root";
      break;
    }
    case certs::PathEnd::missing_issuer:
      return "the issuer " + r.path.missing_issuer + " is still missing";
    default:
      break;
  }
  return "OpenSSL: " + v.openssl_text;
}

// Turns an untrusted_root "not sent" finding into chain.incomplete once a fetched issuer
// proves the missing certificate was an intermediate.
void make_incomplete(Finding& f) {
  if (f.code == codes::chain_incomplete) return;
  f.code = std::string(codes::chain_incomplete);
  f.evidence.erase("root");
  f.evidence.erase("root_sent");
  f.message.clear();
  f.remedy.clear();
  f.equivalents.clear();
  explain(f);
}

}  // namespace

void check_aia(const HandshakeFacts& facts, const certs::TrustStore& trust, Findings& group) {
  const auto& obs = *facts.obs;
  if (obs.aia_fetches.empty()) return;
  Finding* f = missing_issuer_finding(group);
  if (!f) return;

  const auto repaired = repair_chain(obs.chain, obs.aia_fetches, trust);
  f->evidence["aia_fetches"] = fetches_text(obs.aia_fetches);
  const AiaFetch& first = obs.aia_fetches.front();
  const AiaFetch* failed = nullptr;
  for (const auto& a : obs.aia_fetches)
    if (!a.ok) failed = &a;

  // The path is only about trust here: dates and names have findings of their own.
  certs::VerifyOptions vo;
  vo.at = facts.verify_at;
  vo.check_time = false;
  const auto verify = repaired.fullchain.empty()
                          ? certs::VerifyResult{}
                          : certs::verify_chain(repaired.fullchain, trust, vo);

  if (!repaired.fullchain.empty() && verify.ok) {
    std::vector<std::string> added, full;
    for (const auto& c : repaired.fullchain) full.push_back(c.subject());
    for (std::size_t i = 0; i < repaired.combined.size(); ++i) {
      if (i < obs.chain.size()) continue;
      for (std::size_t idx : repaired.path.path)
        if (idx == i && !repaired.combined[i].is_self_signed())
          added.push_back(short_name(repaired.combined[i]));
    }
    if (added.empty()) added.push_back("the fetched issuer");
    make_incomplete(*f);
    f->evidence["aia_result"] = "completes";
    f->evidence["aia_fetched"] = join(added, " + ");
    f->evidence["fullchain"] = join(full, " | ");
    f->message += " Fetched as Chrome does: the chain completes with " + join(added, " + ") +
                  " from " + first.url + "; serving it fixes this.";
    f->remedy +=
        " `tlsprobe probe --fullchain-out fullchain.pem` writes the repaired chain (leaf, then "
        "intermediates, no root) for nginx `ssl_certificate`.";
    return;
  }
  if (failed && repaired.path.end == certs::PathEnd::missing_issuer) {
    f->evidence["aia_result"] = "fetch_failed";
    f->evidence["aia_error"] = failed->error;
    f->message += " Fetching the issuer from " + failed->url + " failed (" + failed->error +
                  "), so Chrome cannot complete the chain either.";
    f->remedy +=
        " Also fix the caIssuers URL: it must serve the issuer (DER or PKCS#7) over "
        "plain http.";
    return;
  }
  f->evidence["aia_result"] = "no_trusted_path";
  f->evidence["aia_reason"] = no_path_reason(repaired, verify);
  std::vector<std::string> got;
  for (const auto& a : obs.aia_fetches)
    for (const auto& c : a.certs) got.push_back(short_name(c));
  f->message += " Even with the fetched issuer (" + join(got, " + ") + " from " + first.url +
                ") there is no trusted path: " + f->evidence["aia_reason"] + ".";
}

}  // namespace tlsprobe::inspect::detail
