// Watcher rounds against in-process TLS servers on 127.0.0.1 (port 0): one record per
// handshake, edge.* findings only in the record of the edge they concern, origin.untrusted
// in the origin's, metrics per address. Evaluation time is fixed (testpki::fixed_now()).
#include "proxy/probe/watcher.hpp"
#include "proxy/observe/metrics.hpp"
#include "watch_fixtures.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <mutex>

using namespace watchtest;
using inspect::Role;
using inspect::Severity;

namespace {

struct RoundRun {
  proxy::RoundReport report;
  std::vector<boost::json::object> records;
  std::vector<std::string> lines;
};

RoundRun run_round(std::vector<config::Site> sites, const WatchPki& pki,
                   proxy::Metrics* metrics = nullptr) {
  boost::asio::io_context io;
  proxy::WatchOptions o;
  o.sites = std::move(sites);
  o.trust =
      std::make_shared<const certs::TrustStore>(certs::TrustStore::from_anchors({pki.root.cert}));
  o.now = [t = pki.now] { return t; };
  o.probe_timeout = std::chrono::seconds(5);
  RoundRun run;
  std::mutex m;
  proxy::Watcher w(
      io, std::move(o),
      [&](const std::string& line) {
        std::lock_guard lock(m);
        run.lines.push_back(line);
      },
      metrics);
  bool done = false;
  w.run_once([&](proxy::RoundReport r) {
    run.report = std::move(r);
    done = true;
  });
  io.run();  // bounded: every probe has a 5 s timeout
  REQUIRE(done);
  for (const auto& l : run.lines) run.records.push_back(boost::json::parse(l).as_object());
  return run;
}

config::Site site(const std::string& origin, std::vector<std::string> edges) {
  config::Site s;
  s.host = site_host;
  s.origin = origin;
  s.origin_sni = site_host;
  s.edges = std::move(edges);
  return s;
}

}  // namespace

TEST_CASE("only the edge serving the old certificate gets edge.stale, by address", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  auto e1 = pki.serve(pki.current);
  auto stale = pki.serve(pki.old_valid);
  auto e3 = pki.serve(pki.current);
  proxy::Metrics metrics;
  auto run = run_round({site(origin->address(), {e1->address(), stale->address(), e3->address()})},
                       pki, &metrics);

  REQUIRE(run.records.size() == 4);  // three edges and the origin, one record each
  for (const auto& r : run.records) {
    CHECK(str(r.at("tlsprobe").at("mode")) == "watch");
    CHECK(str(r.at("destination").at("domain")) == site_host);
    CHECK(r.at("tlsprobe").at("chain").as_array().size() == 2);
  }
  const auto* stale_rec = record_for(run.records, stale->address());
  REQUIRE(stale_rec);
  CHECK(str(stale_rec->at("tlsprobe").at("role")) == "edge");
  const auto* f = finding_in(*stale_rec, "edge.stale");
  REQUIRE(f);
  CHECK(str(f->at("severity")) == "warning");
  CHECK(str(f->at("role")) == "edge");
  CHECK(str(f->at("evidence").at("address")) == stale->address());
  CHECK(str(f->at("evidence").at("origin_address")) == origin->address());
  CHECK(str(stale_rec->at("tlsprobe").at("compare").at("origin_sha256")) ==
        pki.current.cert.sha256_hex());
  CHECK(str(stale_rec->at("tls").at("server").at("hash").at("sha256")) ==
        pki.old_valid.cert.sha256_hex());

  for (const auto* healthy : {e1.get(), e3.get(), origin.get()}) {
    const auto* r = record_for(run.records, healthy->address());
    REQUIRE(r);
    INFO(healthy->address());
    CHECK(codes_of(*r).empty());
    CHECK(str(r->at("event").at("outcome")) == "success");
  }
  CHECK(str(record_for(run.records, origin->address())->at("tlsprobe").at("role")) == "origin");

  CHECK_FALSE(run.report.any_error());
  CHECK_FALSE(run.report.any_failed_handshake());
  REQUIRE(run.report.sites.size() == 1);
  CHECK(run.report.sites[0].handshakes.size() == 4);

  // Metrics: one probe per address, the finding once, notAfter per address.
  CHECK(metrics.counter_value("tlsprobe_probes_total", {"ok"}) == 4);
  CHECK(metrics.counter_value("tlsprobe_findings_total", {"edge.stale", "edge", "warning"}) == 1);
  CHECK(metrics.counter_value("tlsprobe_cert_not_after_seconds",
                              {site_host, "edge", stale->address()}) ==
        static_cast<std::uint64_t>(pki.old_valid.cert.not_after().time_since_epoch().count()));
  CHECK(metrics.counter_value("tlsprobe_cert_not_after_seconds",
                              {site_host, "origin", origin->address()}) ==
        static_cast<std::uint64_t>(pki.current.cert.not_after().time_since_epoch().count()));
}

TEST_CASE("an edge whose stale copy is expired: edge.stale is an error, in its record only",
          "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  auto good = pki.serve(pki.current);
  auto expired = pki.serve(pki.old_expired);
  proxy::Metrics metrics;
  auto run =
      run_round({site(origin->address(), {good->address(), expired->address()})}, pki, &metrics);
  REQUIRE(run.records.size() == 3);
  const auto* rec = record_for(run.records, expired->address());
  REQUIRE(rec);
  const auto* f = finding_in(*rec, "edge.stale");
  REQUIRE(f);
  CHECK(str(f->at("severity")) == "error");
  CHECK(str(f->at("evidence").at("edge_expired")) == "true");
  CHECK(has_code(*rec, "cert.expired"));
  CHECK(str(rec->at("event").at("outcome")) == "failure");
  CHECK(rec->at("tlsprobe").at("verify").at("ok").as_bool() == false);
  // The expired certificate's facts are still recorded (DESIGN.md section 7).
  CHECK(metrics.counter_value("tlsprobe_cert_not_after_seconds",
                              {site_host, "edge", expired->address()}) ==
        static_cast<std::uint64_t>(pki.old_expired.cert.not_after().time_since_epoch().count()));
  CHECK(codes_of(*record_for(run.records, good->address())).empty());
  CHECK(codes_of(*record_for(run.records, origin->address())).empty());
  CHECK(run.report.any_error());
  CHECK(metrics.counter_value("tlsprobe_findings_total", {"edge.stale", "edge", "error"}) == 1);
}

TEST_CASE("a stale copy within warn_days: edge.stale error and cert.expiring_soon per address",
          "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  auto soon = pki.serve(pki.old_soon);
  auto good = pki.serve(pki.current);
  auto run = run_round({site(origin->address(), {soon->address(), good->address()})}, pki);
  const auto* rec = record_for(run.records, soon->address());
  REQUIRE(rec);
  REQUIRE(finding_in(*rec, "edge.stale"));
  CHECK(str(finding_in(*rec, "edge.stale")->at("severity")) == "error");
  const auto* exp = finding_in(*rec, "cert.expiring_soon");
  REQUIRE(exp);
  CHECK(str(exp->at("evidence").at("address")) == soon->address());
  CHECK_FALSE(has_code(*record_for(run.records, good->address()), "cert.expiring_soon"));
  CHECK_FALSE(has_code(*record_for(run.records, origin->address()), "cert.expiring_soon"));
}

TEST_CASE("an edge serving another host's certificate gets edge.mismatch", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  auto other = pki.serve(pki.other_host);
  auto good = pki.serve(pki.current);
  auto run = run_round({site(origin->address(), {other->address(), good->address()})}, pki);
  REQUIRE(run.records.size() == 3);
  const auto* rec = record_for(run.records, other->address());
  REQUIRE(rec);
  const auto* f = finding_in(*rec, "edge.mismatch");
  REQUIRE(f);
  CHECK(str(f->at("severity")) == "error");
  CHECK(str(f->at("evidence").at("differs")).find("names") != std::string::npos);
  CHECK(str(f->at("evidence").at("address")) == other->address());
  CHECK_FALSE(has_code(*rec, "edge.stale"));
  CHECK_FALSE(has_code(*record_for(run.records, good->address()), "edge.mismatch"));
  CHECK_FALSE(has_code(*record_for(run.records, origin->address()), "edge.mismatch"));
}

TEST_CASE("an origin with an untrusted chain: origin.untrusted in the origin's record", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.self_signed);
  auto edge = pki.serve(pki.current);
  auto run = run_round({site(origin->address(), {edge->address()})}, pki);
  REQUIRE(run.records.size() == 2);
  const auto* orec = record_for(run.records, origin->address());
  REQUIRE(orec);
  CHECK(str(orec->at("tlsprobe").at("role")) == "origin");
  const auto* f = finding_in(*orec, "origin.untrusted");
  REQUIRE(f);
  CHECK(str(f->at("role")) == "origin");
  CHECK(str(f->at("evidence").at("reason")) == "cert.self_signed");
  CHECK(has_code(*orec, "cert.self_signed"));
  const auto* erec = record_for(run.records, edge->address());
  REQUIRE(erec);
  CHECK_FALSE(has_code(*erec, "origin.untrusted"));
  CHECK_FALSE(has_code(*erec, "cert.self_signed"));
}

TEST_CASE("the origin is asked for origin_sni; edges for the site host", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  auto edge = pki.serve(pki.current);
  auto s = site(origin->address(), {edge->address()});
  s.origin_sni = "origin.example.test";
  auto run = run_round({s}, pki);
  REQUIRE_FALSE(origin->sni_seen().empty());
  CHECK(origin->sni_seen().front() == std::optional<std::string>("origin.example.test"));
  CHECK(edge->sni_seen().front() == std::optional<std::string>(site_host));
  // The origin's leaf does not cover origin.example.test: a name finding in the origin's
  // record (and the origin is untrusted for a CDN asking that name), none on the edge.
  const auto* orec = record_for(run.records, origin->address());
  REQUIRE(orec);
  CHECK((has_code(*orec, "name.mismatch") || has_code(*orec, "sni.default_cert")));
  CHECK(has_code(*orec, "origin.untrusted"));
  CHECK(codes_of(*record_for(run.records, edge->address())).empty());
}

TEST_CASE("an unreachable edge is a failed handshake with its own record", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  const std::string dead = "127.0.0.1:" + std::to_string(testsupport::unused_port());
  proxy::Metrics metrics;
  auto run = run_round({site(origin->address(), {dead})}, pki, &metrics);
  REQUIRE(run.records.size() == 2);
  const auto* rec = record_for(run.records, dead);
  REQUIRE(rec);
  CHECK(has_code(*rec, "probe.unreachable"));
  CHECK(str(rec->at("tlsprobe").at("probe").at("status")) == "failed");
  CHECK(codes_of(*record_for(run.records, origin->address())).empty());
  CHECK(run.report.any_failed_handshake());
  CHECK(metrics.counter_value("tlsprobe_probes_total", {"failed"}) == 1);
  CHECK(metrics.counter_value("tlsprobe_probes_total", {"ok"}) == 1);
}

TEST_CASE("several sites in one round keep their records apart", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin_a = pki.serve(pki.current);
  auto edge_a = pki.serve(pki.old_valid);
  auto origin_b = pki.serve(pki.current);
  auto edge_b = pki.serve(pki.current);
  auto run = run_round({site(origin_a->address(), {edge_a->address()}),
                        site(origin_b->address(), {edge_b->address()})},
                       pki);
  REQUIRE(run.records.size() == 4);
  CHECK(has_code(*record_for(run.records, edge_a->address()), "edge.stale"));
  CHECK(codes_of(*record_for(run.records, edge_b->address())).empty());
  REQUIRE(run.report.sites.size() == 2);
}

// --- pure helpers ----------------------------------------------------------------------

TEST_CASE("findings_for_handshake matches role and address", "[watch][pure]") {
  auto f = [](std::string code, Role role, std::string address) {
    inspect::Finding x;
    x.code = std::move(code);
    x.role = role;
    x.severity = Severity::error;
    if (!address.empty()) x.evidence["address"] = std::move(address);
    return x;
  };
  const inspect::Findings all = {
      f("edge.stale", Role::edge, "10.0.0.1:443"),
      f("edge.mismatch", Role::edge, "10.0.0.2:443"),
      f("cert.expiring_soon", Role::edge, "10.0.0.1:443"),
      f("cert.expiring_soon", Role::origin, "10.0.0.9:443"),
      f("origin.untrusted", Role::origin, "10.0.0.9:443"),
      f("sni.required", Role::nosni, "10.0.0.2:443"),
      f("client.no_sni", Role::client, ""),
  };
  inspect::HandshakeObservation e1;
  e1.role = Role::edge;
  e1.address = "10.0.0.1:443";
  inspect::HandshakeObservation e2 = e1;
  e2.address = "10.0.0.2:443";
  inspect::HandshakeObservation o;
  o.role = Role::origin;
  o.address = "10.0.0.9:443";
  auto codes = [](const inspect::Findings& fs) {
    std::vector<std::string> out;
    for (const auto& x : fs) out.push_back(x.code);
    return out;
  };
  CHECK(codes(proxy::findings_for_handshake(all, e1)) ==
        std::vector<std::string>{"edge.stale", "cert.expiring_soon"});
  CHECK(codes(proxy::findings_for_handshake(all, e2)) ==
        std::vector<std::string>{"edge.mismatch", "sni.required"});
  CHECK(codes(proxy::findings_for_handshake(all, o)) ==
        std::vector<std::string>{"cert.expiring_soon", "origin.untrusted"});
}

TEST_CASE("plan_site: one request per edge, then the origin with origin_sni", "[watch][pure]") {
  config::Site s;
  s.host = "www.example.test";
  s.origin = "10.0.0.9:8443";
  s.origin_sni = "origin.example.test";
  s.edges = {"10.0.0.1:443", "10.0.0.2:443"};
  const auto plan = proxy::plan_site(s, std::chrono::seconds(3));
  REQUIRE(plan.requests.size() == 3);
  CHECK(plan.roles == std::vector<Role>{Role::edge, Role::edge, Role::origin});
  CHECK(plan.requests[0].connect == "10.0.0.1:443");
  CHECK(plan.requests[0].host == "www.example.test");
  CHECK(plan.requests[1].connect == "10.0.0.2:443");
  CHECK(plan.requests[2].connect == "10.0.0.9:8443");
  CHECK(plan.requests[2].host == "origin.example.test");
  CHECK(plan.requests[2].port == 8443);
  for (const auto& r : plan.requests) {
    CHECK(r.origin.empty());  // each request probes exactly one address
    CHECK(r.timeout == std::chrono::seconds(3));
  }

  config::Site plain;
  plain.host = "plain.example.test";
  const auto p2 = proxy::plan_site(plain, std::chrono::seconds(3));
  REQUIRE(p2.requests.size() == 1);
  CHECK(p2.roles.front() == Role::direct);
  CHECK(p2.requests.front().connect.empty());
}

TEST_CASE("jittered_interval stays within interval ± jitter", "[watch][pure]") {
  using std::chrono::milliseconds;
  const milliseconds i(300000);
  CHECK(proxy::jittered_interval(i, 0.1, 0.0) == milliseconds(270000));
  CHECK(proxy::jittered_interval(i, 0.1, 0.5) == milliseconds(300000));
  CHECK(proxy::jittered_interval(i, 0.1, 0.999999) <= milliseconds(330000));
  CHECK(proxy::jittered_interval(i, 0.0, 0.9) == i);
  CHECK(proxy::jittered_interval(milliseconds(0), 0.1, 0.5) == milliseconds(1));  // never 0
}

TEST_CASE("periodic rounds repeat until stop()", "[watch]") {
  WatchPki pki(testpki::fixed_now());
  auto origin = pki.serve(pki.current);
  auto edge = pki.serve(pki.current);
  boost::asio::io_context io;
  proxy::WatchOptions o;
  o.sites = {site(origin->address(), {edge->address()})};
  o.trust =
      std::make_shared<const certs::TrustStore>(certs::TrustStore::from_anchors({pki.root.cert}));
  o.now = [t = pki.now] { return t; };
  o.interval = std::chrono::milliseconds(50);
  o.probe_timeout = std::chrono::seconds(5);
  std::size_t lines = 0;
  int rounds = 0;
  proxy::Watcher w(io, std::move(o), [&](const std::string&) { ++lines; });
  w.start([&](const proxy::RoundReport&) {
    if (++rounds == 3) w.stop();
  });
  io.run();  // returns once stopped: no timer, no probe left
  CHECK(rounds == 3);
  CHECK(lines == 6);
}
