// An intercepting proxy in-process for the intercept tests: Server on 127.0.0.1:0 with an
// Interceptor (CA in a temporary state dir), a real side prober, a connection log in a temp
// file, running on two threads until the fixture is destroyed. Clients are real curl runs.
#pragma once

#include "certs/pem.hpp"
#include "inspect/diagnose.hpp"
#include "pki/test_pki.hpp"
#include "proxy/net/server.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/probe/prober.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/session/intercept_session.hpp"
#include "support/curl.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::intercept_test {

namespace fs = std::filesystem;

using tlsprobe::testsupport::make_temp_dir;

struct ProxyOptions {
  certs::Chain anchors{};  // upstream trust (no system store: tests are hermetic)
  proxy::OnUpstreamError policy = proxy::OnUpstreamError::explain;
  std::vector<std::string> no_intercept{};
  std::map<std::string, std::string> resolve{};  // name -> 127.0.0.1
  std::uint32_t max_header_bytes = 32 * 1024;
  std::chrono::milliseconds idle{300'000};
  std::chrono::milliseconds upstream_response{60'000};
};

class InterceptingProxy {
 public:
  explicit InterceptingProxy(ProxyOptions o) : dir_(make_temp_dir("icpt")) {
    auto trust = certs::TrustStore::from_anchors(o.anchors, certs::SystemTrust::exclude);
    auto setup = proxy::make_interceptor(dir_ / "state", trust, 21, o.policy, o.no_intercept);
    CHECK(setup.ca_created);
    interceptor_ = setup.interceptor;
    ca_path_ = (dir_ / "state" / "ca.pem").string();
    proxy::ConnectionLogOptions lo;
    lo.path = (dir_ / "connections.jsonl").string();
    log_.emplace(lo);
    proxy::ProxySettings s;
    s.listen = {boost::asio::ip::make_address("127.0.0.1"), 0};
    s.threads = 2;
    s.resolve = o.resolve;
    s.intercept = interceptor_;
    s.limits.max_header_bytes = o.max_header_bytes;
    s.timeouts.idle = o.idle;
    s.timeouts.upstream_response = o.upstream_response;
    s.timeouts.drain = std::chrono::milliseconds(500);
    server_ = std::make_unique<proxy::Server>(s, &*log_);
    proxy::ProberOptions po;
    po.resolve = o.resolve;
    prober_ = std::make_shared<proxy::Prober>(server_->io_context(), po);
    auto trust_ptr = std::make_shared<certs::TrustStore>(trust);
    auto diagnose = [trust_ptr](const inspect::Observations& obs) {
      inspect::DiagnoseOptions d;
      d.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      d.trust = trust_ptr.get();
      return inspect::diagnose(obs, d);
    };
    auto prober = prober_;
    auto probe = [prober](const proxy::SideProbeRequest& r,
                          std::function<void(inspect::Observations)> done) {
      proxy::ProbeRequest req;
      req.host = r.host;
      req.port = r.port;
      req.target = r.host + ":" + std::to_string(r.port);
      req.connect = r.dial;
      req.sni_mode = r.sni ? proxy::SniMode::name : proxy::SniMode::none;
      if (r.sni) req.sni_name = *r.sni;
      req.timeout = r.timeout;
      prober->probe(std::move(req), std::move(done));
    };
    server_->set_side_probe(
        std::make_shared<proxy::SideProbe>(probe, diagnose, std::chrono::seconds(60)));
    REQUIRE_FALSE(server_->start());
    port_ = server_->local_endpoint().port();
    thread_ = std::thread([this] { server_->run(proxy::SignalHandling::none); });
  }

  ~InterceptingProxy() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void stop() {
    if (!thread_.joinable()) return;
    server_->shutdown();
    thread_.join();
    prober_.reset();
    log_->stop();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  const std::string& ca_path() const { return ca_path_; }
  proxy::Interceptor& interceptor() { return *interceptor_; }

  // Every log line (stops the proxy first so that all lines are flushed).
  std::vector<boost::json::object> log_lines() {
    stop();
    std::ifstream in(dir_ / "connections.jsonl");
    std::vector<boost::json::object> out;
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
    return out;
  }

 private:
  fs::path dir_;
  std::string ca_path_;
  std::shared_ptr<proxy::Interceptor> interceptor_;
  std::optional<proxy::ConnectionLog> log_;
  std::unique_ptr<proxy::Server> server_;
  std::shared_ptr<proxy::Prober> prober_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

using tlsprobe::testsupport::CurlResult;

// curl through `proxy` to `url`, trusting `cacert` (empty: curl's default store).
inline CurlResult curl(const InterceptingProxy& proxy, const std::string& url,
                       const std::string& cacert, std::vector<std::string> extra = {}) {
  std::vector<std::string> options = {"-sS", "--max-time", "20", "--proxy", proxy.url()};
  if (!cacert.empty()) {
    options.push_back("--cacert");
    options.push_back(cacert);
  }
  for (auto& e : extra) options.push_back(std::move(e));
  return testsupport::run_curl(options, {url}, std::chrono::seconds(30));
}

// Codes of a log line's tlsprobe.findings.
inline std::vector<std::string> finding_codes(const boost::json::object& line) {
  std::vector<std::string> out;
  const auto* t = line.if_contains("tlsprobe");
  if (!t || !t->is_object()) return out;
  const auto* f = t->as_object().if_contains("findings");
  if (!f || !f->is_array()) return out;
  for (const auto& v : f->as_array())
    if (v.is_object())
      if (const auto* c = v.as_object().if_contains("code"); c && c->is_string())
        out.emplace_back(c->as_string().c_str());
  return out;
}

inline bool has_code(const std::vector<std::string>& codes, const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

inline std::string str_at(const boost::json::object& o, std::initializer_list<const char*> path) {
  const boost::json::value* v = nullptr;
  const boost::json::object* cur = &o;
  for (const char* k : path) {
    if (!cur) return "";
    v = cur->if_contains(k);
    if (!v) return "";
    cur = v->is_object() ? &v->as_object() : nullptr;
  }
  if (v && v->is_string()) return std::string(v->as_string().c_str());
  return "";
}

}  // namespace tlsprobe::intercept_test
