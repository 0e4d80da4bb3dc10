// A proxy::Server running in-process on 127.0.0.1:0 for the end-to-end tests, with its
// connection log in a temp file, plus raw-socket and curl helpers.
#pragma once

#include "certs/trust_store.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/app/proxy_app.hpp"
#include "proxy/net/server.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/probe/prober.hpp"
#include "proxy/probe/side_probe.hpp"
#include "support/process.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::proxytest {

enum class Probing { off, real };

class RunningProxy {
 public:
  explicit RunningProxy(proxy::ProxySettings settings, Probing probing = Probing::off,
                        std::optional<certs::TrustStore> trust = std::nullopt);
  ~RunningProxy();
  RunningProxy(const RunningProxy&) = delete;
  RunningProxy& operator=(const RunningProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  proxy::ProxyContext& context() { return *server_->context(); }
  proxy::SideProbe* side_probe() { return side_.get(); }
  int probes_run() const { return probes_.load(); }

  // Graceful shutdown (as SIGTERM), then the log is flushed. Idempotent.
  void stop();
  // Every line of the connection log as JSON (call after stop()).
  std::vector<boost::json::object> log_records() const;

 private:
  std::string dir_, log_path_;
  std::unique_ptr<proxy::ConnectionLog> log_;
  std::unique_ptr<proxy::Server> server_;
  std::shared_ptr<proxy::Prober> prober_;
  std::shared_ptr<proxy::SideProbe> side_;
  std::optional<certs::TrustStore> trust_;
  std::atomic<int> probes_{0};
  std::thread thread_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

// Settings for tests: 127.0.0.1:0, two threads, short timeouts.
proxy::ProxySettings test_settings();

// A blocking client socket to 127.0.0.1:port with 5 s send/receive timeouts; -1 on failure.
int connect_to(std::uint16_t port);
bool send_all(int fd, const std::string& data);
// Reads until the peer closes, `limit` bytes, or the receive timeout.
std::string read_all(int fd, std::size_t limit = 1 << 20);
// Reads until "\r\n\r\n" (a response head), at most 64 KiB.
std::string read_head(int fd);
// Status code of "HTTP/1.1 NNN ..." or 0.
int status_of(const std::string& response);

// curl through the proxy; returns the process result (stdout = body).
testsupport::ProcessResult curl(const std::vector<std::string>& args);

std::string sha256_hex(const std::string& data);

// Looks up a dotted path ("tls.client.server_name") in a record; nullptr when absent.
const boost::json::value* find_path(const boost::json::object& o, const std::string& dotted);
// Codes of tlsprobe.findings.
std::vector<std::string> finding_codes(const boost::json::object& record);

}  // namespace tlsprobe::proxytest
