// A reverse-mode proxy running in-process on 127.0.0.1:0 (proxy::Server + ReverseService,
// a real Prober for the side probes), its connection log in a temp file, and curl playing
// the CDN. Every test stops it (graceful shutdown) before reading the log.
#pragma once

#include "certs/authority.hpp"
#include "certs/trust_store.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/app/proxy_app.hpp"
#include "proxy/net/server.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/probe/prober.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/session/reverse_service.hpp"
#include "proxy/session/reverse_session.hpp"
#include "support/process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::reverse_test {

inline proxy::ProxySettings test_settings() {
  proxy::ProxySettings s;
  s.listen = {boost::asio::ip::make_address("127.0.0.1"), 0};
  s.threads = 2;
  s.timeouts.connect = std::chrono::milliseconds(1500);
  s.timeouts.header = std::chrono::milliseconds(3000);
  s.timeouts.idle = std::chrono::milliseconds(5000);
  s.timeouts.probe = std::chrono::milliseconds(3000);
  s.timeouts.drain = std::chrono::milliseconds(500);
  s.timeouts.handshake = std::chrono::milliseconds(1500);
  s.timeouts.upstream_response = std::chrono::milliseconds(1500);
  return s;
}

// Options for an origin at `origin` ("127.0.0.1:PORT") trusted through `anchors`; the proxy
// shows clients leaves minted by a throwaway CA.
inline proxy::ReverseOptions test_options(const std::string& origin, const certs::Chain& anchors) {
  proxy::ReverseOptions o;
  o.upstream.address = *proxy::parse_authority(origin);
  o.authority = certs::Authority::make_throwaway();
  auto trust = std::make_shared<const certs::TrustStore>(certs::TrustStore::from_anchors(anchors));
  o.trust = trust;
  o.diagnose = [trust](const inspect::Observations& obs) {
    inspect::DiagnoseOptions d;
    d.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    d.trust = trust.get();
    return inspect::diagnose(obs, d);
  };
  // The name the tests' CDN asks for (the origin itself is an IP address): served.
  o.allowed_hosts = {"www.example.test"};
  return o;
}

class ReverseProxy {
 public:
  explicit ReverseProxy(proxy::ReverseOptions options,
                        proxy::ProxySettings settings = test_settings()) {
    char tmpl[] = "/tmp/tlsprobe-reverse-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    proxy::ConnectionLogOptions lo;
    lo.path = dir_ + "/connections.jsonl";
    log_ = std::make_unique<proxy::ConnectionLog>(lo);
    settings_ = settings;
    server_ = std::make_unique<proxy::Server>(settings, log_.get());
    server_->set_metrics(&metrics_);
    proxy::ProberOptions po;
    prober_ = std::make_shared<proxy::Prober>(server_->io_context(), po);
    // Production's adapter (proxy/app/proxy_app.hpp), counted.
    auto probe = [production = proxy::side_probe_function(prober_), this](
                     const proxy::SideProbeRequest& r,
                     std::function<void(inspect::Observations)> done) {
      ++probes_;
      production(r, std::move(done));
    };
    side_ = std::make_shared<proxy::SideProbe>(probe, options.diagnose, std::chrono::seconds(60));
    server_->set_side_probe(side_);
    service_ = std::make_shared<proxy::ReverseService>(std::move(options));
    server_->set_session_starter(reverse_session_starter(service_));
    if (auto ec = server_->start()) throw std::runtime_error("start: " + ec.message());
    port_ = server_->local_endpoint().port();
    thread_ = std::thread([this] { server_->run(proxy::SignalHandling::none); });
  }
  ~ReverseProxy() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::uint16_t port() const { return port_; }
  proxy::ReverseService& service() { return *service_; }
  const proxy::Metrics& metrics() const { return metrics_; }
  int probes() const { return probes_.load(); }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    server_->shutdown();
    thread_.join();
    prober_.reset();
    log_->stop();
  }

  std::vector<boost::json::object> records() {
    stop();
    std::vector<boost::json::object> out;
    std::ifstream in(dir_ + "/connections.jsonl");
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
    return out;
  }

 private:
  std::string dir_;
  proxy::ProxySettings settings_;
  proxy::Metrics metrics_;
  std::unique_ptr<proxy::ConnectionLog> log_;
  std::unique_ptr<proxy::Server> server_;
  std::shared_ptr<proxy::Prober> prober_;
  std::shared_ptr<proxy::SideProbe> side_;
  std::shared_ptr<proxy::ReverseService> service_;
  std::thread thread_;
  std::atomic<int> probes_{0};
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

// curl as the CDN: -k (the proxy's minted leaf), status code on the last line of stdout.
struct CurlResult {
  int status = 0;
  std::string body;
  std::string err;
};

inline CurlResult curl(std::vector<std::string> args) {
  std::vector<std::string> argv{"curl", "-sk", "--max-time", "10", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = testsupport::run_process(argv, std::chrono::seconds(15));
  CurlResult out;
  out.err = r.err;
  const auto nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    out.status = std::atoi(r.out.c_str() + nl + 1);
    out.body = r.out.substr(0, nl);
  }
  return out;
}

inline const boost::json::value* find_path(const boost::json::object& o, const std::string& path) {
  const boost::json::object* cur = &o;
  std::size_t start = 0;
  for (;;) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot - start);
    const auto* v = cur->if_contains(key);
    if (!v) return nullptr;
    if (dot == std::string::npos) return v;
    if (!v->is_object()) return nullptr;
    cur = &v->as_object();
    start = dot + 1;
  }
}

inline std::string str_at(const boost::json::object& o, const std::string& path) {
  const auto* v = find_path(o, path);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline std::vector<std::string> codes(const boost::json::object& record) {
  std::vector<std::string> out;
  if (const auto* f = find_path(record, "tlsprobe.findings"); f && f->is_array())
    for (const auto& x : f->as_array())
      if (const auto* c = x.as_object().if_contains("code")) out.emplace_back(c->as_string());
  return out;
}

inline bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace tlsprobe::reverse_test
