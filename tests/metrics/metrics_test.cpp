// Metrics: values rendered in Prometheus text format 0.0.4 and parsed back; label escaping;
// histogram buckets; the cardinality bound; `promtool check metrics` on the output.
#include "proxy/observe/metrics.hpp"
#include "metrics_parse.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace tlsprobe;
using proxy::Direction;
using proxy::Metrics;
using proxy::ProbeOutcome;
using testmetrics::parse_exposition;
using testmetrics::sample;

namespace {

inspect::Finding finding(std::string code, inspect::Severity sev, inspect::Role role) {
  inspect::Finding f;
  f.code = std::move(code);
  f.severity = sev;
  f.role = role;
  return f;
}

}  // namespace

TEST_CASE("every metric family has HELP and TYPE, and build_info is 1", "[metrics]") {
  Metrics m("9.9.9");
  const auto parsed = parse_exposition(m.render());
  REQUIRE(parsed.errors.empty());
  for (const char* name :
       {"tlsprobe_build_info", "tlsprobe_connections_total", "tlsprobe_open_connections",
        "tlsprobe_bytes_total", "tlsprobe_probes_total", "tlsprobe_probe_duration_seconds",
        "tlsprobe_findings_total", "tlsprobe_cert_not_after_seconds",
        "tlsprobe_log_lines_dropped_total"}) {
    INFO(name);
    CHECK(parsed.help.count(name) == 1);
    CHECK(parsed.type.count(name) == 1);
  }
  CHECK(parsed.type.at("tlsprobe_probe_duration_seconds") == "histogram");
  CHECK(parsed.type.at("tlsprobe_cert_not_after_seconds") == "gauge");
  CHECK(parsed.type.at("tlsprobe_findings_total") == "counter");
  CHECK(sample(parsed, "tlsprobe_build_info", {{"version", "9.9.9"}}) == 1);
  // Probe outcomes exist from the start, at zero.
  CHECK(sample(parsed, "tlsprobe_probes_total", {{"outcome", "ok"}}) == 0);
  CHECK(sample(parsed, "tlsprobe_probes_total", {{"outcome", "cached"}}) == 0);
}

TEST_CASE("counters and gauges render the values recorded", "[metrics]") {
  Metrics m;
  m.connection_opened("tunnel");
  m.connection_opened("tunnel");
  m.connection_opened("intercept");
  m.connection_closed();
  m.add_bytes("tunnel", Direction::client_to_server, 100);
  m.add_bytes("tunnel", Direction::client_to_server, 23);
  m.add_bytes("tunnel", Direction::server_to_client, 5000);
  m.count_findings(
      {finding("edge.stale", inspect::Severity::error, inspect::Role::edge),
       finding("edge.stale", inspect::Severity::error, inspect::Role::edge),
       finding("cert.expiring_soon", inspect::Severity::warning, inspect::Role::origin)});
  const auto not_after = certs::TimePoint(std::chrono::seconds(1780272000));
  m.set_cert_not_after("www.example.test", "edge", "127.0.0.1:4431", not_after);
  m.add_log_lines_dropped(2);
  m.set_log_lines_dropped_source([] { return std::uint64_t{5}; });

  const auto p = parse_exposition(m.render());
  REQUIRE(p.errors.empty());
  CHECK(sample(p, "tlsprobe_connections_total", {{"mode", "tunnel"}}) == 2);
  CHECK(sample(p, "tlsprobe_connections_total", {{"mode", "intercept"}}) == 1);
  CHECK(sample(p, "tlsprobe_open_connections", {}) == 2);
  CHECK(sample(p, "tlsprobe_bytes_total",
               {{"direction", "client_to_server"}, {"mode", "tunnel"}}) == 123);
  CHECK(sample(p, "tlsprobe_bytes_total",
               {{"direction", "server_to_client"}, {"mode", "tunnel"}}) == 5000);
  CHECK(sample(p, "tlsprobe_findings_total",
               {{"code", "edge.stale"}, {"role", "edge"}, {"severity", "error"}}) == 2);
  CHECK(sample(p, "tlsprobe_findings_total",
               {{"code", "cert.expiring_soon"}, {"role", "origin"}, {"severity", "warning"}}) == 1);
  CHECK(sample(p, "tlsprobe_cert_not_after_seconds",
               {{"address", "127.0.0.1:4431"}, {"host", "www.example.test"}, {"role", "edge"}}) ==
        1780272000);
  CHECK(sample(p, "tlsprobe_log_lines_dropped_total", {}) == 7);

  m.clear_cert_not_after("www.example.test", "edge", "127.0.0.1:4431");
  const auto q = parse_exposition(m.render());
  CHECK(sample(q, "tlsprobe_cert_not_after_seconds",
               {{"address", "127.0.0.1:4431"}, {"host", "www.example.test"}, {"role", "edge"}}) ==
        -1);
}

TEST_CASE("probe durations fill cumulative histogram buckets; cache hits are not timed",
          "[metrics]") {
  Metrics m;
  m.probe_finished(ProbeOutcome::ok, std::chrono::milliseconds(3));
  m.probe_finished(ProbeOutcome::failed, std::chrono::milliseconds(200));
  m.probe_finished(ProbeOutcome::ok, std::chrono::seconds(30));
  m.probe_finished(ProbeOutcome::cached);
  const auto p = parse_exposition(m.render());
  REQUIRE(p.errors.empty());
  CHECK(sample(p, "tlsprobe_probes_total", {{"outcome", "ok"}}) == 2);
  CHECK(sample(p, "tlsprobe_probes_total", {{"outcome", "failed"}}) == 1);
  CHECK(sample(p, "tlsprobe_probes_total", {{"outcome", "cached"}}) == 1);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_bucket", {{"le", "0.005"}}) == 1);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_bucket", {{"le", "0.1"}}) == 1);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_bucket", {{"le", "0.25"}}) == 2);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_bucket", {{"le", "10"}}) == 2);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_bucket", {{"le", "+Inf"}}) == 3);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_count", {}) == 3);
  CHECK(sample(p, "tlsprobe_probe_duration_seconds_sum", {}) == Approx(30.203));
}

TEST_CASE("label values are escaped and parse back to the original", "[metrics]") {
  CHECK(proxy::escape_label_value("plain") == "plain");
  CHECK(proxy::escape_label_value("a\"b") == "a\\\"b");
  CHECK(proxy::escape_label_value("a\\b") == "a\\\\b");
  CHECK(proxy::escape_label_value("a\nb") == "a\\nb");

  Metrics m;
  const std::string nasty = "evil\"host\\name\nnext";
  m.set_cert_not_after(nasty, "edge", "127.0.0.1:1",
                       certs::TimePoint(std::chrono::seconds(1700000000)));
  const std::string text = m.render();
  // The raw newline never reaches the output: one sample stays on one line.
  CHECK(text.find("evil\\\"host\\\\name\\nnext") != std::string::npos);
  const auto p = parse_exposition(text);
  REQUIRE(p.errors.empty());
  CHECK(sample(p, "tlsprobe_cert_not_after_seconds",
               {{"address", "127.0.0.1:1"}, {"host", nasty}, {"role", "edge"}}) == 1700000000);
}

TEST_CASE("invalid UTF-8 in a label value is replaced, not emitted raw", "[metrics]") {
  Metrics m;
  m.set_cert_not_after(std::string("bad\xff"), "edge", "127.0.0.1:1",
                       certs::TimePoint(std::chrono::seconds(1)));
  const std::string text = m.render();
  CHECK(text.find('\xff') == std::string::npos);
  CHECK(text.find("bad\xEF\xBF\xBD") != std::string::npos);

  // Counters too (their ASCII labels are used uncopied; others are made valid first), and a
  // sanitized value counts into one series each time.
  inspect::Finding f;
  f.code = "bad.\xfe";
  f.severity = inspect::Severity::warning;
  m.count_finding(f);
  m.count_finding(f);
  const std::string counted = m.render();
  CHECK(counted.find('\xfe') == std::string::npos);
  const auto at = counted.find("bad.\xEF\xBF\xBD");
  REQUIRE(at != std::string::npos);
  CHECK(counted.find("bad.\xEF\xBF\xBD", at + 1) == std::string::npos);
  CHECK(counted.substr(counted.find('}', at), 4) == "} 2\n");
}

TEST_CASE("a family keeps at most max_series label sets and counts the rest", "[metrics]") {
  Metrics m("0.1.0", 3);
  for (int i = 0; i < 10; ++i)
    m.set_cert_not_after("h" + std::to_string(i), "direct", "127.0.0.1:1",
                         certs::TimePoint(std::chrono::seconds(i)));
  const auto p = parse_exposition(m.render());
  int series = 0;
  for (const auto& [key, value] : p.samples)
    if (key.rfind("tlsprobe_cert_not_after_seconds{", 0) == 0) ++series;
  CHECK(series == 3);
  CHECK(sample(p, "tlsprobe_metrics_series_dropped_total", {}) == 7);
  // An existing series still updates.
  m.set_cert_not_after("h0", "direct", "127.0.0.1:1", certs::TimePoint(std::chrono::seconds(42)));
  CHECK(sample(parse_exposition(m.render()), "tlsprobe_cert_not_after_seconds",
               {{"address", "127.0.0.1:1"}, {"host", "h0"}, {"role", "direct"}}) == 42);
}

TEST_CASE("updates from several threads are all counted", "[metrics]") {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) {
        m.connection_opened(t % 2 ? "tunnel" : "intercept");
        m.add_bytes("tunnel", Direction::client_to_server, 1);
        m.connection_closed();
      }
    });
  for (auto& t : threads) t.join();
  const auto p = parse_exposition(m.render());
  CHECK(sample(p, "tlsprobe_connections_total", {{"mode", "tunnel"}}) == 2000);
  CHECK(sample(p, "tlsprobe_connections_total", {{"mode", "intercept"}}) == 2000);
  CHECK(sample(p, "tlsprobe_bytes_total",
               {{"direction", "client_to_server"}, {"mode", "tunnel"}}) == 4000);
  CHECK(sample(p, "tlsprobe_open_connections", {}) == 0);
}

TEST_CASE("promtool accepts the exposition", "[metrics][promtool]") {
  Metrics m;
  m.connection_opened("tunnel");
  m.add_bytes("tunnel", Direction::server_to_client, 10);
  m.probe_finished(ProbeOutcome::ok, std::chrono::milliseconds(12));
  m.count_findings({finding("edge.stale", inspect::Severity::warning, inspect::Role::edge)});
  m.set_cert_not_after("a\"b\\c\nd", "origin", "[::1]:443",
                       certs::TimePoint(std::chrono::seconds(1780272000)));
  const auto which = testsupport::run_process({"sh", "-c", "command -v promtool"});
  if (which.exit_code != 0) {
    WARN("promtool not installed (Debian package prometheus): exposition not validated");
    return;
  }
  const auto r = testsupport::run_process({"promtool", "check", "metrics"},
                                          std::chrono::seconds(30), m.render());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
}
