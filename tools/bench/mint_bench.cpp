// mint_bench: CPU cost of the interception certificate work, per operation.
//   mint_bench [mints] [hits]
// Prints one line per measurement: name, operations, CPU and wall microseconds per operation.
// Wall time swings on shared machines; quote CPU per operation and same-run ratios (PEERS.md
// section 7).
#include "certs/authority.hpp"
#include "certs/leaf_minter.hpp"
#include "certs/mint_cache.hpp"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace tlsprobe::certs;
using Clock = std::chrono::steady_clock;

// CPU time of this thread: stable on a shared, loaded machine, unlike wall time.
double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <class F>
void measure(const char* name, long n, F&& f) {
  const auto start = Clock::now();
  const double cpu_start = thread_cpu_us();
  for (long i = 0; i < n; ++i) f(i);
  const double cpu = thread_cpu_us() - cpu_start;
  const std::chrono::duration<double, std::micro> wall = Clock::now() - start;
  const auto per = [n](double us) { return us / static_cast<double>(n); };
  std::printf("%-34s %8ld ops %10.2f us/op cpu %10.2f us/op wall\n", name, n, per(cpu),
              per(wall.count()));
}

}  // namespace

int main(int argc, char** argv) {
  const long mints = argc > 1 ? std::atol(argv[1]) : 2000;
  const long hits = argc > 2 ? std::atol(argv[2]) : 200000;
  if (mints <= 0 || hits <= 0) {
    std::fputs("usage: mint_bench [mints] [hits]\n", stderr);
    return 64;
  }

  measure("ca create (in memory)", 20, [](long) { (void)Authority::make_throwaway(); });
  const Authority ca = Authority::make_throwaway();
  measure("LeafMinter construction", 20, [&](long) { LeafMinter m(ca); });
  const LeafMinter minter(ca);

  // A realistic upstream leaf: six DNS names and an IP (minted by another CA).
  const LeafMinter upstream_minter(Authority::make_throwaway());
  const Certificate* upstream = nullptr;
  std::vector<std::shared_ptr<const MintedLeaf>> keep;
  {
    const std::vector<std::string> names = {"www.example.com",    "example.com",
                                            "static.example.com", "api.example.com",
                                            "cdn.example.com",    "m.example.com"};
    auto r = upstream_minter.mint(nullptr, names[0]);
    // Each mint keeps the previous leaf's SANs and adds one name: the last has them all.
    for (std::size_t i = 1; r && i < names.size(); ++i)
      r = upstream_minter.mint(&r.leaf->leaf, names[i]);
    if (r) r = upstream_minter.mint(&r.leaf->leaf, "192.0.2.1");
    if (!r) {
      std::fprintf(stderr, "mint_bench: upstream leaf: %s\n", r.detail.c_str());
      return 1;
    }
    keep.push_back(r.leaf);
    upstream = &keep.back()->leaf;
  }

  long failures = 0;
  measure("mint (no cache)", mints, [&](long) {
    if (!minter.mint(upstream, "www.example.com")) ++failures;
  });
  measure("mint, no upstream leaf", mints, [&](long) {
    if (!minter.mint(nullptr, "www.example.com")) ++failures;
  });

  MintCache cache(minter);
  measure("cache miss (distinct names)", mints, [&](long i) {
    if (!cache.get(upstream, "h" + std::to_string(i) + ".example.com")) ++failures;
  });
  measure("cache hit", hits, [&](long) {
    if (!cache.get(upstream, "h1.example.com")) ++failures;
  });

  const auto leaf = cache.get(upstream, "www.example.com");
  SslCtxPtr shared_ctx{SSL_CTX_new(TLS_server_method())};
  if (!leaf || !shared_ctx) return 1;
  measure("SSL_new + use_minted_leaf + free", hits / 10, [&](long) {
    SslPtr ssl{SSL_new(shared_ctx.get())};
    if (!ssl || !use_minted_leaf(ssl.get(), *leaf.leaf)) ++failures;
  });
  measure("SSL_new + free (baseline)", hits / 10, [&](long) {
    SslPtr ssl{SSL_new(shared_ctx.get())};
    if (!ssl) ++failures;
  });
  measure("make_server_ctx (per-host ctx)", mints, [&](long) {
    if (!make_server_ctx(*leaf.leaf)) ++failures;
  });

  const auto s = cache.stats();
  std::printf("cache: hits=%llu misses=%llu evictions=%llu size=%zu failures=%ld\n",
              static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(s.misses),
              static_cast<unsigned long long>(s.evictions), s.size, failures);
  return failures == 0 ? 0 : 1;
}
