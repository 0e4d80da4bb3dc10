// AiaFetcher: fetches a CA certificate from an AIA caIssuers URL the way Chrome does when a
// server sent its leaf without the intermediate, bounded and cached.
//
// - plain http:// only (Chrome fetches nothing else; an https URL would need a trusted
//   chain to fetch a chain), through HostResolver (never blocks other lookups) or the
//   [resolve] overrides, with Beast's HTTP/1.1 client;
// - one URL gets `timeout` in total (resolve, connect, request, redirects, body);
// - bodies over `max_body` bytes are refused, however they are framed;
// - at most `max_redirects` redirects, to http:// only, and never back to a URL already seen;
// - never to link-local or non-unicast addresses (a certificate is attacker-controlled, and
//   cloud metadata services answer on 169.254.169.254);
// - the body is one DER certificate or a PKCS#7 certs-only bundle, parsed by OpenSSL;
// - every answer is cached per URL (`ttl`, failures `failure_ttl`), and concurrent fetches
//   of one URL share one request.
// Every failure is one line a person can act on ("timed out after 5000 ms", "HTTP status
// 404 Not Found", "redirect loop: … -> …", "response larger than 65536 bytes", "not a
// certificate: …").
#pragma once

#include "certs/certificate.hpp"
#include "proxy/probe/http_url.hpp"
#include "proxy/probe/probe_cache.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

struct AiaOptions {
  std::chrono::milliseconds timeout{5000};  // one URL, redirects included
  std::size_t max_body = 64 * 1024;         // bytes of one response body
  unsigned max_redirects = 3;
  std::chrono::seconds ttl{3600};        // a fetched certificate is cached this long
  std::chrono::seconds failure_ttl{60};  // a failure, shorter: the URL may come back
  std::size_t max_cached_urls = 1000;
  // "host:port" -> "ADDR" or "ADDR:PORT" (the prober's [resolve] / curl --resolve).
  std::map<std::string, std::string> resolve;
};

// The answer for one URL.
struct AiaFetchResult {
  std::string url;
  bool ok = false;
  std::string error;      // one line when !ok
  certs::Chain certs;     // when ok: at least one certificate
  std::string final_url;  // the URL that answered (after redirects)
  double elapsed_ms = 0;
};

// The certificates in an AIA response body: one DER certificate, or a PKCS#7 SignedData
// bundle of certificates (certs-only). Empty + error ("not a certificate: …") otherwise.
certs::Chain parse_issuer_body(std::string_view body, std::string& error);

class AiaFetcher : public std::enable_shared_from_this<AiaFetcher> {
 public:
  using ResultPtr = std::shared_ptr<const AiaFetchResult>;
  // `from_cache`: the answer was already in the cache when asked.
  using Done = std::function<void(ResultPtr result, bool from_cache)>;

  // Use std::make_shared: fetches in flight keep the fetcher alive.
  explicit AiaFetcher(AiaOptions options = {});

  // Fetches `url` (or answers from the cache). `done` runs exactly once, posted to `ex`.
  void fetch(const boost::asio::any_io_executor& ex, const std::string& url, Done done);

  const AiaOptions& options() const { return options_; }
  std::uint64_t fetches_started() const { return cache_.probes_started(); }
  std::uint64_t cache_hits() const { return cache_.hits() + cache_.joins(); }

 private:
  AiaOptions options_;
  ProbeCache<AiaFetchResult> cache_;
};

}  // namespace tlsprobe::proxy
