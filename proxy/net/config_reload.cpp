#include "proxy/net/config_reload.hpp"

#include "proxy/net/server.hpp"

#include <csignal>

namespace tlsprobe::proxy {

ConfigReload::ConfigReload(Server& server, SettingsLoader loader, ReloadReporter report)
    : server_(server),
      loader_(std::move(loader)),
      report_(std::move(report)),
      hup_(server.io_context(), SIGHUP) {
  wait_for_signal();
}

ConfigReload::~ConfigReload() {
  boost::system::error_code ignored;
  hup_.cancel(ignored);
}

void ConfigReload::wait_for_signal() {
  // Re-armed only after a reload finished: signals that arrive meanwhile are queued by the
  // signal_set and served one after the other, never two reloads at once.
  hup_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: shutting down
    reload();
    wait_for_signal();
  });
}

bool ConfigReload::reload() {
  auto result = loader_();
  if (auto* error = std::get_if<std::string>(&result)) {
    ++rejected_;
    report_("reload failed, keeping the previous configuration: " + *error);
    return false;
  }
  auto& next = std::get<ReloadedSettings>(result);
  for (const auto& w : next.warnings) report_("reload: warning: " + w);
  server_.replace_settings(std::move(next.settings), std::move(next.side_probe));
  ++applied_;
  report_("configuration reloaded: new connections use it, open ones keep theirs");
  return true;
}

}  // namespace tlsprobe::proxy
