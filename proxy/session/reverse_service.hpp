// ReverseService: what every reverse-mode connection of one running proxy shares (DESIGN.md
// section 1, CDN/ops row; section 8 reverse-mode flags). tlsprobe stands where the origin
// stands: a CDN (or curl) connects with TLS as if to the origin, tlsprobe records what the
// client sent (SNI, ALPN, Host), forwards HTTP/1.1 to the real origin over TLS, verifies the
// origin strictly and records its chain and findings.
//
// The service holds
//   - the TLS server context shown to clients: a configured certificate (--tls-cert/--tls-key)
//     or leaves minted from the tlsprobe CA for the client's SNI (else the upstream host);
//   - the origin side's TLS client (UpstreamTls, shared with intercept mode: TLS 1.2+, ALPN
//     http/1.1, session resumption; the chain is verified after the handshake with
//     certs::verify_chain and diagnose so that its facts survive a failure);
//   - routing: Host -> origin from the config's [[site]] entries with an `origin`, the
//     `--upstream` URL for every other Host;
//   - the verification cache: findings per (origin, SNI, chain sha256) for a TTL, so a new
//     connection to a known origin costs one handshake and no diagnosis.
// Sessions are started by the listener through reverse_session_starter()
// (proxy/session/reverse_session.hpp).
#pragma once

#include "certs/authority.hpp"
#include "certs/certificate.hpp"
#include "certs/mint_cache.hpp"
#include "certs/trust_store.hpp"
#include "config/config.hpp"
#include "inspect/finding.hpp"
#include "proxy/http/http_util.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::proxy {

class SessionConnection;

// One origin requests can go to.
struct ReverseOrigin {
  HostPort address;  // host (name or IP literal) and port to connect to
  // SNI sent to this origin whatever the request's Host (--upstream-sni, a site's origin_sni);
  // nullopt: the request's Host without its port.
  std::optional<std::string> sni;
};

// Where one request goes, decided by route().
struct ReverseRoute {
  HostPort connect;                // address to connect to
  std::optional<std::string> sni;  // SNI to send; nullopt = none (an IP literal is never sent)
  std::string name;                // the name the origin's leaf must cover: SNI, else host
  std::string request_host;        // the request's Host, port stripped, lower case
  bool from_site = false;          // chosen by a [[site]] entry (else the default upstream)

  // "host:port|sni": requests with equal keys may share one origin connection.
  std::string key() const;
};

struct ReverseOptions {
  ReverseOrigin upstream;                      // --upstream: every Host without a site
  std::map<std::string, ReverseOrigin> sites;  // lower-case Host -> origin ([[site]] origin)
  // Served to clients: this chain and key when set (leaf first), else leaves minted by
  // `authority` for the client's SNI (or the upstream host when it sent none).
  certs::Chain tls_chain;
  std::shared_ptr<EVP_PKEY> tls_key;
  std::optional<certs::Authority> authority;
  std::shared_ptr<const certs::TrustStore> trust;  // strict origin verification (required)
  DiagnoseFunction diagnose;                       // inspect::diagnose with the proxy's options
  // Timeouts are the connection's ProxySettings (header: the first ClientHello bytes;
  // handshake: each TLS handshake, client and origin; upstream_response: the origin's response
  // head, then 504), so that a reload reaches reverse mode too.
  std::chrono::seconds verify_cache_ttl{600};
  // Host names served besides the configured ones (every [[site]] host, the upstream's SNI and
  // its own name): exact names or "*.example.com" (any name below it). A request for any
  // other Host is answered 421 and never reaches the origin, the prober or the metrics.
  std::vector<std::string> allowed_hosts;
};

// Whether a Host header value can name a site: empty, or a host name (letters, digits, '-',
// '_', dots between non-empty labels), an IPv4 literal or a bracketed IPv6 literal, with an
// optional port. Anything else (markup, spaces, user info) is a 400 in reverse mode.
bool valid_host_header(std::string_view host_header);

// "https://origin.example[:port][/]" -> origin.example:port (443 by default). nullopt for any
// other scheme, a path, user info or a bad port: the origin is reached over TLS only.
std::optional<HostPort> parse_upstream_url(std::string_view url);

// Builds the options from the config (mode reverse) and loads the files it names: the
// --tls-cert/--tls-key pair, or the tlsprobe CA from `state_dir` (created when missing).
// Throws std::runtime_error with one line naming the flag or file (a startup error).
ReverseOptions reverse_options_from_config(const config::Config& cfg, const std::string& state_dir,
                                           std::shared_ptr<const certs::TrustStore> trust,
                                           DiagnoseFunction diagnose);

class ReverseService : public std::enable_shared_from_this<ReverseService> {
 public:
  // Throws std::runtime_error when the TLS contexts cannot be built (bad key, key and
  // certificate that do not match) or no trust store is given.
  explicit ReverseService(ReverseOptions options);
  ~ReverseService();
  ReverseService(const ReverseService&) = delete;
  ReverseService& operator=(const ReverseService&) = delete;

  const ReverseOptions& options() const { return options_; }

  // The origin for a request whose Host header is `host_header` (may be empty: HTTP/1.0).
  ReverseRoute route(std::string_view host_header) const;

  // True when `request_host` (lower case, no port: ReverseRoute::request_host) is a name this
  // proxy serves: configured or allowed (ReverseOptions::allowed_hosts). Empty (HTTP/1.0
  // without Host) is served: it routes to the upstream's own name.
  bool serves_host(std::string_view request_host) const;

  boost::asio::ssl::context& server_context() { return server_ctx_; }
  UpstreamTls& origin_tls() { return *origin_tls_; }

  // Puts the certificate for a client that sent `sni` on `ssl` (before its handshake).
  // False when minting failed (`detail` says why); a configured certificate always works.
  bool present(SSL* ssl, const std::optional<std::string>& sni, std::string& detail);

  // The origins' verdict cache (UpstreamTls's VerdictCache, the one intercept uses too).
  std::uint64_t verdict_hits() const { return origin_tls_->verdicts().hits(); }
  std::uint64_t verdict_misses() const { return origin_tls_->verdicts().misses(); }

 private:
  ReverseOptions options_;
  std::set<std::string> served_hosts_;        // exact names
  std::vector<std::string> served_suffixes_;  // ".example.com" from "*.example.com"
  boost::asio::ssl::context server_ctx_;
  std::unique_ptr<UpstreamTls> origin_tls_;
  std::unique_ptr<certs::LeafMinter> minter_;
  std::unique_ptr<certs::MintCache> mints_;
};

// The 502 answer when the origin failed strict verification or its handshake: the error
// page of proxy/http/error_page.hpp (HTML when Accept lists text/html, text otherwise) about the
// origin's findings (client.* left out), `leaf` the origin's leaf when one was seen. Pure.
// The full HTTP response, "Connection: close".
std::string render_origin_refusal(const inspect::Findings& findings, std::string_view accept,
                                  std::string_view origin,
                                  const certs::Certificate* leaf = nullptr);

}  // namespace tlsprobe::proxy
