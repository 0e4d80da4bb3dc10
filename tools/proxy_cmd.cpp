// `tlsprobe proxy`: the forward proxy (DESIGN.md section 5). Flags override the config
// file; every startup problem (bad flag, bad config, unreadable CA file, unusable listen
// address, log file that cannot be opened) is one line on stderr and exit status 64.
#include "commands.hpp"

#include "ca_hint.hpp"
#include "colour.hpp"

#include "certs/authority.hpp"
#include "certs/pem.hpp"
#include "certs/trust_store.hpp"
#include "config/address.hpp"
#include "config/exposure.hpp"
#include "config/load.hpp"
#include "proxy/app/proxy_app.hpp"
#include "proxy/net/config_reload.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/probe/watcher.hpp"
#include "proxy/session/intercept_session.hpp"
#include "proxy/session/reverse_service.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tlsprobe::tools {

namespace {

// 5000 -> "5", 2500 -> "2.5": the drain period as a person writes it.
std::string format_seconds(long long ms) {
  char buf[32];
  if (ms % 1000 == 0)
    std::snprintf(buf, sizeof buf, "%lld", ms / 1000);
  else
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(ms) / 1000.0);
  return buf;
}

struct ProxyFlags {
  std::string listen, config_file, log_file, mode, upstream, admin, state_dir;
  std::string upstream_sni, tls_cert, tls_key;  // reverse mode
  std::vector<std::string> allow_hosts;         // reverse mode: --allow-host
  std::vector<std::string> ca_files, allow, no_intercept;
  std::string auth, auth_file;
  std::vector<std::string> allow_destinations, admin_allow;  // docs/security.md item 6
  bool no_system_trust = false, intercept = false;
  std::optional<int> warn_days;
  std::optional<std::uint32_t> max_connections_per_client;
};

int usage_error(const std::string& line) {
  std::fprintf(stderr, "tlsprobe proxy: %s\n", line.c_str());
  return exit_usage;
}

// "USER:PASS" -> Auth; nullopt when there is no colon or the user is empty.
std::optional<config::Auth> parse_auth(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return config::Auth{text.substr(0, colon), text.substr(colon + 1)};
}

// The first line of `path` (trailing CR/LF removed); nullopt when it cannot be read.
std::optional<std::string> first_line_of(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return std::nullopt;
  std::string line;
  for (int c; (c = std::fgetc(f)) != EOF && c != '\n';) line += static_cast<char>(c);
  std::fclose(f);
  while (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A flag given for a mode it does not apply to is an error, not silently ignored: the user
// believes it does something. Returns the one-line reason, or "" when the flags fit.
std::string misplaced_flag(const ProxyFlags& f, config::Mode mode, bool intercept) {
  const bool reverse = mode == config::Mode::reverse;
  if (!reverse) {
    if (!f.upstream.empty()) return "--upstream applies to --mode reverse only";
    if (!f.upstream_sni.empty()) return "--upstream-sni applies to --mode reverse only";
    if (!f.tls_cert.empty()) return "--tls-cert applies to --mode reverse only";
    if (!f.tls_key.empty()) return "--tls-key applies to --mode reverse only";
    if (!f.allow_hosts.empty()) return "--allow-host applies to --mode reverse only";
  }
  if (reverse && intercept)
    return "--intercept applies to forward mode only (reverse mode already terminates TLS)";
  if (!f.no_intercept.empty() && !intercept) return "--no-intercept applies with --intercept only";
  return {};
}

// More descriptors than the default soft limit: every tunnel holds two.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::size_t fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<std::size_t>(rl.rlim_cur);
}

// The config file (when given) with the flags applied over it (flags win): at start and on
// every reload (SIGHUP). Returns the one-line error instead (a config error names file:line).
std::variant<config::Config, std::string> merged_config(const ProxyFlags& f,
                                                        std::vector<std::string>& warnings) {
  config::Config cfg;
  if (!f.config_file.empty()) {
    try {
      cfg = config::load_config(f.config_file);
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    if (const auto w = config::secrets_exposure_warning(f.config_file, cfg)) warnings.push_back(*w);
  }
  // Flags win over the file.
  if (!f.listen.empty()) cfg.listen = f.listen;
  if (!f.log_file.empty()) cfg.log.file = f.log_file;
  for (const auto& c : f.ca_files) cfg.trust.ca_files.push_back(c);
  if (f.no_system_trust) cfg.trust.system = false;
  if (f.warn_days) cfg.warn_days = *f.warn_days;
  for (const auto& a : f.allow) cfg.allow.push_back(a);
  for (const auto& a : f.allow_destinations) cfg.allow_destinations.push_back(a);
  for (const auto& a : f.admin_allow) cfg.admin_allow.push_back(a);
  if (f.max_connections_per_client)
    cfg.limits.max_connections_per_client = *f.max_connections_per_client;
  if (f.intercept) cfg.intercept.enabled = true;
  if (!f.mode.empty()) cfg.mode = *config::parse_mode(f.mode);
  if (!f.upstream.empty()) cfg.upstream = f.upstream;
  if (!f.upstream_sni.empty()) cfg.upstream_sni = f.upstream_sni;
  for (const auto& h : f.allow_hosts) {
    const bool wildcard = h.rfind("*.", 0) == 0 && h.size() > 2;
    const auto name = wildcard ? h.substr(2) : h;
    if (name.empty() || name.find(':') != std::string::npos || !proxy::valid_host_header(name))
      return std::string("--allow-host " + h + ": expected a host name or *.DOMAIN");
    cfg.allow_hosts.push_back(h);
  }
  if (!f.tls_cert.empty()) cfg.tls_cert = f.tls_cert;
  if (!f.tls_key.empty()) cfg.tls_key = f.tls_key;
  if (!f.admin.empty()) cfg.admin = f.admin;
  for (const auto& h : f.no_intercept) cfg.intercept.no_intercept.push_back(h);
  if (!f.auth.empty() || !f.auth_file.empty()) {
    std::string text = f.auth;
    if (!f.auth_file.empty()) {
      auto line = first_line_of(f.auth_file);
      if (!line) return std::string("--auth-file " + f.auth_file + ": cannot read it");
      text = *line;
    }
    auto auth = parse_auth(text);
    if (!auth)
      return std::string(
          std::string(f.auth_file.empty() ? "--auth" : "--auth-file " + f.auth_file) +
          ": expected USER:PASS");
    cfg.auth = std::move(*auth);
  }
  if (const auto why = misplaced_flag(f, cfg.mode, cfg.intercept.enabled); !why.empty())
    return std::string(why);

  return cfg;
}

}  // namespace

int proxy_main(int argc, char** argv) {
  CLI::App app{"Run the forward proxy that probes every TLS connection on the side",
               "tlsprobe proxy"};
  ProxyFlags f;
  app.add_option("--listen", f.listen, "ADDR:PORT to listen on (default 127.0.0.1:8080)");
  app.add_option("--config", f.config_file, "TOML config file")->check(CLI::ExistingFile);
  app.add_option("--log", f.log_file,
                 "connection log file (default ./tlsprobe-logs/connections.jsonl)");
  app.add_option("--ca-file", f.ca_files, "extra trust anchors (PEM), repeatable");
  app.add_flag("--no-system-trust", f.no_system_trust, "do not trust the system CA store");
  app.add_option("--warn-days", f.warn_days, "warn this many days before expiry (default 21)")
      ->check(CLI::Range(0, 3650));
  app.add_option("--allow", f.allow, "client CIDR allowed besides loopback, repeatable");
  app.add_option("--allow-destination", f.allow_destinations,
                 "loopback/link-local destination CIDR allowed while listening beyond "
                 "loopback, repeatable");
  app.add_option("--admin-allow", f.admin_allow,
                 "admin listener client CIDR besides loopback, repeatable (required for a "
                 "non-loopback --admin)");
  app.add_option("--max-connections-per-client", f.max_connections_per_client,
                 "open connections one client address may hold (default 256)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_flag("--intercept", f.intercept, "terminate TLS with the tlsprobe CA");
  app.add_option("--no-intercept", f.no_intercept,
                 "with --intercept: host glob tunnelled untouched (pinned apps), repeatable");
  auto* auth_opt =
      app.add_option("--auth", f.auth, "USER:PASS required from clients (Basic proxy auth)");
  app.add_option("--auth-file", f.auth_file,
                 "file whose first line is USER:PASS (keeps the password out of `ps`)")
      ->excludes(auth_opt);
  app.add_option("--state-dir", f.state_dir, "directory of the tlsprobe CA");
  app.add_option("--admin", f.admin, "admin listener ADDR:PORT or off");
  app.add_option("--mode", f.mode, "forward or reverse")
      ->check(CLI::IsMember({"forward", "reverse"}));
  app.add_option("--upstream", f.upstream, "reverse mode: upstream URL");
  app.add_option("--upstream-sni", f.upstream_sni, "reverse mode: SNI sent to the upstream");
  app.add_option("--allow-host", f.allow_hosts,
                 "reverse mode: a Host served besides the sites and the upstream (NAME or "
                 "*.DOMAIN), repeatable");
  app.add_option("--tls-cert", f.tls_cert, "reverse mode: certificate chain (PEM) for clients");
  app.add_option("--tls-key", f.tls_key, "reverse mode: private key (PEM) of --tls-cert");
  std::string color = "auto";
  app.add_option("--color", color,
                 "colour the finding lines on stderr: auto (a terminal, "
                 "unless NO_COLOR is set), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  // Warnings are printed even when start-up then fails: a password readable by others is
  // worth saying whatever else is wrong with the command line.
  std::vector<std::string> warnings;
  const auto print_warnings = [&warnings] {
    for (const auto& w : warnings) std::fprintf(stderr, "tlsprobe proxy: warning: %s\n", w.c_str());
    warnings.clear();
  };
  auto merged = merged_config(f, warnings);
  print_warnings();
  if (auto* error = std::get_if<std::string>(&merged)) return usage_error(*error);
  config::Config cfg = std::move(std::get<config::Config>(merged));
  raise_fd_limit();
  proxy::ProxyAppOptions options;
  options.state_dir = f.state_dir;
  options.log_colour = colour_enabled(color, STDERR_FILENO);
  // Two descriptors per tunnel, and some left for the prober, the log and accept's reserve.
  options.max_connections_cap = fd_limit() > 256 ? (fd_limit() - 128) / 2 : 64;
  // The addresses and policies first: a config that cannot run says so before the warnings
  // about how it is exposed.
  try {
    (void)proxy::settings_from_config(cfg, options);
  } catch (const proxy::ProxyBuildError& e) {
    return usage_error(e.what());
  }
  warnings = config::exposure_warnings(cfg);
  print_warnings();
  // The watcher speaks like the proxy: each new finding once on stderr (per subject and code;
  // ConnectionLog::announce honours [log] stderr_findings).
  proxy::ConnectionLog* announcer = nullptr;
  options.on_watch_round = [&announcer](const proxy::RoundReport& round) {
    for (const auto& site : round.sites)
      for (const auto& finding : site.findings) announcer->announce(finding);
  };
  std::optional<proxy::ProxyApp> proxy_app;
  try {
    proxy_app.emplace(proxy::build_proxy(cfg, options));
  } catch (const proxy::ProxyBuildError& e) {
    return usage_error(e.what());
  }
  announcer = &proxy_app->log();
  if (proxy_app->ca_created())
    std::fprintf(stderr,
                 "tlsprobe proxy: created the tlsprobe CA in %s (SHA-256 %s); trust it from "
                 "http://tlsprobe.ca/ or `%s > tlsprobe-ca.pem`\n",
                 proxy_app->state_dir().c_str(),
                 certs::colon_fingerprint(proxy_app->interceptor()->ca().certificate()).c_str(),
                 ca_command("export", proxy_app->state_dir()).c_str());
  // SIGHUP (systemctl reload): the config file and the same flags again; new connections get
  // the new settings, open ones keep theirs (proxy/net/config_reload.hpp). A bad file changes
  // nothing and says why in one line (file:line).
  proxy::ConfigReload reload(
      proxy_app->server(),
      [&]() -> std::variant<proxy::ReloadedSettings, std::string> {
        std::vector<std::string> next_warnings;
        auto next_merged = merged_config(f, next_warnings);
        if (auto* error = std::get_if<std::string>(&next_merged)) return *error;
        auto next = proxy_app->reloaded_settings(std::get<config::Config>(next_merged));
        if (auto* r = std::get_if<proxy::ReloadedSettings>(&next))
          r->warnings.insert(r->warnings.end(), next_warnings.begin(), next_warnings.end());
        return next;
      },
      [](const std::string& line) {
        std::fprintf(stderr, "tlsprobe proxy: %s\n", line.c_str());
        std::fflush(stderr);
      });
  // The startup lines are printed from inside the io loop: run() lets the signal handlers
  // below be installed before the loop runs, so a script that reads the port and stops us at
  // once still gets a drain and a flushed log (printed earlier, a quick SIGTERM killed the
  // process outright). The listening line comes last: once it is there, all is up. It shows
  // the bound address, so `--listen 127.0.0.1:0` announces the port the OS picked.
  const auto ep = proxy_app->server().local_endpoint();
  boost::asio::post(
      proxy_app->server().io_context(),
      [shown = config::format_host_port(ep.address().to_string(), ep.port()),
       mode = cfg.mode == config::Mode::forward && cfg.intercept.enabled
                  ? std::string("intercept")
                  : std::string(config::to_string(cfg.mode)),
       log_file = cfg.log.file, admin_port = proxy_app->admin_port()] {
        if (admin_port)
          std::fprintf(stderr, "tlsprobe proxy: admin listener on port %u (/metrics, /healthz)\n",
                       static_cast<unsigned>(admin_port));
        std::fprintf(stderr, "tlsprobe proxy listening on %s (%s mode), log: %s\n", shown.c_str(),
                     mode.c_str(), log_file.c_str());
        std::fflush(stderr);
      });
  // Ctrl-C (or SIGTERM) once: say what the drain waits for and how long, then drain.
  // Twice: the user does not want to wait; flush the log and leave at once (130).
  auto& server = proxy_app->server();
  boost::asio::signal_set stop_signals(server.io_context(), SIGINT, SIGTERM);
  bool draining_announced = false;
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!draining_announced) {
      draining_announced = true;
      const auto drain_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeouts.drain).count();
      std::fprintf(stderr,
                   "tlsprobe proxy: stopping; draining %zu open connection%s for at most %s s "
                   "(Ctrl-C again to exit at once)\n",
                   server.context()->open_connections(),
                   server.context()->open_connections() == 1 ? "" : "s",
                   format_seconds(drain_ms).c_str());
      std::fflush(stderr);
      server.shutdown();
      stop_signals.async_wait(on_signal);
      return;
    }
    std::fprintf(stderr, "tlsprobe proxy: interrupted again: exiting now, without draining\n");
    proxy_app->log().stop();
    std::fflush(nullptr);
    std::_Exit(exit_interrupted);
  };
  stop_signals.async_wait(on_signal);
  proxy_app->run(proxy::SignalHandling::none);
  stop_signals.cancel();
  std::fprintf(stderr, "tlsprobe proxy: stopped; %llu log lines, %llu dropped\n",
               static_cast<unsigned long long>(proxy_app->log().lines_submitted()),
               static_cast<unsigned long long>(proxy_app->log().lines_dropped()));
  return exit_ok;
}

}  // namespace tlsprobe::tools
