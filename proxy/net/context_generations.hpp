// ContextGenerations: the proxy's current ProxyContext and the ones a configuration reload
// (proxy/net/config_reload.hpp) retired while they still had connections. A new connection gets
// the current context, so it runs with the settings in force when it was accepted; an open
// connection keeps the context it started with until it closes. Shutdown drains, closes and
// waits for every generation, so a reload never drops a connection or a log line.
//
// Each generation keeps its own connection registry: after a reload, max_connections and
// max_connections_per_client count the connections accepted since that reload (older ones
// still count in their own generation until they close). Thread-safe.
#pragma once

#include "proxy/net/proxy_context.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace tlsprobe::proxy {

class ContextGenerations {
 public:
  explicit ContextGenerations(std::shared_ptr<ProxyContext> first);

  std::shared_ptr<ProxyContext> current() const;
  // Makes `next` current; the previous one is kept while it has open connections or
  // pending log lines (older idle ones are let go here).
  void replace(std::shared_ptr<ProxyContext> next);
  std::size_t count() const;

  // Sums and broadcasts over every generation still alive.
  std::size_t open_connections() const;
  long pending_lines() const;
  void set_draining();
  void close_all();

 private:
  std::vector<std::shared_ptr<ProxyContext>> snapshot() const;

  mutable std::mutex mutex_;
  std::shared_ptr<ProxyContext> current_;
  std::vector<std::shared_ptr<ProxyContext>> retired_;
};

}  // namespace tlsprobe::proxy
