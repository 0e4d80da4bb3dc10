#include "proxy/observe/logged_finding.hpp"

#include "inspect/codes.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

std::string finding_dedup_key(const inspect::Finding& f) {
  // code|subject|k=v|…, appended piece by piece into one buffer (a certificate finding has
  // some twenty evidence entries).
  std::string key;
  key.reserve(256);
  key += f.code;
  key += '|';
  key += f.subject;
  for (const auto& [k, v] : f.evidence)
    if (f.code != inspect::codes::http_hsts_missing || k == "hsts") {
      key += '|';
      key += k;
      key += '=';
      key += v;
    }
  return key;
}

LoggedFinding::LoggedFinding(inspect::Finding f)
    : finding_(std::move(f)), dedup_key_(finding_dedup_key(finding_)) {}

FindingList::FindingList(std::initializer_list<inspect::Finding> findings) {
  refs_.reserve(findings.size());
  for (const auto& f : findings) push_back(f);
}

FindingList::FindingList(inspect::Findings findings) {
  refs_.reserve(findings.size());
  for (auto& f : findings) push_back(std::move(f));
}

void FindingList::push_back(inspect::Finding f) {
  refs_.push_back(std::make_shared<const LoggedFinding>(std::move(f)));
}

inspect::Findings FindingList::copy() const { return inspect::Findings(begin(), end()); }

void sort_by_severity(FindingList& findings) {
  const auto worse = [](const FindingRef& a, const FindingRef& b) {
    return inspect::worse_severity(a->finding(), b->finding());
  };
  auto& refs = findings.refs();
  // Nearly always in order already (the probe's sorted findings, then the client's).
  if (std::is_sorted(refs.begin(), refs.end(), worse)) return;
  std::stable_sort(refs.begin(), refs.end(), worse);
}

}  // namespace tlsprobe::proxy
