// ProbeCache: results of side probes keyed by "host:port|sni", kept for a TTL, with
// in-flight sharing: while one probe for a key runs, every other connection for that key
// waits on it instead of starting its own (one probe for many connections).
// Thread-safe; waiters are called outside the lock, on the thread that completes the probe
// (or inline, on the caller's thread, for a cache hit).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tlsprobe::proxy {

enum class CacheAnswer {
  hit,      // a fresh value was there; the waiter has already been called
  joined,   // a probe for this key is running; the waiter is called when it ends
  started,  // nothing cached or running: the caller must run the probe and complete() it
};

template <class Value>
class ProbeCache {
 public:
  using ValuePtr = std::shared_ptr<const Value>;
  // `from_cache` is true when the value was already cached when the waiter asked.
  using Waiter = std::function<void(ValuePtr value, bool from_cache)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit ProbeCache(
      std::chrono::steady_clock::duration ttl, std::size_t max_entries = 10'000,
      Clock clock = [] { return std::chrono::steady_clock::now(); })
      : ttl_(ttl), max_entries_(max_entries), clock_(std::move(clock)) {}

  CacheAnswer get_or_join(const std::string& key, Waiter waiter) {
    ValuePtr hit;
    {
      std::lock_guard lock(mutex_);
      const auto now = clock_();
      auto& e = entries_[key];
      if (e.value && now < e.expires) {
        hit = e.value;
        ++hits_;
      } else if (e.in_flight) {
        e.waiters.push_back(std::move(waiter));
        ++joins_;
        return CacheAnswer::joined;
      } else {
        e.in_flight = true;
        e.waiters.push_back(std::move(waiter));
        ++started_;
        return CacheAnswer::started;
      }
    }
    waiter(std::move(hit), true);
    return CacheAnswer::hit;
  }

  // Stores the result of a started probe and calls every waiter.
  void complete(const std::string& key, ValuePtr value) { complete(key, std::move(value), ttl_); }

  // Same, kept for `ttl` instead of the cache's own (e.g. failures for less time).
  void complete(const std::string& key, ValuePtr value, std::chrono::steady_clock::duration ttl) {
    std::vector<Waiter> waiters;
    {
      std::lock_guard lock(mutex_);
      auto& e = entries_[key];
      e.value = value;
      e.expires = clock_() + ttl;
      e.in_flight = false;
      waiters.swap(e.waiters);
      evict_locked();
    }
    for (auto& w : waiters) w(value, false);
  }

  // The fresh value for `key`, or null; starts nothing, joins nothing, counts nothing.
  ValuePtr peek(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.value || clock_() >= it->second.expires) return {};
    return it->second.value;
  }

  std::uint64_t probes_started() const {
    std::lock_guard lock(mutex_);
    return started_;
  }
  std::uint64_t hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
  }
  std::uint64_t joins() const {
    std::lock_guard lock(mutex_);
    return joins_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    ValuePtr value;
    std::chrono::steady_clock::time_point expires{};
    bool in_flight = false;
    std::vector<Waiter> waiters;
  };

  // Bounded: drop expired idle entries first; if still too many, drop idle ones in key order.
  void evict_locked() {
    if (entries_.size() <= max_entries_) return;
    const auto now = clock_();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (!it->second.in_flight && it->second.expires <= now)
        it = entries_.erase(it);
      else
        ++it;
    }
    for (auto it = entries_.begin(); entries_.size() > max_entries_ && it != entries_.end();) {
      if (!it->second.in_flight)
        it = entries_.erase(it);
      else
        ++it;
    }
  }

  const std::chrono::steady_clock::duration ttl_;
  const std::size_t max_entries_;
  const Clock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::uint64_t started_ = 0, hits_ = 0, joins_ = 0;
};

}  // namespace tlsprobe::proxy
