// ProxySettings: everything the forward proxy core needs, as plain values. tools/proxy_cmd.cpp
// fills it from the config file and the command line (flags win); the proxy never reads
// files or flags itself, so tests build settings in memory.
#pragma once

#include "config/address.hpp"
#include "config/config.hpp"

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

// Networks ("10.0.0.0/8", "::1/128") are config::Cidr, parsed by config::parse_cidr.
using config::Cidr;

// The defaults of the keys the config file has are config's (one default per value:
// config::Timeouts and config::Limits); the rest have no key and are set here only.
struct ProxyTimeouts {
  std::chrono::milliseconds connect{config::Timeouts{}.connect};      // TCP connect (then 504)
  std::chrono::milliseconds handshake{config::Timeouts{}.handshake};  // one TLS handshake
  std::chrono::milliseconds header{config::Timeouts{}.header};        // a complete request head
  std::chrono::milliseconds idle{config::Timeouts{}.idle};            // no byte either way: close
  std::chrono::milliseconds probe{config::Timeouts{}.probe};          // one side probe, end to end
  std::chrono::milliseconds drain{config::Timeouts{}.drain};          // SIGTERM: open connections
  std::chrono::milliseconds upstream_response{60'000};                // forward mode: response head
  // Writing one of the proxy's own short answers (an error, the 502 page, the CA page).
  std::chrono::milliseconds answer{2'000};
  // After that answer: reading what the client still sends before the close (an unread byte
  // makes the kernel send a RST that can destroy the answer), or its TLS close_notify.
  std::chrono::milliseconds close_grace{1'000};
};

struct ProxyLimits {
  // Open client connections; more are refused (503).
  std::size_t max_connections = config::Limits{}.max_connections;
  // Request line + headers (then 431).
  std::uint32_t max_header_bytes = config::Limits{}.max_header_bytes;
  std::size_t client_hello_bytes = 64 * 1024;   // ClientHello tap bound (as Envoy)
  std::size_t tunnel_buffer_bytes = 64 * 1024;  // per direction, allocated only while data flows
  std::uint64_t max_body_bytes = 0;             // forward mode request/response body; 0 = unlimited
  // Open connections of one client address (IPv6: one /64), each tunnel included; more are
  // refused (429), so one client cannot take every slot (proxy/net/destination_policy.hpp).
  std::size_t max_connections_per_client = config::Limits{}.max_connections_per_client;
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
  std::vector<config::Site> sites;  // [[site]]: the side probe compares origin and edges
  // Set: CONNECT is intercepted (proxy/session/intercept_session.hpp); null: tunnelled.
  std::shared_ptr<Interceptor> intercept;
};

// An accepted socket's address in config's form (IPv4 stored IPv4-mapped), for config::Cidr.
config::IpBytes ip_bytes(const boost::asio::ip::address& a);

// True when `client` may use the proxy: loopback always, others only inside `allow`
// (config::client_allowed).
bool client_allowed(const ProxySettings& s, const boost::asio::ip::address& client);

}  // namespace tlsprobe::proxy
