// An intercepting proxy in-process for the intercept tests: proxy::build_proxy on
// 127.0.0.1:0 with the CA in a temporary state dir, the real side prober, a connection log in
// a temp dir, running on two threads until the fixture is destroyed. Clients are real curl.
#pragma once

#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "proxy/app/proxy_app.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/session/intercept_session.hpp"
#include "support/curl.hpp"
#include "support/in_process_proxy.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
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

using tlsprobe::testsupport::TempDir;

struct ProxyOptions {
  certs::Chain anchors{};  // upstream trust (no system store: tests are hermetic)
  config::UpstreamErrorPolicy policy = config::UpstreamErrorPolicy::explain;
  std::vector<std::string> no_intercept{};
  std::map<std::string, std::string> resolve{};  // name -> 127.0.0.1
  std::uint32_t max_header_bytes = 32 * 1024;
  std::chrono::milliseconds idle{300'000};
  std::chrono::milliseconds upstream_response{60'000};
  std::chrono::milliseconds connect{config::Timeouts{}.connect};
  std::chrono::milliseconds handshake{config::Timeouts{}.handshake};
  std::chrono::milliseconds header{config::Timeouts{}.header};
};

// Built by proxy::build_proxy from a test Config, exactly as `tlsprobe proxy --intercept`
// wires it (support/in_process_proxy.hpp: prober, side probe, diagnosis, log, metrics); only
// the values are the tests'.
class InterceptingProxy {
 public:
  explicit InterceptingProxy(ProxyOptions o) {
    auto cfg = testsupport::hermetic_config();  // no system trust: only the tests' anchors
    if (!o.anchors.empty()) {
      const auto anchors = (files_ / "anchors.pem").string();
      std::ofstream(anchors) << certs::write_pem(o.anchors);
      cfg.trust.ca_files = {anchors};
    }
    cfg.intercept.enabled = true;
    cfg.intercept.state_dir = (files_ / "state").string();
    cfg.intercept.on_upstream_error = o.policy;
    cfg.intercept.no_intercept = o.no_intercept;
    cfg.resolve = o.resolve;
    cfg.limits.max_header_bytes = o.max_header_bytes;
    cfg.timeouts.idle = o.idle;
    cfg.timeouts.connect = o.connect;
    cfg.timeouts.handshake = o.handshake;
    cfg.timeouts.header = o.header;
    cfg.timeouts.drain = std::chrono::milliseconds(500);
    proxy::ProxyAppOptions options;
    options.upstream_response = o.upstream_response;
    proxy_.emplace(cfg, options, "icpt");
    CHECK(proxy_->app().ca_created());
    ca_path_ = (files_.path / "state" / "ca.pem").string();
  }

  // Graceful shutdown; run() then flushes the log. Idempotent.
  void stop() { proxy_->stop(); }

  std::string url() const { return proxy_->url(); }
  std::uint16_t port() const { return proxy_->port(); }
  const std::string& ca_path() const { return ca_path_; }
  proxy::Interceptor& interceptor() { return *proxy_->app().interceptor(); }
  proxy::Metrics& metrics() { return proxy_->metrics(); }

  // Every log line (stops the proxy first so that all lines are flushed).
  std::vector<boost::json::object> log_lines() { return proxy_->log_records(); }

 private:
  TempDir files_{"icpt"};  // anchors and the CA's state dir, outliving the proxy
  std::string ca_path_;
  std::optional<testsupport::InProcessProxy> proxy_;
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

// A site good.test (its hierarchy) that the proxy resolves to 127.0.0.1 and trusts.
struct GoodSiteLab {
  testpki::Hierarchy good = testpki::make_hierarchy({"good.test"}, testpki::now());
  ProxyOptions proxy_options() const {
    return {.anchors = {good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}};
  }
};

// good.test's hierarchy and its root as a PEM file, for clients that take a --cacert.
struct GoodRootFileLab {
  testpki::Hierarchy good = testpki::make_hierarchy({"good.test"}, testpki::now());
  testpki::TempPemFile root_pem{good.root.cert_pem()};
};

// The finding `code` of a log line, nullptr when absent.
inline const boost::json::object* finding(const boost::json::object& line,
                                          const std::string& code) {
  const auto* f = line.at("tlsprobe").as_object().if_contains("findings");
  if (!f) return nullptr;
  for (const auto& v : f->as_array())
    if (v.as_object().at("code").as_string() == code) return &v.as_object();
  return nullptr;
}

inline std::string evidence(const boost::json::object& f, const char* key) {
  // Evidence is typed (numbers and booleans as JSON): compare everything as text.
  const auto* v = f.at("evidence").as_object().if_contains(key);
  if (!v) return "";
  return v->is_string() ? std::string(v->as_string().c_str()) : boost::json::serialize(*v);
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
