// The configuration model: plain structs whose member initializers are the defaults.
//
// A default-constructed Config is exactly what tlsprobe does with no config file; the loader
// (config/load.hpp) only overwrites the keys a file names. Command-line flags are applied by
// tools/ on top of a loaded Config ("flags win", DESIGN.md section 5), so nothing here is
// required to be set by the file itself (e.g. `upstream` may come from --upstream).
// config/tlsprobe.example.toml documents every key with its default.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::config {

// Durations are kept in milliseconds because the file accepts "500ms".
using Duration = std::chrono::milliseconds;

// Every wait has a deadline (STYLE.md habit 3); each is set just before its operation.
struct Timeouts {
  Duration connect{std::chrono::seconds(10)};    // TCP connect to an upstream
  Duration handshake{std::chrono::seconds(10)};  // one TLS handshake
  Duration header{std::chrono::seconds(30)};     // reading a request or response header
  Duration idle{std::chrono::seconds(300)};      // a tunnel or keep-alive with no bytes
  Duration probe{std::chrono::seconds(10)};      // the whole side probe of one target
  Duration drain{std::chrono::seconds(5)};       // open connections on SIGTERM/SIGINT
};

// Every buffer is bounded (STYLE.md habit 4).
struct Limits {
  std::uint32_t max_connections = 10000;
  // Open connections of one client address (IPv6: its /64); one client at its cap cannot
  // lock the others out (docs/security.md).
  std::uint32_t max_connections_per_client = 256;
  std::uint32_t max_header_bytes = 65536;
  std::uint32_t max_request_line = 8192;
};

// Basic proxy authentication (Proxy-Authorization); absent = no authentication.
struct Auth {
  std::string user;
  std::string password;
};

// Trust = the system store plus anchors the user adds (DESIGN.md section 7).
struct Trust {
  std::vector<std::string> ca_files;  // PEM files with extra trust anchors
  bool system = true;                 // false replaces the system store (explicit choice)
};

struct Log {
  std::string file = "./tlsprobe-logs/connections.jsonl";
  std::uint32_t max_size_mb = 100;  // rotate when the file reaches this size
  std::uint32_t max_files = 5;      // rotated files kept
  bool stderr_findings = true;      // also print findings on stderr
  bool keep_query = false;          // keep URL query strings in records (secrets: off by default)
};

// What the client sees when the upstream fails verification under interception.
enum class UpstreamErrorPolicy {
  explain,  // a 502 error page listing the findings (default)
  mirror,   // the client gets a certificate error of its own
  pass,     // forward anyway and only log
};

struct Intercept {
  bool enabled = false;
  std::string state_dir;  // CA and state; empty = the default chosen by tools/
  UpstreamErrorPolicy on_upstream_error = UpstreamErrorPolicy::explain;
  std::vector<std::string>
      no_intercept;  // host glob patterns that are tunnelled, never intercepted
  // How long a client that rejected the minted certificate gets that host tunnelled (the
  // fallback is per client address and host).
  Duration pin_ttl{std::chrono::minutes(10)};
};

enum class Mode { forward, reverse };

// Whether a CDN edge is expected to serve the origin's certificate ("same") or its own.
enum class EdgeCert { same, own };

// One [[site]]: a name served by edges (CDN) in front of an origin.
struct Site {
  std::string host;
  std::string origin;              // "ADDR:PORT"; empty = no origin comparison
  std::string origin_sni;          // SNI sent to the origin; the loader fills in `host` when absent
  std::vector<std::string> edges;  // "ADDR:PORT" each
  EdgeCert edge_cert = EdgeCert::same;
};

// The shortest watch_interval the loader accepts: each round probes every site and edge.
inline constexpr Duration kMinWatchInterval{std::chrono::seconds(10)};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> allow;  // client CIDRs; empty = loopback clients only
  // Loopback / link-local destination CIDRs allowed while the proxy listens beyond loopback
  // (otherwise refused: the proxy is no door to the host's loopback-only services).
  std::vector<std::string> allow_destinations;
  std::optional<Auth> auth;
  Timeouts timeouts;
  Limits limits;
  Duration probe_cache_ttl{std::chrono::seconds(600)};
  Trust trust;
  int warn_days = 21;
  Log log;
  Intercept intercept;
  Mode mode = Mode::forward;
  std::string upstream;      // reverse mode: "https://host[:port]"
  std::string upstream_sni;  // reverse mode: SNI to the upstream; empty = the upstream's host
  std::string tls_cert;      // reverse mode: PEM chain served to clients
  std::string tls_key;       // reverse mode: PEM key
  std::string admin = "127.0.0.1:9464";  // or "off"
  // Client CIDRs of the admin listener besides loopback; required for a non-loopback admin.
  std::vector<std::string> admin_allow;
  Duration watch_interval{std::chrono::seconds(300)};
  std::vector<Site> sites;
  // "host:port" -> address, like curl --resolve; "host" alone: that host on every port
  std::map<std::string, std::string> resolve;
  // Revocation and Certificate Transparency (watch; probe has the same as flags):
  bool revocation = false;             // ask each leaf's OCSP responder (else its CRL) online
  std::vector<std::string> crl_files;  // CRL files (PEM or DER) judged offline
  std::string ct_log_list;             // CT log list; empty: SCTs are not verified

  // Reverse mode: Host names served besides [[site]] hosts, upstream_sni and the upstream's
  // own name (exact, or "*.example.com"); any other Host gets 421.
  std::vector<std::string> allow_hosts;

  // True unless admin is "off".
  bool admin_enabled() const { return admin != "off"; }
};

std::string_view to_string(UpstreamErrorPolicy p);
std::string_view to_string(Mode m);
std::string_view to_string(EdgeCert e);
std::optional<UpstreamErrorPolicy> parse_upstream_error_policy(std::string_view s);
std::optional<Mode> parse_mode(std::string_view s);
std::optional<EdgeCert> parse_edge_cert(std::string_view s);

}  // namespace tlsprobe::config
