// MintCache: minted leaves by (requested name, upstream leaf SHA-256), bounded LRU.
//
// Thread-safe. Concurrent requests for one key share one mint: the first caller mints, the
// others wait on the same shared future (sslsplit's cachefkcrt keys by the original's
// fingerprint the same way; elazarl/goproxy #430 shows what minting per request costs).
// A failed mint is handed to every waiter and not kept, so the next request tries again.
// A leaf with less than kMintRefreshMargin of validity left is minted again.
#pragma once

#include "certs/leaf_minter.hpp"

#include <chrono>
#include <cstdint>
#include <future>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tlsprobe::certs {

inline constexpr std::size_t kMintCacheCapacity = 4096;
inline constexpr std::chrono::hours kMintRefreshMargin{1};

struct MintCacheStats {
  std::uint64_t hits = 0;       // served from the cache (including waits on a mint in flight)
  std::uint64_t misses = 0;     // mints started
  std::uint64_t coalesced = 0;  // hits that waited on another caller's mint in flight
  std::uint64_t evictions = 0;  // entries dropped for the bound
  std::uint64_t failures = 0;   // mints that returned an error
  std::size_t size = 0;         // entries now
};

class MintCache {
 public:
  // `minter` must outlive the cache.
  explicit MintCache(const LeafMinter& minter, std::size_t capacity = kMintCacheCapacity);

  // The leaf for `requested_host` in front of `upstream_leaf` (may be null): cached, or minted
  // now. Blocks only while this key is being minted by another thread (tens of microseconds).
  MintResult get(const Certificate* upstream_leaf, std::string_view requested_host);

  MintCacheStats stats() const;
  std::size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string key;
    std::shared_future<MintResult> result;
  };
  using Lru = std::list<Entry>;  // front = most recently used

  const LeafMinter& minter_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
  MintCacheStats stats_;
};

}  // namespace tlsprobe::certs
