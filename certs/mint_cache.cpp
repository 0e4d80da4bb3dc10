#include "certs/mint_cache.hpp"

namespace tlsprobe::certs {
namespace {

std::string cache_key(const Certificate* upstream_leaf, std::string_view requested_host) {
  // '\n' cannot occur in a normalized host that mints, nor in a hex digest.
  std::string key = normalize_host(requested_host);
  key += '\n';
  key += upstream_leaf ? upstream_leaf->sha256_hex() : std::string("-");
  return key;
}

bool is_ready(const std::shared_future<MintResult>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

MintCache::MintCache(const LeafMinter& minter, std::size_t capacity)
    : minter_(minter), capacity_(capacity == 0 ? 1 : capacity) {}

MintResult MintCache::get(const Certificate* upstream_leaf, std::string_view requested_host) {
  const std::string key = cache_key(upstream_leaf, requested_host);
  std::promise<MintResult> promise;
  std::shared_future<MintResult> mine;
  {
    std::unique_lock lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      std::shared_future<MintResult> found = it->second->result;
      bool stale = false;
      if (is_ready(found)) {
        const MintResult& r = found.get();
        stale = !r.leaf ||
                r.leaf->leaf.not_after() - std::chrono::system_clock::now() < kMintRefreshMargin;
      } else {
        ++stats_.coalesced;
      }
      if (!stale) {
        ++stats_.hits;
        lru_.splice(lru_.begin(), lru_, it->second);
        lock.unlock();
        return found.get();  // waits when another thread is still minting this key
      }
      lru_.erase(it->second);
      index_.erase(it);
    }
    ++stats_.misses;
    mine = promise.get_future().share();
    lru_.push_front(Entry{key, mine});
    index_[key] = lru_.begin();
    while (lru_.size() > capacity_) {
      // Waiters on an evicted entry keep their copy of its future: eviction never cancels.
      index_.erase(lru_.back().key);
      lru_.pop_back();
      ++stats_.evictions;
    }
  }

  MintResult result;
  try {
    result = minter_.mint(upstream_leaf, requested_host);
  } catch (const std::exception& e) {  // bad_alloc and the like: waiters must still wake up
    result.leaf = nullptr;
    result.error = MintError::openssl;
    result.detail = e.what();
  }
  promise.set_value(result);
  if (!result) {
    std::lock_guard lock(mu_);
    ++stats_.failures;
    // Drop our failed entry (not a newer one for the same key) so the next request retries.
    if (auto it = index_.find(key);
        it != index_.end() && is_ready(it->second->result) && !it->second->result.get()) {
      lru_.erase(it->second);
      index_.erase(it);
    }
  }
  return result;
}

MintCacheStats MintCache::stats() const {
  std::lock_guard lock(mu_);
  MintCacheStats s = stats_;
  s.size = lru_.size();
  return s;
}

}  // namespace tlsprobe::certs
