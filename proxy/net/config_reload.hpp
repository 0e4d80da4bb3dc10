// ConfigReload: SIGHUP makes a running `tlsprobe proxy` read its configuration again
// (`systemctl reload tlsprobe`, deploy/systemd/tlsprobe.service's ExecReload).
//
// The loader (tools/proxy_cmd.cpp) reads the config file, applies the command-line flags over
// it exactly as at start, and builds the new settings and side probe (trust anchors and
// warn_days included). On success the server hands them to connections accepted from then on;
// open connections keep the settings they started with and are never dropped
// (proxy/net/context_generations.hpp). On failure (a syntax error, an unknown key, an unreadable
// CA file) nothing changes and `report` gets one line naming the file and line.
//
// What a reload cannot change (the listen address, mode, intercept CA, log file, admin
// listener, watched sites' schedule) keeps its old value; the loader says so in a warning.
#pragma once

#include "proxy/net/proxy_settings.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace tlsprobe::proxy {

class Server;
class SideProbe;

struct ReloadedSettings {
  ProxySettings settings;
  std::shared_ptr<SideProbe> side_probe;  // null: keep the current one
  std::vector<std::string> warnings;      // one line each, reported as they are
};

// The new settings, or the one-line reason they could not be built.
using SettingsLoader = std::function<std::variant<ReloadedSettings, std::string>()>;
// Receives each line to show (without "tlsprobe proxy: " and without a newline).
using ReloadReporter = std::function<void(const std::string& line)>;

class ConfigReload {
 public:
  // Listens for SIGHUP on the server's io_context from construction (before that, SIGHUP
  // still has its default action: terminate). `server` must outlive this object.
  ConfigReload(Server& server, SettingsLoader loader, ReloadReporter report);
  ~ConfigReload();
  ConfigReload(const ConfigReload&) = delete;
  ConfigReload& operator=(const ConfigReload&) = delete;

  // One reload now (what SIGHUP does); true when the new settings took effect.
  bool reload();
  // Reloads that took effect / that failed and kept the old settings.
  unsigned applied() const { return applied_; }
  unsigned rejected() const { return rejected_; }

 private:
  void wait_for_signal();

  Server& server_;
  SettingsLoader loader_;
  ReloadReporter report_;
  boost::asio::signal_set hup_;
  unsigned applied_ = 0;
  unsigned rejected_ = 0;
};

}  // namespace tlsprobe::proxy
