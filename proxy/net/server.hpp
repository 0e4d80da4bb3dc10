// Server: one running forward proxy. Owns the io_context and its threads
// (hardware_concurrency by default), the listener, and the shutdown sequence:
// stop accepting -> let open connections finish for at most timeouts.drain -> close the
// rest -> wait (bounded by the probe timeout) for log lines still waiting on a probe ->
// return from run(). The caller then stops (flushes) the ConnectionLog.
#pragma once

#include "proxy/net/proxy_context.hpp"
#include "proxy/net/proxy_settings.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace tlsprobe::proxy {

class ConnectionLog;
class ContextGenerations;
class Listener;
class SessionConnection;
class SideProbe;
class Metrics;

enum class SignalHandling { install, none };

class Server {
 public:
  // `log` may be null (no connection log); it must outlive the server.
  Server(ProxySettings settings, ConnectionLog* log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The io_context the proxy runs on (the prober is built on it). Not running before run().
  boost::asio::io_context& io_context() { return ioc_; }
  // Optional; set before start().
  void set_side_probe(std::shared_ptr<SideProbe> probe) { side_probe_ = std::move(probe); }
  // Optional; set before start(). Must outlive the server.
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }
  // Optional (reverse mode); set before start(): serves accepted connections instead of
  // the forward proxy's client session.
  void set_session_starter(std::function<void(std::shared_ptr<SessionConnection>)> starter) {
    starter_ = std::move(starter);
  }

  // Binds and listens. An error (address in use…) is returned, nothing thrown.
  boost::system::error_code start();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // The current generation's context (a reload replaces it; see replace_settings).
  std::shared_ptr<ProxyContext> context() const;

  // A configuration reload (proxy/net/config_reload.hpp), after start(): connections accepted
  // from now on run with `settings` and `side_probe` (null: keep the current one); open ones
  // keep theirs until they close, and shutdown still drains them. The listen address and
  // thread count are not changed (they need a restart). Thread-safe.
  void replace_settings(ProxySettings settings, std::shared_ptr<SideProbe> side_probe);
  // The port of another listener of this process (the admin port), after start(): never a
  // destination, in this and every later generation.
  void add_own_port(std::uint16_t port);
  // Generations alive (1 + retired ones still holding connections); for tests.
  std::size_t context_generations() const;

  // Runs the proxy on settings.threads threads (the caller's among them) until the
  // shutdown sequence has finished. With SignalHandling::install, SIGINT/SIGTERM start it.
  void run(SignalHandling signals = SignalHandling::install);
  // Starts the graceful shutdown. Thread-safe, idempotent.
  void shutdown();

 private:
  void begin_shutdown();

  ProxySettings settings_;
  ConnectionLog* log_;
  boost::asio::io_context ioc_;
  std::shared_ptr<SideProbe> side_probe_;
  Metrics* metrics_ = nullptr;
  std::shared_ptr<ContextGenerations> generations_;
  std::mutex own_ports_mutex_;
  std::vector<std::uint16_t> own_ports_;
  std::shared_ptr<Listener> listener_;
  std::function<void(std::shared_ptr<SessionConnection>)> starter_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace tlsprobe::proxy
