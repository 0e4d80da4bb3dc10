#include "proxy/app/proxy_app.hpp"

#include "certs/authority.hpp"
#include "config/address.hpp"
#include "config/exposure.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/observe/admin_listener.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/probe/prober.hpp"
#include "proxy/probe/watcher.hpp"
#include "proxy/session/intercept_session.hpp"
#include "proxy/session/pins_admin.hpp"
#include "proxy/session/reverse_service.hpp"
#include "proxy/session/reverse_session.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <map>

namespace tlsprobe::proxy {

ProxySettings settings_from_config(const config::Config& cfg, const ProxyAppOptions& options) {
  ProxySettings s;
  // Port 0: the OS picks a free port; the startup line prints the bound one.
  const auto hp = config::parse_listen_address(cfg.listen, 0);
  if (!hp) throw ProxyBuildError("--listen " + cfg.listen + ": " + hp.error);
  boost::system::error_code aec;
  const auto listen_addr =
      boost::asio::ip::make_address(hp->host == "localhost" ? "127.0.0.1" : hp->host, aec);
  if (aec) throw ProxyBuildError("--listen " + cfg.listen + ": the address must be an IP literal");
  s.listen = {listen_addr, hp->port};
  for (const auto& a : cfg.allow) {
    auto c = config::parse_cidr(a);
    if (!c) throw ProxyBuildError("--allow " + a + ": " + c.error);
    s.allow.push_back(*c);
  }
  if (!config::is_loopback(listen_addr.to_string()) && s.allow.empty())
    throw ProxyBuildError("refusing to listen on " + cfg.listen +
                          ", a non-loopback address, without --allow CIDR (who may use the proxy)");
  for (const auto& a : cfg.allow_destinations) {
    auto c = config::parse_cidr(a);
    if (!c) throw ProxyBuildError("--allow-destination " + a + ": " + c.error);
    s.allow_destinations.push_back(*c);
  }
  if (auto err = config::admin_policy_error(cfg.admin, cfg.admin_allow); !err.empty())
    throw ProxyBuildError(err);
  if (cfg.auth) s.basic_auth = cfg.auth->user + ":" + cfg.auth->password;
  s.timeouts.connect = cfg.timeouts.connect;
  s.timeouts.handshake = cfg.timeouts.handshake;
  s.timeouts.header = cfg.timeouts.header;
  s.timeouts.idle = cfg.timeouts.idle;
  s.timeouts.probe = cfg.timeouts.probe;
  s.timeouts.drain = cfg.timeouts.drain;
  if (options.upstream_response) s.timeouts.upstream_response = *options.upstream_response;
  s.limits.max_connections = cfg.limits.max_connections;
  if (options.max_connections_cap != 0)
    s.limits.max_connections = std::min(s.limits.max_connections, options.max_connections_cap);
  s.limits.max_header_bytes = cfg.limits.max_header_bytes;
  s.limits.max_connections_per_client = cfg.limits.max_connections_per_client;
  s.probe_cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.probe_cache_ttl);
  s.resolve = cfg.resolve;
  s.sites = cfg.sites;
  if (options.threads != 0) s.threads = options.threads;
  return s;
}

DiagnoseFunction diagnose_function(std::shared_ptr<const certs::TrustStore> trust, int warn_days,
                                   const std::vector<config::Site>& sites) {
  std::map<std::string, inspect::EdgeCert> edge_cert;
  for (const auto& site : sites)
    edge_cert[site.host] =
        site.edge_cert == config::EdgeCert::own ? inspect::EdgeCert::own : inspect::EdgeCert::same;
  return [trust = std::move(trust), warn_days, edge_cert](const inspect::Observations& obs) {
    inspect::DiagnoseOptions o;
    o.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    o.warn_days = warn_days;
    o.trust = trust.get();
    if (auto it = edge_cert.find(obs.host); it != edge_cert.end()) o.edge_cert = it->second;
    return inspect::diagnose(obs, o);
  };
}

ProbeFunction side_probe_function(std::shared_ptr<Prober> prober) {
  return [prober = std::move(prober)](const SideProbeRequest& r,
                                      std::function<void(inspect::Observations)> done) {
    ProbeRequest req;
    req.host = r.host;
    req.port = r.port;
    req.target = config::format_host_port(r.host, r.port);
    req.connect = r.dial;
    if (r.site) req.origin = r.site->origin;
    if (r.sni) {
      req.sni_mode = SniMode::name;
      req.sni_name = *r.sni;
    } else {
      req.sni_mode = SniMode::none;
    }
    req.sni_checks = SniChecks::with_sni_required;
    req.timeout = r.timeout;
    prober->probe(std::move(req), std::move(done));
  };
}

ProxyApp::ProxyApp() = default;
ProxyApp::~ProxyApp() = default;
ProxyApp::ProxyApp(ProxyApp&&) noexcept = default;
ProxyApp& ProxyApp::operator=(ProxyApp&&) noexcept = default;

const ProxySettings& ProxyApp::settings() const { return server_->context()->settings; }

std::uint16_t ProxyApp::admin_port() const { return admin_up_ ? admin_->port() : 0; }

void ProxyApp::shutdown() { server_->shutdown(); }

namespace {

// What a reload read but cannot apply without a restart: one warning line each, so the
// operator is not left believing the change is live.
std::vector<std::string> restart_only_changes(const config::Config& was,
                                              const config::Config& now) {
  std::vector<std::string> out;
  auto note = [&out](bool changed, const char* what) {
    if (changed) out.push_back(std::string(what) + " changed: takes effect after a restart");
  };
  note(was.listen != now.listen, "listen");
  note(was.mode != now.mode, "mode");
  note(was.intercept.enabled != now.intercept.enabled, "intercept.enabled");
  note(was.log.file != now.log.file, "log.file");
  note(was.admin != now.admin, "admin");
  note(was.watch_interval != now.watch_interval, "watch_interval");
  if (was.mode == config::Mode::reverse)
    note(was.upstream != now.upstream || was.upstream_sni != now.upstream_sni ||
             was.tls_cert != now.tls_cert || was.tls_key != now.tls_key,
         "the reverse upstream or its certificate");
  if (was.intercept.enabled)
    note(was.warn_days != now.warn_days || was.trust.ca_files != now.trust.ca_files ||
             was.trust.system != now.trust.system,
         "warn_days or [trust] for intercepted connections");
  return out;
}

std::shared_ptr<const certs::TrustStore> trust_from(const config::Config& cfg) {
  try {
    return std::make_shared<const certs::TrustStore>(
        cfg.trust.system ? certs::SystemTrust::include : certs::SystemTrust::exclude,
        cfg.trust.ca_files);
  } catch (const std::exception& e) {
    throw ProxyBuildError(e.what());
  }
}

}  // namespace

std::variant<ReloadedSettings, std::string> ProxyApp::reloaded_settings(
    const config::Config& next) const {
  ReloadedSettings r;
  try {
    r.settings = settings_from_config(next, options_);
    const auto trust = trust_from(next);
    r.settings.intercept = interceptor();  // the CA and its pins live for the process
    r.side_probe = std::make_shared<SideProbe>(
        side_probe_function(prober_), diagnose_function(trust, next.warn_days, next.sites),
        r.settings.probe_cache_ttl, next.log.stderr_findings ? log_.get() : nullptr);
  } catch (const ProxyBuildError& e) {
    return std::string(e.what());
  }
  r.side_probe->set_metrics(metrics_.get());
  r.warnings = restart_only_changes(config_, next);
  for (auto& w : config::exposure_warnings(next)) r.warnings.push_back(std::move(w));
  return r;
}

void ProxyApp::run(SignalHandling signals) {
  // The watcher's first round is queued now, after whatever the caller posted (the startup
  // lines), so that they come first.
  if (watcher_ && on_watch_round_)
    watcher_->start([each = on_watch_round_](RoundReport round) { each(round); });
  else if (watcher_)
    watcher_->start();
  server_->run(signals);
  if (watcher_) watcher_->stop();
  admin_->stop();
  prober_.reset();
  log_->stop();
}

ProxyApp build_proxy(const config::Config& cfg, const ProxyAppOptions& options) {
  ProxyApp app;
  app.config_ = cfg;
  app.options_ = options;
  app.options_.on_watch_round = {};  // the reload needs only the settings' options
  ProxySettings s = settings_from_config(cfg, options);
  app.trust_ = trust_from(cfg);
  const std::string state_dir =
      options.state_dir.empty() ? cfg.intercept.state_dir : options.state_dir;
  if (cfg.intercept.enabled) {
    // Intercept mode (proxy/session/intercept_session.hpp); the CA is created on the first start.
    app.state_dir_ =
        state_dir.empty() ? certs::default_state_dir() : std::filesystem::path(state_dir);
    try {
      auto setup =
          make_interceptor(app.state_dir_, *app.trust_, cfg.warn_days,
                           cfg.intercept.on_upstream_error, cfg.intercept.no_intercept,
                           std::chrono::duration_cast<std::chrono::seconds>(cfg.intercept.pin_ttl));
      s.intercept = setup.interceptor;
      app.ca_created_ = setup.ca_created;
    } catch (const std::exception& e) {
      throw ProxyBuildError(e.what());
    }
  }
  try {
    ConnectionLogOptions lo;
    lo.announce_findings = cfg.log.stderr_findings;
    lo.colour = options.log_colour;
    lo.keep_query = cfg.log.keep_query;
    lo.path = cfg.log.file;
    lo.max_file_bytes = static_cast<std::size_t>(cfg.log.max_size_mb) * 1024 * 1024;
    lo.max_files = cfg.log.max_files;
    app.log_ = std::make_unique<ConnectionLog>(lo);
  } catch (const std::exception& e) {
    throw ProxyBuildError(e.what());
  }

  // One registry for the server's lifetime (DESIGN.md section 8), scraped on --admin.
  app.metrics_ = std::make_unique<Metrics>();
  app.metrics_->set_log_lines_dropped_source(
      [log = app.log_.get()] { return log->lines_dropped(); });
  app.server_ = std::make_unique<Server>(s, app.log_.get());
  app.server_->set_metrics(app.metrics_.get());
  ProberOptions po;
  po.resolve = cfg.resolve;
  // Side probes complete chains from AIA as Chrome does; the prober caches each URL.
  po.aia_trust = *app.trust_;
  app.prober_ = std::make_shared<Prober>(app.server_->io_context(), po);
  auto diagnose = diagnose_function(app.trust_, cfg.warn_days, cfg.sites);
  app.side_probe_ =
      std::make_shared<SideProbe>(side_probe_function(app.prober_), diagnose, s.probe_cache_ttl,
                                  cfg.log.stderr_findings ? app.log_.get() : nullptr);
  app.side_probe_->set_metrics(app.metrics_.get());
  app.server_->set_side_probe(app.side_probe_);
  if (cfg.mode == config::Mode::reverse) {
    try {
      app.reverse_ = std::make_shared<ReverseService>(
          reverse_options_from_config(cfg, state_dir, app.trust_, diagnose));
    } catch (const std::exception& e) {
      throw ProxyBuildError(e.what());
    }
    app.server_->set_session_starter(reverse_session_starter(app.reverse_));
  }
  if (auto ec = app.server_->start())
    throw ProxyBuildError("cannot listen on " + cfg.listen + ": " + ec.message());

  app.admin_ = std::make_unique<AdminListener>(app.server_->io_context(), *app.metrics_);
  if (s.intercept) {  // the per-client pinned fallbacks: listed, cleared, counted
    auto& policy = s.intercept->policy();
    app.admin_->add_route(std::string(kPinsPath), pins_admin_route(policy));
    app.metrics_->set_intercept_pins_source([&policy] { return policy.pinned_count(); });
  }
  app.admin_->set_client_filter(config::admin_client_filter(cfg.admin_allow));
  app.admin_up_ = start_admin_or_warn(*app.admin_, cfg.admin) && app.admin_->port();
  // The admin port is one of our own listeners: never a destination (CONNECT or URL).
  if (app.admin_up_) app.server_->add_own_port(app.admin_->port());

  // Sites with edges are watched on a schedule too (DESIGN.md sections 5 and 8), through the
  // same log and metrics.
  WatchOptions wo;
  try {
    wo = watch_options_from(cfg, app.trust_);
  } catch (const std::exception& e) {  // crl_files, ct_log_list: the message names the file
    throw ProxyBuildError(e.what());
  }
  std::erase_if(wo.sites, [](const config::Site& site) { return site.edges.empty(); });
  if (!wo.sites.empty()) {
    app.watcher_ = std::make_unique<Watcher>(
        app.server_->io_context(), std::move(wo),
        [log = app.log_.get()](const std::string& line) { log->write(line); }, app.metrics_.get());
    app.on_watch_round_ = options.on_watch_round;
  }
  return app;
}

}  // namespace tlsprobe::proxy
