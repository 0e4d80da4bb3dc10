// `tlsprobe watch --config FILE [--once] [--log FILE] [--ca-file PEM]... [--no-system-trust]
//                 [--format text|json] [--warn-days N] [--at RFC3339] [--admin ADDR:PORT|off]`
// (DESIGN.md sections 5 and 8 "Config and watch").
//
// Probes every [[site]] of the config — each edge address on its own and the origin — one
// round at once, then every watch_interval ± 10 %, until SIGINT/SIGTERM (then the round in
// flight completes, the log is flushed and the exit status is 0). Each round writes one log
// record per handshake to the connection log (default: the proxy's, config `log.file`) and
// prints the findings on stdout: text, or one JSON object per round and line.
// With --once: one round, no jitter, no admin listener, and the exit status of probe:
// 0 no error finding, 1 error findings, 2 some address could not complete a handshake,
// 64 usage or local input errors (a config error is printed as file:line:column: message).
// Without --once, metrics are served on --admin (default: config `admin`); a busy admin port
// is a warning, not a failure.
#include "certs/certificate.hpp"
#include "certs/pem.hpp"
#include "certs/trust_store.hpp"
#include "colour.hpp"
#include "commands.hpp"
#include "config/exposure.hpp"
#include "config/load.hpp"
#include "proxy/observe/admin_listener.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/probe/watcher.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::tools {
namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tlsprobe watch: %s\n", message.c_str());
  return exit_usage;
}

std::string shown(std::string_view text) { return certs::escape_for_display(text); }

void print_text(const proxy::RoundReport& round, bool colour) {
  for (const auto& site : round.sites) {
    std::printf("%s  (at %s)\n", shown(site.host).c_str(), certs::format_rfc3339(site.at).c_str());
    for (const auto& hr : site.handshakes) {
      const auto& h = hr.handshake;
      std::printf("  %-6s %s", std::string(inspect::to_string(h.role)).c_str(),
                  shown(h.address).c_str());
      if (h.outcome == inspect::HandshakeOutcome::ok && !h.chain.empty()) {
        const auto& leaf = h.chain.front();
        const auto days =
            std::chrono::duration_cast<std::chrono::days>(leaf.not_after() - site.at).count();
        std::printf("  %s  not after %s (%lld days)  sha256 %.16s...\n",
                    shown(leaf.subject()).c_str(), certs::format_rfc3339(leaf.not_after()).c_str(),
                    static_cast<long long>(days), leaf.sha256_hex().c_str());
      } else {
        std::printf("  no handshake (%s)\n", std::string(inspect::to_string(h.failure)).c_str());
      }
      if (hr.findings.empty()) std::printf("    ok\n");
      for (const auto& f : hr.findings) {
        // Padded before colouring: escape codes take no columns.
        std::string severity(inspect::to_string(f.severity));
        severity.resize(std::max<std::size_t>(severity.size(), 7), ' ');
        std::printf("    %s %s: %s\n", coloured_severity(severity, colour).c_str(), f.code.c_str(),
                    shown(f.message).c_str());
        if (!f.remedy.empty()) std::printf("            fix: %s\n", shown(f.remedy).c_str());
      }
    }
  }
  std::fflush(stdout);
}

void print_json(const proxy::RoundReport& round) {
  boost::json::array sites;
  for (const auto& site : round.sites) {
    boost::json::array records;
    for (const auto& hr : site.handshakes) records.push_back(hr.record);
    boost::json::object s;
    s["host"] = proxy::sanitize_utf8(site.host);
    s["at"] = certs::format_rfc3339(site.at);
    s["records"] = std::move(records);
    sites.push_back(std::move(s));
  }
  boost::json::object out;
  out["sites"] = std::move(sites);
  out["error"] = round.any_error();
  out["failed_handshake"] = round.any_failed_handshake();
  const std::string line = boost::json::serialize(out);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

int watch_main(int argc, char** argv) {
  CLI::App app{"Probe configured sites (edges and origin) on a schedule.", "tlsprobe watch"};
  std::string config_path, log_path, format = "text", at_text, admin, color = "auto";
  std::vector<std::string> ca_files;
  bool once = false, no_system_trust = false;
  int warn_days = -1;
  app.add_option("--config", config_path, "TOML config with [[site]] entries")->required();
  app.add_flag("--once", once, "one round at once, then exit with probe's exit status");
  auto* log_opt = app.add_option("--log", log_path,
                                 "connection log file (default: config log.file, "
                                 "./tlsprobe-logs/connections.jsonl)");
  app.add_option("--ca-file", ca_files, "extra trust anchors (PEM), repeatable");
  app.add_flag("--no-system-trust", no_system_trust, "do not trust the system store");
  app.add_option("--format", format, "stdout format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  auto* warn_opt = app.add_option("--warn-days", warn_days, "expiry warning threshold in days")
                       ->check(CLI::NonNegativeNumber);
  app.add_option("--at", at_text, "evaluation time (RFC 3339) instead of the clock");
  app.add_option("--color", color, kColorHelp)->check(CLI::IsMember({"auto", "always", "never"}));
  auto* admin_opt =
      app.add_option("--admin", admin, "metrics listener ADDR:PORT or off (not with --once)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  config::Config cfg;
  try {
    cfg = config::load_config(config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());  // file:line:column: message (a contract)
    return exit_usage;
  }
  if (cfg.sites.empty()) return usage_error(config_path + ": no [[site]] to watch");
  if (log_opt->count() > 0) cfg.log.file = log_path;
  if (warn_opt->count() > 0) cfg.warn_days = warn_days;
  if (admin_opt->count() > 0) cfg.admin = admin;
  // The admin listener runs only without --once; beyond loopback it needs admin_allow.
  if (auto err = config::admin_policy_error(cfg.admin, cfg.admin_allow); !err.empty() && !once)
    return usage_error(err);
  for (auto& f : ca_files) cfg.trust.ca_files.push_back(f);
  if (no_system_trust) cfg.trust.system = false;

  std::optional<certs::TimePoint> at;
  if (!at_text.empty()) {
    at = certs::parse_rfc3339(at_text);
    if (!at) return usage_error("--at: not an RFC 3339 time: " + at_text);
  }

  std::shared_ptr<const certs::TrustStore> trust;
  try {
    trust = std::make_shared<const certs::TrustStore>(
        cfg.trust.system ? certs::SystemTrust::include : certs::SystemTrust::exclude,
        cfg.trust.ca_files);
  } catch (const std::exception& e) {  // PemError names the file
    return usage_error(e.what());
  }

  std::unique_ptr<proxy::ConnectionLog> log;
  try {
    proxy::ConnectionLogOptions lo;
    lo.path = cfg.log.file;
    lo.max_file_bytes = static_cast<std::size_t>(cfg.log.max_size_mb) * 1024 * 1024;
    lo.max_files = cfg.log.max_files;
    log = std::make_unique<proxy::ConnectionLog>(lo);
  } catch (const std::exception& e) {
    return usage_error(e.what());
  }

  proxy::Metrics metrics;
  metrics.set_log_lines_dropped_source([l = log.get()] { return l->lines_dropped(); });

  boost::asio::io_context io;
  proxy::WatchOptions options;
  try {
    options = proxy::watch_options_from(cfg, trust);
  } catch (const std::exception& e) {  // crl_files, ct_log_list: the message names the file
    return usage_error(e.what());
  }
  if (at) options.now = [t = *at] { return t; };
  proxy::Watcher watcher(
      io, std::move(options), [l = log.get()](const std::string& line) { l->write(line); },
      &metrics);
  proxy::AdminListener admin_listener(io, metrics);
  admin_listener.set_client_filter(config::admin_client_filter(cfg.admin_allow));

  const bool colour = colour_enabled(color, STDOUT_FILENO);
  auto print = [&format, colour](const proxy::RoundReport& r) {
    if (format == "json")
      print_json(r);
    else
      print_text(r, colour);
  };

  // SIGINT/SIGTERM: no new round; the one in flight completes (bounded by the probe
  // timeout) so its records are written, then io.run() returns and the log is flushed.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    watcher.stop();
    admin_listener.stop();
  });

  int status = exit_ok;
  if (once) {
    watcher.run_once([&](proxy::RoundReport r) {
      print(r);
      status = r.any_failed_handshake() ? exit_unreachable
               : r.any_error()          ? exit_findings
                                        : exit_ok;
      boost::system::error_code ignored;
      signals.cancel(ignored);  // nothing else keeps io busy: run() returns
    });
  } else {
    proxy::start_admin_or_warn(admin_listener, cfg.admin);
    watcher.start(print);
  }
  io.run();
  log->stop();
  return status;
}

}  // namespace tlsprobe::tools
