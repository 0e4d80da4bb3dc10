// Online revocation status of a leaf (probe --revocation), bounded like the AIA fetches
// (aia_fetch.hpp): plain http:// only, one request with `timeout` in total, bodies over
// `max_body` refused, never to link-local or non-unicast addresses (a certificate's URL is
// attacker-controlled), HTTP/1.1 with Beast.
//
// - OCSP first: a POST of an OCSPRequest with a nonce (RFC 6960 appendix A.1) to the first
//   OCSP URL of the leaf's AIA. Never cached (the nonce makes every answer fresh).
// - Else the CRL of the leaf's first http CRL distribution point, by GET, cached per URL
//   until its nextUpdate (at most `max_crl_ttl`), failures for `failure_ttl`.
// The answer is recorded as an inspect::RevocationLookup; diagnosis judges it.
#pragma once

#include "certs/trust_store.hpp"
#include "inspect/observation.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace tlsprobe::proxy {

struct RevocationFetchOptions {
  std::chrono::milliseconds timeout{5000};  // one request
  std::size_t max_body = 64 * 1024;
  std::chrono::seconds max_crl_ttl{86400};
  std::chrono::seconds failure_ttl{60};
  std::size_t max_cached_urls = 1000;
  // "host:port" -> "ADDR" or "ADDR:PORT" (the prober's [resolve]).
  std::map<std::string, std::string> resolve;
};

class RevocationFetcher : public std::enable_shared_from_this<RevocationFetcher> {
 public:
  // Use std::make_shared: lookups in flight keep the fetcher alive.
  explicit RevocationFetcher(RevocationFetchOptions options = {});
  ~RevocationFetcher();

  using Done = std::function<void(inspect::RevocationLookup)>;
  // Looks up the status of `leaf` (issued by `issuer`), within `deadline` as well as the
  // options' timeout. `done` runs exactly once, posted to `ex`. Calls `done` at once with an
  // empty lookup (kind "") when the leaf names neither an OCSP nor an http CRL URL.
  void lookup(const boost::asio::any_io_executor& ex, const certs::Certificate& leaf,
              const certs::Certificate& issuer, std::chrono::steady_clock::time_point deadline,
              Done done);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// For the prober: finds the leaf's issuer in the chain (sent or completed) or `trust`, and
// appends the lookup to `obs.revocation_lookups`. `done` gets `obs` back, posted to `ex`.
void async_check_revocation(const boost::asio::any_io_executor& ex,
                            std::shared_ptr<RevocationFetcher> fetcher,
                            const certs::TrustStore& trust, inspect::HandshakeObservation obs,
                            std::chrono::steady_clock::time_point deadline,
                            std::function<void(inspect::HandshakeObservation)> done);

}  // namespace tlsprobe::proxy
