// VerdictCache: the one cache of upstream verdicts (intercept's upstreams and reverse's
// origins), keyed by what the verdict vouches for (UpstreamTls::verdict_key: the verified
// name and the chain's SHA-256s), for a TTL (DESIGN.md section 8: a new connection to a
// known upstream costs its handshakes and nothing more).
//
// Bounded (STYLE.md habit 4): at `max_entries`, expired entries go first; when every entry
// is still fresh (an upstream that changes its chain on every connection) the whole cache
// is dropped, which costs a verification per connection until it fills again, never memory.
// Thread-safe. Times are arguments (steady clock), so the rules are unit-tested without
// sleeping.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tlsprobe::proxy {

struct UpstreamVerdict;

class VerdictCache {
 public:
  using Clock = std::chrono::steady_clock;
  VerdictCache(std::chrono::seconds ttl, std::size_t max_entries);

  // The verdict stored under `key` and still fresh at `now`, or null. Counts a hit or a miss.
  std::shared_ptr<const UpstreamVerdict> find(const std::string& key,
                                              Clock::time_point now = Clock::now());
  // Stores (or replaces) `key`, fresh until now + ttl.
  void store(const std::string& key, std::shared_ptr<const UpstreamVerdict> verdict,
             Clock::time_point now = Clock::now());

  std::size_t size() const;
  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Entry {
    std::shared_ptr<const UpstreamVerdict> verdict;
    Clock::time_point expires;
  };
  const std::chrono::seconds ttl_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace tlsprobe::proxy
