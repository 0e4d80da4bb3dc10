// ProxySettings: everything the forward proxy core needs, as plain values. tools/proxy_cmd.cpp
// fills it from the config file and the command line (flags win); the proxy never reads
// files or flags itself, so tests build settings in memory.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::proxy {

// A network prefix for the client allow-list ("10.0.0.0/8", "::1/128").
struct Cidr {
  boost::asio::ip::address network;
  unsigned prefix = 0;
};

struct ProxyTimeouts {
  std::chrono::milliseconds connect{10'000};  // TCP connect to the upstream (then 504)
  std::chrono::milliseconds header{30'000};   // client must send a complete request head
  std::chrono::milliseconds idle{300'000};    // no byte either way: close the connection
  std::chrono::milliseconds probe{10'000};    // one side probe, end to end
  std::chrono::milliseconds drain{5'000};     // SIGTERM: open connections may finish this long
  std::chrono::milliseconds upstream_response{60'000};  // forward mode: response head
};

struct ProxyLimits {
  std::size_t max_connections = 4096;           // open client connections; more are refused (503)
  std::uint32_t max_header_bytes = 32 * 1024;   // request line + headers (then 431)
  std::size_t client_hello_bytes = 64 * 1024;   // ClientHello tap bound (as Envoy)
  std::size_t tunnel_buffer_bytes = 64 * 1024;  // per direction, allocated only while data flows
  std::uint64_t max_body_bytes = 0;             // forward mode request/response body; 0 = unlimited
  // Open connections of one client address (IPv6: one /64), each tunnel included; more are
  // refused (429), so one client cannot take every slot (proxy/net/destination_policy.hpp).
  std::size_t max_connections_per_client = 256;
};

// A [[site]] entry as the side probe needs it.
struct SiteSettings {
  std::string host;
  std::string origin;      // "ADDR:PORT", empty when none
  std::string origin_sni;  // default: host
  bool edge_cert_own = false;
};

class Interceptor;  // proxy/session/intercept_session.hpp

struct ProxySettings {
  boost::asio::ip::tcp::endpoint listen{boost::asio::ip::make_address("127.0.0.1"), 8080};
  std::vector<Cidr> allow;  // clients allowed besides loopback; required for a public listen
  // Loopback / link-local destinations allowed although the proxy listens beyond loopback
  // (proxy/net/destination_policy.hpp); the proxy's own listeners stay refused regardless.
  std::vector<Cidr> allow_destinations;
  std::optional<std::string> basic_auth;  // "user:password" when Basic auth is required
  ProxyTimeouts timeouts;
  ProxyLimits limits;
  std::chrono::seconds probe_cache_ttl{600};
  unsigned threads = 0;  // 0 = hardware_concurrency / 2, at least 1 (server.cpp)
  // [resolve]: host name -> address (IP literal) used instead of the system resolver.
  std::map<std::string, std::string> resolve;
  std::vector<SiteSettings> sites;
  // Set: CONNECT is intercepted (proxy/session/intercept_session.hpp); null: tunnelled.
  std::shared_ptr<Interceptor> intercept;
};

// True when `client` may use the proxy: loopback always, others only inside `allow`.
bool client_allowed(const ProxySettings& s, const boost::asio::ip::address& client);
bool cidr_contains(const Cidr& c, const boost::asio::ip::address& a);
// "10.0.0.0/8", "192.168.1.7" (= /32), "::1/128"; nullopt when malformed.
std::optional<Cidr> parse_cidr_text(const std::string& text);

}  // namespace tlsprobe::proxy
