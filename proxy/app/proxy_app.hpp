// ProxyApp: one configured proxy, wired once. build_proxy() turns a config::Config (file and
// flags already merged) into the running parts - server, connection log, metrics, prober,
// side probe, interceptor or reverse service, admin listener, watcher - the same way for
// `tlsprobe proxy` and for the tests that run a proxy in-process, so that a fixture cannot
// drift from production (its side-probe adapter, its diagnose options, its settings).
#pragma once

#include "certs/trust_store.hpp"
#include "config/config.hpp"
#include "inspect/finding.hpp"
#include "inspect/observation.hpp"
#include "proxy/net/config_reload.hpp"
#include "proxy/net/proxy_settings.hpp"
#include "proxy/net/server.hpp"
#include "proxy/probe/side_probe.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace tlsprobe::proxy {

class AdminListener;
class ConnectionLog;
class Metrics;
class Prober;
class ReverseService;
class Watcher;
struct RoundReport;

// A configuration that cannot run: one line, said as `tlsprobe proxy` says it (naming the
// flag or key), without the "tlsprobe proxy: " prefix.
struct ProxyBuildError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a config file has no key for.
struct ProxyAppOptions {
  // The CA's directory; empty: config's intercept.state_dir, then the default.
  std::string state_dir;
  unsigned threads = 0;  // 0: ProxySettings' default (half the cores, at least 1)
  // Upper bound on max_connections (tools/: what the descriptor limit allows); 0: none.
  std::size_t max_connections_cap = 0;
  // Forward/intercept response-head deadline (no config key; tests shorten it).
  std::optional<std::chrono::milliseconds> upstream_response;
  // Called with each watch round (the proxy announces its findings on stderr).
  std::function<void(const RoundReport&)> on_watch_round;
  bool log_colour = false;  // ANSI colour on announced findings (--color)
};

// ProxySettings from the config: listen address, allow-lists, auth, timeouts, limits,
// [resolve] and sites. Throws ProxyBuildError (a bad address or CIDR, a public listen
// address without `allow`, an admin policy error).
ProxySettings settings_from_config(const config::Config& cfg, const ProxyAppOptions& options = {});

// The diagnosis every probe result goes through: the trust store, warn_days and each
// [[site]]'s edge_cert, at the time of the call.
DiagnoseFunction diagnose_function(std::shared_ptr<const certs::TrustStore> trust, int warn_days,
                                   const std::vector<config::Site>& sites);

// The side probe's ProbeFunction: `prober` with the proxy's rules (SNI exactly as the client
// sent it, the address the client's connection reached, the site's origin).
ProbeFunction side_probe_function(std::shared_ptr<Prober> prober);

class ProxyApp {
 public:
  ProxyApp();
  ~ProxyApp();
  ProxyApp(ProxyApp&&) noexcept;
  ProxyApp& operator=(ProxyApp&&) noexcept;

  Server& server() { return *server_; }
  ConnectionLog& log() { return *log_; }
  Metrics& metrics() { return *metrics_; }
  SideProbe& side_probe() { return *side_probe_; }
  std::shared_ptr<Interceptor> interceptor() const { return settings().intercept; }
  std::shared_ptr<ReverseService> reverse() const { return reverse_; }
  const ProxySettings& settings() const;
  std::shared_ptr<const certs::TrustStore> trust() const { return trust_; }
  // Intercept mode: the CA's directory, and whether this start created the CA.
  const std::filesystem::path& state_dir() const { return state_dir_; }
  bool ca_created() const { return ca_created_; }
  // The admin listener's port; 0 when admin is off or could not listen (warned on stderr).
  std::uint16_t admin_port() const;

  // The settings and side probe a configuration reload (SIGHUP, proxy/net/config_reload.hpp)
  // hands to new connections, built from `next` the way build_proxy built the first ones (same
  // options, prober, log and metrics; the interceptor and its pins live for the process), with
  // a warning for each change that needs a restart. The one-line reason when `next` cannot run.
  std::variant<ReloadedSettings, std::string> reloaded_settings(const config::Config& next) const;

  // Starts the watcher, runs until the graceful shutdown has finished (a signal with
  // SignalHandling::install, or shutdown()), then stops the watcher, the admin listener and
  // the prober, and flushes the log. Call once.
  void run(SignalHandling signals);
  // Starts the graceful shutdown; thread-safe.
  void shutdown();

 private:
  friend ProxyApp build_proxy(const config::Config&, const ProxyAppOptions&);
  // Destroyed in reverse order: the watcher, admin, prober and services before the server
  // whose io_context they use, the server before the log and metrics it writes to.
  std::shared_ptr<const certs::TrustStore> trust_;
  std::unique_ptr<ConnectionLog> log_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<Prober> prober_;
  std::shared_ptr<SideProbe> side_probe_;
  std::shared_ptr<ReverseService> reverse_;
  std::unique_ptr<AdminListener> admin_;
  std::unique_ptr<Watcher> watcher_;
  std::function<void(const RoundReport&)> on_watch_round_;
  config::Config config_;  // as built: what restart-only keys still are
  ProxyAppOptions options_;
  std::filesystem::path state_dir_;
  bool ca_created_ = false;
  bool admin_up_ = false;
};

// Wires and starts listening (the proxy and the admin listener). Nothing runs until
// ProxyApp::run, which also starts the watcher (sites with edges). Throws ProxyBuildError.
ProxyApp build_proxy(const config::Config& cfg, const ProxyAppOptions& options = {});

}  // namespace tlsprobe::proxy
