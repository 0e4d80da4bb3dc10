// A reverse-mode proxy in-process on 127.0.0.1:0, built by proxy::build_proxy from a test
// Config as `tlsprobe proxy --mode reverse` wires it (support/in_process_proxy.hpp: the
// ReverseService, the real Prober for side probes, production's diagnosis, the CA in a temp
// state dir), and curl playing the CDN. Every test stops it (graceful shutdown) before reading
// the log.
#pragma once

#include "certs/authority.hpp"
#include "certs/pem.hpp"
#include "certs/trust_store.hpp"
#include "config/config.hpp"
#include "proxy/app/proxy_app.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/session/reverse_service.hpp"
#include "support/curl.hpp"
#include "support/in_process_proxy.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::reverse_test {

// A reverse proxy's test configuration and the anchors it trusts for its origins (written to
// the proxy's temp dir and named in trust.ca_files).
struct ReverseConfig {
  config::Config cfg;
  certs::Chain anchors;

  // A [[site]] whose requests go to their own origin ("127.0.0.1:PORT"); `origin_sni` empty:
  // the Host is the SNI.
  void add_site(const std::string& host, const std::string& origin,
                const std::string& origin_sni = {}) {
    config::Site site;
    site.host = host;
    site.origin = origin;
    site.origin_sni = origin_sni;
    cfg.sites.push_back(site);
  }
};

// Reverse mode in front of `origin` ("127.0.0.1:PORT", reached as https://), trusted through
// `anchors`, serving the name the tests' CDN asks for (www.example.test; the origin itself is
// an IP address), with short timeouts. The proxy shows clients leaves minted by its CA.
inline ReverseConfig test_config(const std::string& origin, const certs::Chain& anchors) {
  ReverseConfig r;
  r.cfg = testsupport::hermetic_config();
  r.cfg.mode = config::Mode::reverse;
  r.cfg.upstream = "https://" + origin;
  r.cfg.allow_hosts = {"www.example.test"};
  r.cfg.timeouts.connect = std::chrono::milliseconds(1500);
  r.cfg.timeouts.header = std::chrono::milliseconds(3000);
  r.cfg.timeouts.idle = std::chrono::milliseconds(5000);
  r.cfg.timeouts.probe = std::chrono::milliseconds(3000);
  r.cfg.timeouts.drain = std::chrono::milliseconds(500);
  r.cfg.timeouts.handshake = std::chrono::milliseconds(1500);
  r.anchors = anchors;
  return r;
}

// Options for a ReverseService on its own (the unit tests of routing and served names; no
// server, no origin): upstream `origin`, a throwaway CA, no anchors, production's diagnosis.
inline proxy::ReverseOptions service_options(const std::string& origin) {
  proxy::ReverseOptions o;
  o.upstream.address = *proxy::parse_authority(origin);
  o.authority = certs::Authority::make_throwaway();
  o.trust = std::make_shared<const certs::TrustStore>(certs::TrustStore::from_anchors({}));
  o.diagnose = proxy::diagnose_function(o.trust, config::Config{}.warn_days, {});
  o.allowed_hosts = {"www.example.test"};
  return o;
}

class ReverseProxy {
 public:
  explicit ReverseProxy(ReverseConfig rc) {
    if (!rc.anchors.empty()) {
      const auto anchors = (files_ / "anchors.pem").string();
      std::ofstream(anchors) << certs::write_pem(rc.anchors);
      rc.cfg.trust.ca_files = {anchors};
    }
    proxy::ProxyAppOptions options;
    options.state_dir = (files_ / "state").string();  // the CA, created on this first start
    options.upstream_response = std::chrono::milliseconds(1500);
    proxy_.emplace(rc.cfg, options, "reverse");
  }

  std::uint16_t port() const { return proxy_->port(); }
  proxy::ReverseService& service() { return *proxy_->app().reverse(); }
  proxy::Metrics& metrics() { return proxy_->metrics(); }
  std::uint64_t probes() { return proxy_->probes_run(); }
  void stop() { proxy_->stop(); }
  std::vector<boost::json::object> records() { return proxy_->log_records(); }

 private:
  testsupport::TempDir files_{"reverse"};  // anchors and state dir, outliving the proxy
  std::optional<testsupport::InProcessProxy> proxy_;
};

// curl as the CDN: -k (the proxy's minted leaf).
inline testsupport::CurlResult curl(const std::vector<std::string>& args) {
  return testsupport::run_curl({"-sk", "--max-time", "10"}, args, std::chrono::seconds(15));
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
