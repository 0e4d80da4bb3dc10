// VerdictCache: the one verdict cache of intercept and reverse. Times are arguments, so TTL
// and eviction are checked without sleeping.
#include "proxy/tls/verdict_cache.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using proxy::UpstreamVerdict;
using proxy::VerdictCache;
using Clock = VerdictCache::Clock;

namespace {

std::shared_ptr<const UpstreamVerdict> verdict(std::string name) {
  auto v = std::make_shared<UpstreamVerdict>();
  v->name = std::move(name);
  return v;
}

}  // namespace

TEST_CASE("verdict cache: a verdict answers for its TTL, then not", "[verdicts]") {
  VerdictCache cache(std::chrono::seconds(600), 10);
  const auto t0 = Clock::now();
  CHECK(cache.find("good.test|AA", t0) == nullptr);
  cache.store("good.test|AA", verdict("good.test"), t0);
  REQUIRE(cache.find("good.test|AA", t0 + std::chrono::seconds(599)) != nullptr);
  CHECK(cache.find("good.test|AA", t0 + std::chrono::seconds(599))->name == "good.test");
  CHECK(cache.find("good.test|AA", t0 + std::chrono::seconds(600)) == nullptr);
  CHECK(cache.find("bank.test|AA", t0) == nullptr);
  CHECK(cache.hits() == 2);
  CHECK(cache.misses() == 3);
}

TEST_CASE("verdict cache: full, expired entries go first", "[verdicts]") {
  VerdictCache cache(std::chrono::seconds(10), 3);
  const auto t0 = Clock::now();
  cache.store("old", verdict("old"), t0);
  cache.store("a", verdict("a"), t0 + std::chrono::seconds(8));
  cache.store("b", verdict("b"), t0 + std::chrono::seconds(8));
  REQUIRE(cache.size() == 3);
  const auto t1 = t0 + std::chrono::seconds(11);  // "old" has expired, a and b have not
  cache.store("c", verdict("c"), t1);
  CHECK(cache.size() == 3);
  CHECK(cache.find("a", t1) != nullptr);
  CHECK(cache.find("b", t1) != nullptr);
  CHECK(cache.find("c", t1) != nullptr);
  CHECK(cache.find("old", t1) == nullptr);
}

TEST_CASE("verdict cache: full of fresh entries, it starts over rather than grow", "[verdicts]") {
  VerdictCache cache(std::chrono::seconds(600), 2);
  const auto t0 = Clock::now();
  cache.store("a", verdict("a"), t0);
  cache.store("b", verdict("b"), t0);
  cache.store("a", verdict("a2"), t0);  // a replacement needs no room
  CHECK(cache.size() == 2);
  CHECK(cache.find("a", t0)->name == "a2");
  cache.store("c", verdict("c"), t0);
  CHECK(cache.size() == 1);
  CHECK(cache.find("c", t0) != nullptr);
}
