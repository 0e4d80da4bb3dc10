// InterceptSession: CONNECT host:port with interception on (issue 4, DESIGN.md sections 5, 7, 8).
//
// 1. Connect the upstream (timeout, loop check) and answer 200.
// 2. Peek (MSG_PEEK, nothing consumed) the client's ClientHello to learn its SNI, ALPN and
//    versions before any TLS is spoken to it.
// 3. TLS to the upstream with exactly that SNI (none when none, never an IP literal), ALPN
//    http/1.1, TLS >= 1.2 (1.3 only if the client offered only 1.3); verify strictly and
//    diagnose, cached per (host, SNI, chain SHA-256) (proxy/tls/upstream_tls.hpp).
// 4. Decide what the client gets: a verified upstream -> a leaf minted by the tlsprobe CA and
//    HTTP/1.1 relayed; a failed one -> policy: explain (trusted leaf, only our 502 page, the
//    upstream connection closed before any of its bytes is read), mirror (leaf from a
//    throwaway untrusted CA: the client shows its own error), pass (trusted leaf, relayed,
//    logged). A failed upstream handshake is always explained.
// 5. TLS to the client: one server SSL_CTX for all, the minted leaf set on each SSL with the
//    minter's shared key. A client that rejects our certificate with unknown_ca or
//    bad_certificate (a pinned app) gets that host tunnelled for pin_ttl (logged): that
//    client only, other clients are still intercepted (proxy/session/intercept_policy.hpp).
// 6. HTTP/1.1 inside: keep-alive, bodies streamed in 64 KiB pieces (never whole), HSTS,
//    Expect-CT and every other end-to-end header untouched, Upgrade (WebSocket) becomes a
//    byte tunnel after the 101. check_http runs on each exchange; client.sni_host_mismatch
//    compares the SNI with each request's Host. One log line per connection.
#pragma once

#include "certs/authority.hpp"
#include "certs/leaf_minter.hpp"
#include "certs/mint_cache.hpp"
#include "certs/trust_store.hpp"
#include "inspect/hsts_memory.hpp"
#include "proxy/net/session_connection.hpp"
#include "proxy/session/intercept_policy.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tlsprobe::proxy {

struct InterceptOptions {
  certs::Authority ca;      // the tlsprobe CA (Authority::load_or_create)
  certs::TrustStore trust;  // upstream trust: system + --ca-file anchors
  int warn_days = 21;
  config::UpstreamErrorPolicy on_upstream_error = config::UpstreamErrorPolicy::explain;
  std::vector<std::string> no_intercept;  // host globs tunnelled untouched
  std::chrono::seconds verdict_ttl{600};
  std::chrono::seconds pin_ttl = InterceptPolicy::kDefaultPinTtl;  // [intercept] pin_ttl
};

struct InterceptCounters {
  std::atomic<std::uint64_t> intercepted{0};      // CONNECTs handled here
  std::atomic<std::uint64_t> tunnelled{0};        // no_intercept or pinned: plain tunnel
  std::atomic<std::uint64_t> relayed{0};          // verified upstream, HTTP relayed
  std::atomic<std::uint64_t> explained{0};        // 502 page connections
  std::atomic<std::uint64_t> mirrored{0};         // throwaway-CA leaf shown
  std::atomic<std::uint64_t> passed{0};           // failed upstream relayed under pass
  std::atomic<std::uint64_t> client_rejected{0};  // client refused our leaf
  std::atomic<std::uint64_t> pinned{0};           // (client, host) pairs newly pinned
  std::atomic<std::uint64_t> requests{0};         // HTTP requests inside
};

// Everything intercepting sessions share. Built once at startup; thread-safe.
class Interceptor {
 public:
  // Throws certs::AuthorityError / std::runtime_error on an unusable CA (startup only).
  explicit Interceptor(InterceptOptions options);
  ~Interceptor();
  Interceptor(const Interceptor&) = delete;
  Interceptor& operator=(const Interceptor&) = delete;

  const certs::Authority& ca() const { return options_.ca; }
  config::UpstreamErrorPolicy on_upstream_error() const { return options_.on_upstream_error; }
  InterceptPolicy& policy() { return policy_; }
  UpstreamTls& upstream() { return upstream_; }
  certs::MintCache& mints() { return *mints_; }
  certs::MintCache& throwaway_mints() { return *throwaway_mints_; }
  boost::asio::ssl::context& server_context() { return server_ctx_; }
  InterceptCounters counters;
  // HSTS policies seen on intercepted responses: mixed content skips what browsers upgrade.
  inspect::HstsMemory hsts_seen;

 private:
  InterceptOptions options_;
  InterceptPolicy policy_;
  UpstreamTls upstream_;
  std::unique_ptr<certs::LeafMinter> minter_, throwaway_minter_;
  std::unique_ptr<certs::MintCache> mints_, throwaway_mints_;
  boost::asio::ssl::context server_ctx_;
};

// Loads the CA from `state_dir` or creates it (first intercepting start), and builds the
// interceptor. `created` tells the caller to announce the new CA.
struct InterceptorSetup {
  std::shared_ptr<Interceptor> interceptor;
  bool ca_created = false;
};
InterceptorSetup make_interceptor(const std::filesystem::path& state_dir, certs::TrustStore trust,
                                  int warn_days, config::UpstreamErrorPolicy policy,
                                  std::vector<std::string> no_intercept,
                                  std::chrono::seconds pin_ttl = InterceptPolicy::kDefaultPinTtl);

// CONNECT `target` on `conn` (auth and loop checks done). `early`: client bytes read with the
// CONNECT head. Hands no_intercept, pinned and early-data connections to run_tunnel.
asio::awaitable<void> run_intercept(std::shared_ptr<SessionConnection> conn, HostPort target,
                                    std::string early);

// True for a plain-HTTP request to http://tlsprobe.ca/ (any port), served by the proxy itself.
bool is_ca_page_host(std::string_view host);
// Serves "/" (install page), kCaPemPath and kCaDerPath; 404 otherwise; then closes.
asio::awaitable<void> serve_ca_page(std::shared_ptr<SessionConnection> conn, std::string path);

}  // namespace tlsprobe::proxy
