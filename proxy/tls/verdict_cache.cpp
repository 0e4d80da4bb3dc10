#include "proxy/tls/verdict_cache.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

VerdictCache::VerdictCache(std::chrono::seconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(std::max<std::size_t>(max_entries, 1)) {}

std::shared_ptr<const UpstreamVerdict> VerdictCache::find(const std::string& key,
                                                          Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.expires) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return it->second.verdict;
}

void VerdictCache::store(const std::string& key, std::shared_ptr<const UpstreamVerdict> verdict,
                         Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries_ && entries_.find(key) == entries_.end()) {
    std::erase_if(entries_, [now](const auto& e) { return now >= e.second.expires; });
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_[key] = Entry{std::move(verdict), now + ttl_};
}

std::size_t VerdictCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t VerdictCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t VerdictCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace tlsprobe::proxy
