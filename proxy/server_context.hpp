// ProxyContext: what every session of one running proxy shares — settings, the connection
// log, the side prober, the registry of open connections (for the connection limit and the
// drain on shutdown) and outcome counters. Thread-safe.
#pragma once

#include "proxy/server_settings.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
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
  // Prometheus metrics (proxy/metrics.hpp); may be null. Set before accepting.
  Metrics* metrics = nullptr;

  // The address the listener actually bound (port 0 resolved); set once before accepting.
  void set_listen_endpoint(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint listen_endpoint() const;
  // True when `ep` is the proxy itself (a loop): our listen address and port, or, when we
  // listen on an unspecified address, any loopback address with our port.
  bool is_self(const boost::asio::ip::tcp::endpoint& ep) const;

  // Connection registry. admit() returns an id, or nullopt when max_connections are open.
  // `close` is called (from any thread) on shutdown after the drain period; it must post
  // to the connection's strand itself.
  std::optional<std::uint64_t> admit(std::function<void()> close);
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
  mutable std::mutex mutex_;
  boost::asio::ip::tcp::endpoint listen_;
  std::map<std::uint64_t, std::function<void()>> open_;
  std::uint64_t next_id_ = 1;
  std::atomic<long> pending_lines_{0};
};

}  // namespace tlsprobe::proxy
