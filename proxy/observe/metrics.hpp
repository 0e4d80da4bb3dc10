// Metrics: the process's Prometheus counters and gauges (DESIGN.md sections 1 and 8), rendered
// in the text exposition format 0.0.4 by the admin listener (proxy/observe/admin_listener.hpp).
//
// Thread-safe: every update is safe from any thread. A label set is looked up in a
// mutex-guarded map once per update and its value is an atomic, so the lock is held only
// for the lookup; unlabelled values are plain atomics. Label values are escaped on output
// (\\, \", \n) and made valid UTF-8 (they may come from certificates and SNI).
//
// Cardinality is bounded (STYLE.md habit 4): a family keeps at most `max_series` label sets;
// updates to further label sets are ignored and counted in
// tlsprobe_metrics_series_dropped_total, so a flood of distinct hosts cannot grow memory.
//
// Metric names and label names are a contract (dashboards and alerts use them):
//   tlsprobe_build_info{version}                         gauge, always 1
//   tlsprobe_connections_total{mode}                     counter
//   tlsprobe_open_connections                            gauge
//   tlsprobe_bytes_total{mode,direction}                 counter; direction
//   client_to_server|server_to_client tlsprobe_probes_total{outcome}                       counter;
//   outcome ok|failed|cached tlsprobe_probe_duration_seconds                      histogram (probes
//   that ran, not cached ones) tlsprobe_findings_total{code,role,severity}          counter
//   tlsprobe_cert_not_after_seconds{host,role,address}   gauge: leaf notAfter, Unix seconds, kept
//                                                        even when verification fails (DESIGN §7)
//   tlsprobe_ocsp_staple_next_update_seconds{host,role,address}  gauge: nextUpdate of the
//                                                        stapled OCSP response, Unix seconds
//                                                        (absent: no staple)
//   tlsprobe_log_lines_dropped_total                     counter
//   tlsprobe_metrics_series_dropped_total                counter (label sets over the bound)
//   tlsprobe_intercept_pins                              gauge: (client, host) pairs tunnelled
//                                                        after a rejected minted certificate
//                                                        (intercept mode only)
#pragma once

#include "certs/certificate.hpp"
#include "inspect/finding.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::proxy {

// tlsprobe_probes_total{outcome}.
enum class ProbeOutcome {
  ok,      // a probe ran and completed its main handshake
  failed,  // a probe ran and could not complete a handshake (unreachable, not TLS, timeout…)
  cached,  // answered from the probe cache; no handshake was made
};
std::string_view to_string(ProbeOutcome o);

// tlsprobe_bytes_total{direction}.
enum class Direction { client_to_server, server_to_client };
std::string_view to_string(Direction d);

// Upper bounds of tlsprobe_probe_duration_seconds, in seconds (+Inf is implicit).
inline constexpr std::array<double, 11> probe_duration_buckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Content-Type of render()'s output.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

class Metrics {
 public:
  // `version` is the build_info label ("0.1.0"); `max_series` bounds each labelled family.
  explicit Metrics(std::string version = "0.1.0", std::size_t max_series = 10000);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A connection was accepted in `mode` ("tunnel", "intercept", "forward", "reverse"; see
  // proxy::to_string(LogMode)): connections_total{mode} + 1 and open_connections + 1.
  void connection_opened(std::string_view mode);
  // The connection ended: open_connections - 1. Call exactly once per connection_opened.
  void connection_closed();
  void add_bytes(std::string_view mode, Direction direction, std::uint64_t bytes);

  // One probe: probes_total{outcome} + 1; the duration goes into the histogram unless the
  // outcome is cached (a cache hit costs no handshake and would skew the latency).
  void probe_finished(ProbeOutcome outcome, std::chrono::duration<double> duration = {});
  // findings_total{code,role,severity} + 1 for each finding.
  void count_findings(const inspect::Findings& findings);
  void count_finding(const inspect::Finding& finding);
  // cert_not_after_seconds{host,role,address} = leaf notAfter (overwrites the previous value).
  void set_cert_not_after(std::string_view host, std::string_view role, std::string_view address,
                          certs::TimePoint not_after);
  // Removes that series (e.g. a site removed from the watch list).
  void clear_cert_not_after(std::string_view host, std::string_view role, std::string_view address);

  // ocsp_staple_next_update_seconds{host,role,address} = the staple's nextUpdate; clear
  // removes it (the server stopped stapling).
  void set_staple_next_update(std::string_view host, std::string_view role,
                              std::string_view address, certs::TimePoint next_update);
  void clear_staple_next_update(std::string_view host, std::string_view role,
                                std::string_view address);

  // log_lines_dropped_total: either counted here, or sampled from the connection log at
  // render time (`source` returns its running total, e.g. ConnectionLog::lines_dropped);
  // the rendered value is the sum of both.
  void add_log_lines_dropped(std::uint64_t lines);
  void set_log_lines_dropped_source(std::function<std::uint64_t()> source);

  // tlsprobe_intercept_pins, sampled at render time from `source` (e.g.
  // InterceptPolicy::pinned_count); not rendered until a source is set.
  void set_intercept_pins_source(std::function<std::uint64_t()> source);

  // The whole exposition, text format 0.0.4, '\n' line ends, ends with a newline.
  std::string render() const;

  // Current values, for tests and for the watch command's summary. 0 / -1 when absent.
  std::uint64_t counter_value(std::string_view name, const std::vector<std::string>& labels) const;
  // tlsprobe_open_connections: the source when one is set, else opened - closed.
  std::int64_t open_connections() const;
  // The proxy's connection registry counts a connection from accept to close, including
  // those that never sent a request (a slowloris): the gauge then reads it (Server sets it).
  void set_open_connections_source(std::function<std::int64_t()> source);

  struct Family;  // a labelled counter or gauge family (metrics.cpp)

 private:
  std::string version_;
  std::size_t max_series_;
  std::unique_ptr<Family> connections_, bytes_, probes_, findings_, not_after_;
  std::unique_ptr<Family> staple_next_update_;
  // probes_total's three series, made at start and never erased: every tunnel counts one
  // (cached), and finding it in the family under its lock each time showed in the profile.
  std::array<std::atomic<std::int64_t>*, 3> probe_series_{};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> log_lines_dropped_{0};
  std::atomic<std::uint64_t> series_dropped_{0};
  // Histogram: one count per bucket (not cumulative; summed on render), +Inf, sum in ns.
  std::array<std::atomic<std::uint64_t>, probe_duration_buckets.size() + 1> duration_counts_{};
  std::atomic<std::uint64_t> duration_sum_ns_{0};
  mutable std::mutex source_mutex_;
  std::function<std::uint64_t()> dropped_source_;
  std::function<std::uint64_t()> pins_source_;
  std::function<std::int64_t()> open_source_;
};

// Prometheus label-value escaping: backslash, double quote and line feed (text format 0.0.4).
std::string escape_label_value(std::string_view value);

}  // namespace tlsprobe::proxy
