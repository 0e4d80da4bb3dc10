// A proxy in this process for the end-to-end tests, built by proxy::build_proxy from a test
// config::Config exactly as `tlsprobe proxy` wires it (server, log, metrics, prober, side probe
// and its diagnosis, interceptor or reverse service), so that no fixture drifts from
// production. It listens when constructed, runs on its own threads until stop(), and keeps its
// connection log (and whatever else a test puts there) in a temporary directory.
#pragma once

#include "config/config.hpp"
#include "proxy/app/proxy_app.hpp"
#include "proxy/net/server.hpp"
#include "proxy/observe/metrics.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::testsupport {

// The base of every test config: 127.0.0.1:0, admin off, no system trust (a test adds the
// anchors it made to trust.ca_files), findings in the log only (a quiet stderr).
config::Config hermetic_config();

class InProcessProxy {
 public:
  // log.file: <dir>/connections.jsonl unless `cfg` names one; options.threads 0: two.
  explicit InProcessProxy(config::Config cfg, proxy::ProxyAppOptions options = {},
                          std::string_view tag = "inproc");
  ~InProcessProxy();
  InProcessProxy(const InProcessProxy&) = delete;
  InProcessProxy& operator=(const InProcessProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_.path; }
  proxy::ProxyApp& app() { return *app_; }
  proxy::ProxyContext& context() { return *app_->server().context(); }
  proxy::Metrics& metrics() { return app_->metrics(); }
  // Side probes that ran a handshake (tlsprobe_probes_total ok + failed), not cache hits.
  std::uint64_t probes_run();

  // Graceful shutdown (as SIGTERM); run() then stops the prober and flushes the log.
  // Idempotent.
  void stop();
  // Every line of the connection log as JSON (stops the proxy first: all lines are written).
  std::vector<boost::json::object> log_records();

 private:
  TempDir dir_;
  std::string log_path_;
  std::optional<proxy::ProxyApp> app_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace tlsprobe::testsupport
