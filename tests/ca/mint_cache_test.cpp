#include "certs/mint_cache.hpp"
#include "ca/ca_test_util.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

#include <latch>
#include <thread>

using namespace tlsprobe;
using certs::MintCache;

namespace {

testpki::Issued leaf_for(const std::string& name) {
  static const testpki::Issued root =
      testpki::make_root({.common_name = "Cache Upstream Root",
                          .not_before = testpki::now() - std::chrono::days(10),
                          .not_after = testpki::now() + std::chrono::days(100)});
  return testpki::issue(root, {.common_name = name,
                               .dns_names = {name},
                               .not_before = testpki::now() - std::chrono::days(1),
                               .not_after = testpki::now() + std::chrono::days(50)});
}

}  // namespace

TEST_CASE("the same name and upstream leaf is a cache hit", "[mint_cache]") {
  MintCache cache(catest::throwaway_minter());
  const auto up = leaf_for("a.example.test");
  const auto first = cache.get(&up.cert, "a.example.test");
  REQUIRE(first);
  const auto second = cache.get(&up.cert, "A.Example.Test.");  // same name, normalized
  REQUIRE(second);
  CHECK(second.leaf == first.leaf);
  const auto s = cache.stats();
  CHECK(s.misses == 1);
  CHECK(s.hits == 1);
  CHECK(s.size == 1);
}

TEST_CASE("a changed upstream leaf gets a new minted leaf", "[mint_cache]") {
  MintCache cache(catest::throwaway_minter());
  const auto old_up = leaf_for("b.example.test");
  const auto new_up = leaf_for("b.example.test");  // renewed: another fingerprint
  REQUIRE(old_up.cert.sha256_hex() != new_up.cert.sha256_hex());
  const auto a = cache.get(&old_up.cert, "b.example.test");
  const auto b = cache.get(&new_up.cert, "b.example.test");
  const auto c = cache.get(nullptr, "b.example.test");  // nothing known upstream: own entry
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a.leaf != b.leaf);
  CHECK(b.leaf != c.leaf);
  CHECK(cache.stats().misses == 3);
  CHECK(cache.stats().hits == 0);
}

TEST_CASE("the cache evicts the least recently used entry at its bound", "[mint_cache]") {
  MintCache cache(catest::throwaway_minter(), 2);
  const auto one = cache.get(nullptr, "one.example.test");
  cache.get(nullptr, "two.example.test");
  CHECK(cache.get(nullptr, "one.example.test").leaf == one.leaf);  // one is now most recent
  cache.get(nullptr, "three.example.test");                        // evicts two
  auto s = cache.stats();
  CHECK(s.size == 2);
  CHECK(s.evictions == 1);
  CHECK(s.misses == 3);
  CHECK(cache.get(nullptr, "one.example.test").leaf == one.leaf);  // still cached
  cache.get(nullptr, "two.example.test");                          // minted again
  s = cache.stats();
  CHECK(s.misses == 4);
  CHECK(s.hits == 2);
  CHECK(s.evictions == 2);
  CHECK(s.size == 2);
}

TEST_CASE("concurrent requests for one key mint once", "[mint_cache]") {
  MintCache cache(catest::throwaway_minter());
  const auto up = leaf_for("busy.example.test");
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<std::shared_ptr<const certs::MintedLeaf>> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      got[static_cast<std::size_t>(i)] = cache.get(&up.cert, "busy.example.test").leaf;
    });
  for (auto& t : threads) t.join();
  const auto s = cache.stats();
  CHECK(s.misses == 1);
  CHECK(s.hits == kThreads - 1);
  CHECK(s.coalesced <= s.hits);
  for (const auto& leaf : got) {
    REQUIRE(leaf);
    CHECK(leaf == got[0]);
  }
}

TEST_CASE("many keys from many threads stay consistent", "[mint_cache]") {
  MintCache cache(catest::throwaway_minter(), 16);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string host = "h" + std::to_string((i * 7 + t) % 24) + ".example.test";
        const auto r = cache.get(nullptr, host);
        if (!r || r.leaf->leaf.dns_names().front() != host) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  const auto s = cache.stats();
  CHECK(s.hits + s.misses == 200);
  CHECK(s.size <= 16);
  CHECK(s.misses - s.evictions == s.size);
}

TEST_CASE("a failed mint is reported to the caller and not cached", "[mint_cache]") {
  MintCache cache(catest::throwaway_minter());
  const auto a = cache.get(nullptr, "not a host");
  const auto b = cache.get(nullptr, "not a host");
  CHECK_FALSE(a);
  CHECK(a.error == certs::MintError::bad_host);
  CHECK_FALSE(b);
  const auto s = cache.stats();
  CHECK(s.misses == 2);
  CHECK(s.failures == 2);
  CHECK(s.size == 0);
}
