#include "certs/chain_path.hpp"

#include <openssl/err.h>

#include <algorithm>

namespace tlsprobe::certs {

bool issued_by(const Certificate& child, const Certificate& issuer) {
  if (X509_NAME_cmp(X509_get_subject_name(issuer.x509()), X509_get_issuer_name(child.x509())) != 0)
    return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer.x509());  // borrowed
  bool ok = key && X509_verify(child.x509(), key) == 1;
  ERR_clear_error();
  return ok;
}

ChainPath analyze_chain(const Chain& presented, const TrustStore& trust) {
  ChainPath r;
  const std::size_t n = presented.size();
  if (n == 0) return r;
  constexpr std::size_t max_path = 10;

  // Later copies of a certificate are duplicates: never on the path, always extra.
  std::vector<bool> dup(n, false);
  for (std::size_t i = 1; i < n; ++i)
    for (std::size_t j = 0; j < i && !dup[i]; ++j) dup[i] = presented[i] == presented[j];

  // issues(i, j): presented[i] issued presented[j]. Memoised: signature checks cost.
  std::vector<signed char> memo(n * n, -1);
  auto issues = [&](std::size_t i, std::size_t j) {
    signed char& m = memo[i * n + j];
    if (m < 0) m = i != j && issued_by(presented[j], presented[i]) ? 1 : 0;
    return m == 1;
  };

  std::size_t leaf = 0;
  if (presented[0].is_ca()) {
    for (std::size_t i = 1; i < n; ++i) {
      if (dup[i] || presented[i].is_ca()) continue;
      bool issues_other = false;
      for (std::size_t j = 0; j < n && !issues_other; ++j) issues_other = !dup[j] && issues(i, j);
      if (!issues_other) {
        leaf = i;
        break;
      }
    }
  }

  std::vector<bool> on_path(n, false);
  auto push = [&](std::size_t i) {
    r.path.push_back(i);
    on_path[i] = true;
  };
  auto sent_index_of = [&](const Certificate& c) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < n; ++i)
      if (!dup[i] && presented[i] == c) return i;
    return std::nullopt;
  };
  auto missing = [&](const Certificate& c) {
    r.end = PathEnd::missing_issuer;
    r.missing_issuer = c.issuer();
    r.missing_issuer_aia_url = c.aia_issuer_url();
  };

  push(leaf);
  std::size_t cur = leaf;
  for (;;) {
    const Certificate& c = presented[cur];
    if (trust.is_anchor(c)) {
      r.end = PathEnd::anchored;
      r.anchor = c;
      r.anchor_was_sent = true;
      break;
    }
    Chain store_issuers = trust.find_issuers(c);
    if (c.is_self_signed()) {
      if (!store_issuers.empty()) {  // same subject and key: the same root, re-issued
        r.end = PathEnd::anchored;
        r.anchor = store_issuers.front();
        r.anchor_was_sent = true;
      } else if (cur == leaf) {
        r.end = PathEnd::leaf_self_signed;
      } else {
        r.end = PathEnd::untrusted_root;
        r.untrusted_root_index = cur;
      }
      break;
    }
    if (!store_issuers.empty()) {
      // Prefer a self-signed anchor (a root) over a cross-signed one in the store.
      auto it = std::find_if(store_issuers.begin(), store_issuers.end(),
                             [](const Certificate& a) { return a.is_self_signed(); });
      const Certificate& anchor = it != store_issuers.end() ? *it : store_issuers.front();
      r.end = PathEnd::anchored;
      r.anchor = anchor;
      if (auto k = sent_index_of(anchor); k && !on_path[*k]) {
        push(*k);
        r.anchor_was_sent = true;
      }
      break;
    }
    if (r.path.size() >= max_path) {
      missing(c);
      break;
    }
    std::optional<std::size_t> next;
    for (std::size_t j = 0; j < n; ++j) {
      if (dup[j] || on_path[j] || !issues(j, cur)) continue;
      if (!next || (*next < cur && j > cur)) next = j;  // the next one sent wins
      if (*next > cur) break;
    }
    if (!next) {
      missing(c);
      break;
    }
    push(*next);
    cur = *next;
  }

  std::vector<std::size_t> sent_order;
  for (std::size_t i = 0; i < n; ++i)
    if (!dup[i]) sent_order.push_back(i);
  r.in_order = r.path.size() <= sent_order.size() &&
               std::equal(r.path.begin(), r.path.end(), sent_order.begin());
  for (std::size_t i = 0; i < n; ++i)
    if (!on_path[i]) r.extra.push_back(i);
  return r;
}

}  // namespace tlsprobe::certs
