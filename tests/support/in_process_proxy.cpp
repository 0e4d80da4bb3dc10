#include "support/in_process_proxy.hpp"

#include <boost/json/parse.hpp>

#include <fstream>

namespace tlsprobe::testsupport {

config::Config hermetic_config() {
  config::Config cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.admin = "off";
  cfg.trust.system = false;
  cfg.log.stderr_findings = false;
  return cfg;
}

InProcessProxy::InProcessProxy(config::Config cfg, proxy::ProxyAppOptions options,
                               std::string_view tag)
    : dir_(tag) {
  if (cfg.log.file.empty() || cfg.log.file == config::Config{}.log.file)
    cfg.log.file = (dir_ / "connections.jsonl").string();
  log_path_ = cfg.log.file;
  if (options.threads == 0) options.threads = 2;
  app_.emplace(proxy::build_proxy(cfg, options));
  port_ = app_->server().local_endpoint().port();
  thread_ = std::thread([this] { app_->run(proxy::SignalHandling::none); });
}

InProcessProxy::~InProcessProxy() { stop(); }

void InProcessProxy::stop() {
  if (!thread_.joinable()) return;
  app_->shutdown();
  thread_.join();
}

std::uint64_t InProcessProxy::probes_run() {
  const auto& m = app_->metrics();
  return m.counter_value("tlsprobe_probes_total", {"ok"}) +
         m.counter_value("tlsprobe_probes_total", {"failed"});
}

std::vector<boost::json::object> InProcessProxy::log_records() {
  stop();
  std::vector<boost::json::object> out;
  std::ifstream in(log_path_);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
  return out;
}

}  // namespace tlsprobe::testsupport
