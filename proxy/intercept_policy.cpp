#include "proxy/intercept_policy.hpp"

#include "certs/leaf_minter.hpp"

namespace tlsprobe::proxy {

std::string_view to_string(OnUpstreamError p) {
  switch (p) {
    case OnUpstreamError::explain:
      return "explain";
    case OnUpstreamError::mirror:
      return "mirror";
    case OnUpstreamError::pass:
      return "pass";
  }
  return "explain";
}

std::string_view to_string(InterceptDecision d) {
  switch (d) {
    case InterceptDecision::intercept:
      return "intercept";
    case InterceptDecision::no_intercept:
      return "no_intercept";
    case InterceptDecision::pinned:
      return "pinned";
  }
  return "intercept";
}

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool host_glob_match(std::string_view pattern, std::string_view host) {
  // Classic two-pointer wildcard match with one backtrack point: linear, no recursion, so a
  // hostile pattern from a config file cannot blow up.
  std::size_t p = 0, h = 0, star = std::string_view::npos, mark = 0;
  while (h < host.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(host[h]))) {
      ++p;
      ++h;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = h;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      h = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

InterceptPolicy::InterceptPolicy(std::vector<std::string> no_intercept, std::size_t max_pinned)
    : max_pinned_(max_pinned) {
  for (auto& p : no_intercept) no_intercept_.push_back(certs::normalize_host(p));
}

InterceptDecision InterceptPolicy::decide(std::string_view host) const {
  const std::string h = certs::normalize_host(host);
  for (const auto& p : no_intercept_)
    if (host_glob_match(p, h)) return InterceptDecision::no_intercept;
  std::lock_guard lock(mutex_);
  if (pinned_.count(h)) return InterceptDecision::pinned;
  return InterceptDecision::intercept;
}

bool InterceptPolicy::mark_pinned(std::string_view host) {
  const std::string h = certs::normalize_host(host);
  std::lock_guard lock(mutex_);
  if (pinned_.size() >= max_pinned_) return false;
  return pinned_.insert(h).second;
}

std::size_t InterceptPolicy::pinned_count() const {
  std::lock_guard lock(mutex_);
  return pinned_.size();
}

}  // namespace tlsprobe::proxy
