// ProxyContext: what every session of one running proxy shares — settings, the connection
// log, the side prober, the registry of open connections (for the connection limit and the
// drain on shutdown) and outcome counters. Thread-safe.
#pragma once

#include "proxy/net/destination_policy.hpp"
#include "proxy/net/proxy_settings.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace tlsprobe::proxy {

class ConnectionLog;
class Metrics;
class SideProbe;

// One counter per outcome (STYLE.md habit 11).
struct ProxyCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused_not_allowed{0};
  std::atomic<std::uint64_t> refused_limit{0};
  std::atomic<std::uint64_t> refused_client_limit{0};  // max_connections_per_client reached
  std::atomic<std::uint64_t> refused_destinations{0};  // host-local destination refused
  std::atomic<std::uint64_t> client_hello_peeks{0};    // MSG_PEEK reads of a ClientHello
  std::atomic<std::uint64_t> accept_fd_exhausted{0};
  std::atomic<std::uint64_t> tunnels{0};
  std::atomic<std::uint64_t> forwards{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> loops{0};
  std::atomic<std::uint64_t> upstream_failures{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> tls_found{0};
  std::atomic<std::uint64_t> tls_not_found{0};
};

class ProxyContext {
 public:
  ProxyContext(ProxySettings settings, ConnectionLog* log, std::shared_ptr<SideProbe> side_probe);

  const ProxySettings settings;
  ConnectionLog* const log;                     // may be null (tests): then no lines
  const std::shared_ptr<SideProbe> side_probe;  // may be null: no side probes
  const std::string via_token;                  // "tlsprobe-<8 hex>", unique per process
  ProxyCounters counters;
  // Prometheus metrics (proxy/observe/metrics.hpp); may be null. Set before accepting.
  Metrics* metrics = nullptr;

  // The address the listener actually bound (port 0 resolved); set once before accepting.
  void set_listen_endpoint(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint listen_endpoint() const;
  // The port of another listener of this process (the admin port): never a destination.
  void add_own_port(std::uint16_t port);
  // Whether a client may make the proxy connect to `ep` (a resolved address):
  // proxy/net/destination_policy.hpp with our listeners, this host's interface addresses (read
  // again at most every few seconds) and settings.allow_destinations.
  DestinationVerdict judge_destination(const boost::asio::ip::tcp::endpoint& ep) const;
  // True when `ep` is the proxy itself (a loop): judge_destination says own_listener.
  bool is_self(const boost::asio::ip::tcp::endpoint& ep) const;

  // Connection registry. admit() gives an id, or says which limit refused the connection:
  // max_connections in all, or max_connections_per_client for `client` (client_key).
  // `close` is called (from any thread) on shutdown after the drain period; it must post
  // to the connection's strand itself.
  enum class Refusal { none, total_limit, client_limit };
  struct Admission {
    std::optional<std::uint64_t> id;
    Refusal refusal = Refusal::none;
  };
  Admission admit(std::function<void()> close, const boost::asio::ip::address& client);
  std::optional<std::uint64_t> admit(std::function<void()> close);  // no per-client count
  void release(std::uint64_t id);
  std::size_t open_connections() const;
  void close_all();

  // Log lines not yet written (a tunnel closed before its probe ended).
  void line_pending() { ++pending_lines_; }
  void line_written() { --pending_lines_; }
  long pending_lines() const { return pending_lines_.load(); }

  // Set when shutdown begins: sessions stop keep-alive loops.
  std::atomic<bool> draining{false};

 private:
  struct OpenConnection {
    std::function<void()> close;
    std::optional<boost::asio::ip::address> client;  // client_key; none: not counted per client
  };
  mutable std::mutex mutex_;
  boost::asio::ip::tcp::endpoint listen_;
  std::vector<std::uint16_t> other_ports_;
  // What judge_destination judges by, kept up to date here (every upstream connect asks:
  // building it per ask copied three vectors); its host addresses are read again when a
  // few seconds old.
  mutable DestinationRules rules_;
  mutable std::chrono::steady_clock::time_point host_addresses_read_{};
  void update_rules_locked();
  std::map<std::uint64_t, OpenConnection> open_;
  std::map<boost::asio::ip::address, std::size_t> per_client_;
  std::uint64_t next_id_ = 1;
  std::atomic<long> pending_lines_{0};
};

}  // namespace tlsprobe::proxy
