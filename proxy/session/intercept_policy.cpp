#include "proxy/session/intercept_policy.hpp"

#include "certs/ascii.hpp"
#include "certs/leaf_minter.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

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

bool host_glob_match(std::string_view pattern, std::string_view host) {
  // Classic two-pointer wildcard match with one backtrack point: linear, no recursion, so a
  // hostile pattern from a config file cannot blow up.
  std::size_t p = 0, h = 0, star = std::string_view::npos, mark = 0;
  while (h < host.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || certs::ascii_lower(pattern[p]) == certs::ascii_lower(host[h]))) {
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

InterceptPolicy::InterceptPolicy(std::vector<std::string> no_intercept, std::size_t max_pinned,
                                 std::chrono::seconds pin_ttl, SteadyNow now)
    : max_pinned_(max_pinned), pin_ttl_(pin_ttl), now_(std::move(now)) {
  for (auto& p : no_intercept) no_intercept_.push_back(certs::normalize_host(p));
}

std::chrono::steady_clock::time_point InterceptPolicy::now() const {
  return now_ ? now_() : std::chrono::steady_clock::now();
}

void InterceptPolicy::drop_expired(std::chrono::steady_clock::time_point t) {
  std::erase_if(pinned_, [t](const auto& kv) { return kv.second.expires <= t; });
}

InterceptDecision InterceptPolicy::decide(std::string_view client, std::string_view host) const {
  const std::string h = certs::normalize_host(host);
  for (const auto& p : no_intercept_)
    if (host_glob_match(p, h)) return InterceptDecision::no_intercept;
  const auto t = now();
  std::lock_guard lock(mutex_);
  const auto it = pinned_.find({std::string(client), h});
  if (it != pinned_.end() && it->second.expires > t) return InterceptDecision::pinned;
  return InterceptDecision::intercept;
}

bool InterceptPolicy::mark_pinned(std::string_view client, std::string_view host) {
  const auto t = now();
  std::pair<std::string, std::string> key{std::string(client), certs::normalize_host(host)};
  std::lock_guard lock(mutex_);
  if (auto it = pinned_.find(key); it != pinned_.end()) {
    if (it->second.expires > t) return false;
    pinned_.erase(it);
  }
  if (pinned_.size() >= max_pinned_) drop_expired(t);
  if (pinned_.size() >= max_pinned_) return false;
  pinned_.emplace(std::move(key), Entry{t + pin_ttl_, std::chrono::system_clock::now()});
  return true;
}

std::vector<Pin> InterceptPolicy::pins() const {
  const auto t = now();
  std::vector<Pin> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, e] : pinned_)
      if (e.expires > t)
        out.push_back(Pin{key.first, key.second, e.since,
                          std::chrono::ceil<std::chrono::seconds>(e.expires - t)});
  }
  std::sort(out.begin(), out.end(), [](const Pin& a, const Pin& b) { return a.since < b.since; });
  return out;
}

std::size_t InterceptPolicy::clear_pins() {
  std::lock_guard lock(mutex_);
  const std::size_t n = pinned_.size();
  pinned_.clear();
  return n;
}

std::size_t InterceptPolicy::pinned_count() const {
  const auto t = now();
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& kv : pinned_)
    if (kv.second.expires > t) ++n;
  return n;
}

}  // namespace tlsprobe::proxy
