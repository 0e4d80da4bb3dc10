// A pinned host is pinned for one client, for a while (issue 12 item 9). Before: one client
// that rejected the minted certificate turned interception off for that host for every
// client until restart. Now the fallback is keyed by (client address, host), expires after
// pin_ttl, and the admin listener lists (GET /pins) and clears (DELETE /pins) the entries,
// counted by the tlsprobe_intercept_pins gauge.
#include "intercept_fixture.hpp"
#include "proxy/observe/admin_listener.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/session/pins_admin.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using proxy::InterceptDecision;
using proxy::InterceptPolicy;
using testsupport::ServedChain;

namespace {

const std::string kBody = "PINNED-UPSTREAM\n";

std::unique_ptr<testsupport::TlsTestServer> upstream(const GoodRootFileLab& lab) {
  testsupport::TlsServerOptions o;
  o.default_chain = ServedChain::of(lab.good);
  o.reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
            std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + kBody;
  return std::make_unique<testsupport::TlsTestServer>(o);
}

// A steady clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> t =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  InterceptPolicy::SteadyNow now() const {
    return [t = t] { return *t; };
  }
  void advance(std::chrono::seconds d) const { *t += d; }
};

struct IoThread {
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
      io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    work.reset();
    io.stop();
    thread.join();
  }
};

struct Http {
  int code = 0;
  std::string body;
};

Http http(const std::string& method, std::uint16_t port, const std::string& path) {
  const auto r = testsupport::run_process(
      {"curl", "-sS", "--max-time", "10", "-X", method, "-w", "\n%{http_code}",
       "http://127.0.0.1:" + std::to_string(port) + path},
      std::chrono::seconds(20));
  Http out;
  const auto nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    out.body = r.out.substr(0, nl);
    out.code = std::atoi(r.out.c_str() + nl + 1);
  }
  return out;
}

// Waits (bounded) until the proxy has recorded `n` pins: curl exits when it has sent its
// alert, the proxy reads it a moment later.
void wait_for_pins(proxy::Interceptor& ix, std::uint64_t n) {
  for (int i = 0; i < 300 && ix.counters.pinned < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(ix.counters.pinned == n);
}

}  // namespace

TEST_CASE("intercept pins: keyed by client and host, and they expire", "[pins]") {
  FakeClock clock;
  InterceptPolicy p({}, 100, std::chrono::seconds(600), clock.now());
  CHECK(p.mark_pinned("127.0.0.1", "App.Test."));
  CHECK(p.decide("127.0.0.1", "app.test") == InterceptDecision::pinned);
  CHECK(p.decide("127.0.0.2", "app.test") == InterceptDecision::intercept);  // another client
  CHECK(p.decide("127.0.0.1", "other.test") == InterceptDecision::intercept);
  CHECK(p.pinned_count() == 1);

  clock.advance(std::chrono::seconds(599));
  CHECK(p.decide("127.0.0.1", "app.test") == InterceptDecision::pinned);
  const auto listed = p.pins();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].client == "127.0.0.1");
  CHECK(listed[0].host == "app.test");
  CHECK(listed[0].expires_in == std::chrono::seconds(1));

  clock.advance(std::chrono::seconds(1));
  CHECK(p.decide("127.0.0.1", "app.test") == InterceptDecision::intercept);
  CHECK(p.pinned_count() == 0);
  CHECK(p.pins().empty());
  CHECK(p.mark_pinned("127.0.0.1", "app.test"));  // a new rejection pins again
  CHECK(p.mark_pinned("127.0.0.2", "app.test"));
  CHECK(p.pinned_count() == 2);
  CHECK(p.clear_pins() == 2);
  CHECK(p.decide("127.0.0.1", "app.test") == InterceptDecision::intercept);
}

TEST_CASE("intercept pins: the bound drops expired entries before refusing", "[pins]") {
  FakeClock clock;
  InterceptPolicy p({}, 2, std::chrono::seconds(60), clock.now());
  CHECK(p.mark_pinned("10.0.0.1", "a.test"));
  CHECK(p.mark_pinned("10.0.0.2", "a.test"));
  CHECK_FALSE(p.mark_pinned("10.0.0.3", "a.test"));  // full of live entries
  clock.advance(std::chrono::seconds(61));
  CHECK(p.mark_pinned("10.0.0.3", "a.test"));  // the expired ones made room
  CHECK(p.pinned_count() == 1);
}

TEST_CASE("intercept pins: one client's rejection leaves other clients intercepted", "[pins]") {
  GoodRootFileLab lab;
  auto up = upstream(lab);
  InterceptingProxy proxy(
      {.anchors = {lab.good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  const std::string url = "https://good.test:" + std::to_string(up->port()) + "/";
  // Client 127.0.0.1 trusts only the real root (a pinned app): it rejects our leaf.
  const auto rejected = curl(proxy, url, lab.root_pem.path());
  CHECK(rejected.exit_code == 60);
  wait_for_pins(proxy.interceptor(), 1);
  CHECK(proxy.interceptor().policy().decide("127.0.0.1", "good.test") == InterceptDecision::pinned);
  // That client is tunnelled now: the real certificate reaches it.
  const auto tunnelled = curl(proxy, url, lab.root_pem.path());
  INFO(tunnelled.err);
  CHECK(tunnelled.http_code == 200);
  CHECK(tunnelled.body == kBody);
  // Another client (127.0.0.2) that trusts the tlsprobe CA is still intercepted. Before the
  // fix it was tunnelled too: it got the real certificate, which it does not trust (exit 60).
  const auto other = curl(proxy, url, proxy.ca_path(), {"--interface", "127.0.0.2"});
  INFO(other.err);
  CHECK(other.exit_code == 0);
  CHECK(other.http_code == 200);
  CHECK(other.body == kBody);

  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 3);
  CHECK(str_at(lines[0], {"tlsprobe", "mode"}) == "intercept");
  CHECK(str_at(lines[0], {"event", "reason"}).find("tunnelled for this client (127.0.0.1)") !=
        std::string::npos);
  CHECK(str_at(lines[1], {"tlsprobe", "mode"}) == "tunnel");
  CHECK(str_at(lines[2], {"tlsprobe", "mode"}) == "intercept");
  CHECK(str_at(lines[2], {"client", "address"}) == "127.0.0.2");
}

TEST_CASE("intercept pins: GET /pins lists, DELETE /pins clears, the gauge counts", "[pins]") {
  GoodRootFileLab lab;
  auto up = upstream(lab);
  InterceptingProxy proxy(
      {.anchors = {lab.good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  auto& policy = proxy.interceptor().policy();
  proxy::Metrics metrics;
  metrics.set_intercept_pins_source([&policy] { return policy.pinned_count(); });
  IoThread t;
  proxy::AdminListener admin(t.io, metrics);
  admin.add_route(std::string(proxy::kPinsPath), proxy::pins_admin_route(policy));
  REQUIRE_FALSE(admin.start("127.0.0.1:0"));

  auto empty = http("GET", admin.port(), "/pins");
  CHECK(empty.code == 200);
  CHECK(boost::json::parse(empty.body).at("count").as_int64() == 0);
  CHECK(http("GET", admin.port(), "/metrics").body.find("\ntlsprobe_intercept_pins 0\n") !=
        std::string::npos);

  const std::string url = "https://good.test:" + std::to_string(up->port()) + "/";
  CHECK(curl(proxy, url, lab.root_pem.path()).exit_code == 60);
  wait_for_pins(proxy.interceptor(), 1);

  const auto listed = http("GET", admin.port(), "/pins");
  INFO(listed.body);
  CHECK(listed.code == 200);
  const auto doc = boost::json::parse(listed.body).as_object();
  CHECK(doc.at("ttl_seconds").as_int64() == 600);
  CHECK(doc.at("count").as_int64() == 1);
  const auto& pin = doc.at("pins").as_array().at(0).as_object();
  CHECK(pin.at("client").as_string() == "127.0.0.1");
  CHECK(pin.at("host").as_string() == "good.test");
  CHECK(pin.at("expires_in_seconds").as_int64() > 500);
  CHECK(pin.at("expires_in_seconds").as_int64() <= 600);
  CHECK(http("GET", admin.port(), "/metrics").body.find("\ntlsprobe_intercept_pins 1\n") !=
        std::string::npos);

  CHECK(http("POST", admin.port(), "/pins").code == 405);  // a form post cannot clear them
  CHECK(policy.pinned_count() == 1);
  const auto cleared = http("DELETE", admin.port(), "/pins");
  CHECK(cleared.code == 200);
  CHECK(boost::json::parse(cleared.body).at("cleared").as_int64() == 1);
  CHECK(policy.pinned_count() == 0);
  CHECK(http("GET", admin.port(), "/metrics").body.find("\ntlsprobe_intercept_pins 0\n") !=
        std::string::npos);
  // Cleared: the client is intercepted again (and, still not trusting our CA, rejects again).
  CHECK(curl(proxy, url, lab.root_pem.path()).exit_code == 60);
  wait_for_pins(proxy.interceptor(), 2);
  admin.stop();
}
