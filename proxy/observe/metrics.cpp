#include "proxy/observe/metrics.hpp"

#include "proxy/observe/log_record.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace tlsprobe::proxy {

std::string_view to_string(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::ok:
      return "ok";
    case ProbeOutcome::failed:
      return "failed";
    case ProbeOutcome::cached:
      return "cached";
  }
  return "failed";
}

std::string_view to_string(Direction d) {
  return d == Direction::client_to_server ? "client_to_server" : "server_to_client";
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// The shortest plain decimal that reads back as `v` ("0.1", "10", not "0.10000000000000001"
// or "1e+01"); exponent form only for values that need more than 9 decimals.
std::string format_double(double v) {
  char buf[64];
  for (int decimals = 0; decimals <= 9; ++decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string format_int(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRId64, v);
  return buf;
}

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// `{a="x",b="y"}` or "" without labels; `extra` is appended as is (the histogram's le).
std::string label_text(const std::vector<std::string>& names,
                       const std::vector<std::string>& values, std::string_view extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out.append(names[i]).append("=\"").append(escape_label_value(values[i])).append("\"");
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out.append(extra);
  }
  out += '}';
  return out;
}

}  // namespace

// A labelled family. Counters only ever grow and their series are never erased, so an
// update looks its atomic up under the lock and adds to it after unlocking (map nodes
// never move). Gauges may be erased, so they are set and erased under the lock.
// Orders label sets value by value. Transparent: a set given as string views is looked up
// without being copied into strings.
struct LabelsLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

struct Metrics::Family {
  enum class Kind { counter, gauge };

  Family(std::string name_, Kind kind_, std::string help_, std::vector<std::string> labels_)
      : name(std::move(name_)), kind(kind_), help(std::move(help_)), labels(std::move(labels_)) {}

  // Label values as given: views, valid UTF-8 or not.
  using Values = std::initializer_list<std::string_view>;

  bool add(Values values, std::int64_t n, std::size_t max_series) {
    std::lock_guard lock(mutex);
    auto* v = find_or_add_locked(values, max_series);
    if (!v) return false;
    v->fetch_add(n, std::memory_order_relaxed);
    return true;
  }

  // The series' value, made at zero if new (null past max_series). Stays valid as long as
  // the series is not erased (a counter's never is).
  std::atomic<std::int64_t>* series_for(Values values, std::size_t max_series) {
    std::lock_guard lock(mutex);
    return find_or_add_locked(values, max_series);
  }

  bool set(Values values, std::int64_t n, std::size_t max_series) {
    std::lock_guard lock(mutex);
    auto* v = find_or_add_locked(values, max_series);
    if (!v) return false;
    v->store(n, std::memory_order_relaxed);
    return true;
  }

  void erase(Values values) {
    const auto valid = sanitized(values);
    std::lock_guard lock(mutex);
    series.erase(valid);
  }

  std::int64_t value(const std::vector<std::string>& values) const {
    std::lock_guard lock(mutex);
    auto it = series.find(values);
    return it == series.end() ? 0 : it->second.load(std::memory_order_relaxed);
  }

  void render(std::string& out) const {
    append_header(out, name, kind == Kind::counter ? "counter" : "gauge", help);
    std::lock_guard lock(mutex);
    for (const auto& [values, v] : series)
      out.append(name)
          .append(label_text(labels, values))
          .append(" ")
          .append(format_int(v.load(std::memory_order_relaxed)))
          .append("\n");
  }

  const std::string name;
  const Kind kind;
  const std::string help;
  const std::vector<std::string> labels;
  mutable std::mutex mutex;
  std::map<std::vector<std::string>, std::atomic<std::int64_t>, LabelsLess> series;

 private:
  // The label values made valid UTF-8 (metrics labels are text a scraper parses).
  static std::vector<std::string> sanitized(Values values) {
    std::vector<std::string> out(values.begin(), values.end());
    for (auto& v : out) sanitize_utf8_in_place(v);
    return out;
  }

  // The series of `values`; nullptr when the family is full and they are a new label set.
  // Every counted event comes here: a known label set (nearly every call) is found by its
  // views, without building a vector of strings first.
  std::atomic<std::int64_t>* find_or_add_locked(Values values, std::size_t max_series) {
    const bool ascii =
        std::all_of(values.begin(), values.end(), [](std::string_view v) { return is_ascii(v); });
    if (ascii) {
      const auto it = series.find(values);
      if (it != series.end()) return &it->second;
    }
    auto valid = sanitized(values);
    const auto it = series.find(valid);
    if (it != series.end()) return &it->second;
    if (series.size() >= max_series) return nullptr;
    return &series.try_emplace(std::move(valid), 0).first->second;
  }
};

Metrics::Metrics(std::string version, std::size_t max_series)
    : version_(std::move(version)), max_series_(max_series == 0 ? 1 : max_series) {
  using K = Family::Kind;
  connections_ = std::make_unique<Family>("tlsprobe_connections_total", K::counter,
                                          "Client connections accepted, by proxy mode.",
                                          std::vector<std::string>{"mode"});
  bytes_ = std::make_unique<Family>("tlsprobe_bytes_total", K::counter,
                                    "Bytes relayed, by proxy mode and direction.",
                                    std::vector<std::string>{"mode", "direction"});
  probes_ = std::make_unique<Family>(
      "tlsprobe_probes_total", K::counter,
      "Target probes, by outcome (ok: handshake completed, failed: none completed, cached: "
      "answered from the probe cache).",
      std::vector<std::string>{"outcome"});
  findings_ = std::make_unique<Family>("tlsprobe_findings_total", K::counter,
                                       "Findings reported, by code, handshake role and severity.",
                                       std::vector<std::string>{"code", "role", "severity"});
  not_after_ = std::make_unique<Family>(
      "tlsprobe_cert_not_after_seconds", K::gauge,
      "notAfter of the leaf certificate last seen, as Unix seconds; kept when verification fails.",
      std::vector<std::string>{"host", "role", "address"});
  staple_next_update_ = std::make_unique<Family>(
      "tlsprobe_ocsp_staple_next_update_seconds", K::gauge,
      "nextUpdate of the OCSP response the server last stapled, as Unix seconds.",
      std::vector<std::string>{"host", "role", "address"});
  // Every outcome exists from the start, so rate() and absent-series alerts work at once.
  for (auto o : {ProbeOutcome::ok, ProbeOutcome::failed, ProbeOutcome::cached})
    probe_series_.at(static_cast<std::size_t>(o)) =
        probes_->series_for({to_string(o)}, max_series_);
}

Metrics::~Metrics() = default;

void Metrics::connection_opened(std::string_view mode) {
  if (!connections_->add({mode}, 1, max_series_)) ++series_dropped_;
  open_connections_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::connection_closed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }

void Metrics::add_bytes(std::string_view mode, Direction direction, std::uint64_t bytes) {
  if (!bytes_->add({mode, to_string(direction)}, static_cast<std::int64_t>(bytes), max_series_))
    ++series_dropped_;
}

void Metrics::probe_finished(ProbeOutcome outcome, std::chrono::duration<double> duration) {
  if (auto* series = probe_series_.at(static_cast<std::size_t>(outcome)))
    series->fetch_add(1, std::memory_order_relaxed);
  else
    probes_->add({to_string(outcome)}, 1, max_series_);
  if (outcome == ProbeOutcome::cached) return;
  const double seconds = duration.count() < 0 ? 0 : duration.count();
  std::size_t i = 0;
  while (i < probe_duration_buckets.size() && seconds > probe_duration_buckets[i]) ++i;
  duration_counts_[i].fetch_add(1, std::memory_order_relaxed);
  duration_sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Metrics::count_finding(const inspect::Finding& f) {
  if (!findings_->add({f.code, inspect::to_string(f.role), inspect::to_string(f.severity)}, 1,
                      max_series_))
    ++series_dropped_;
}

void Metrics::count_findings(const inspect::Findings& findings) {
  for (const auto& f : findings) count_finding(f);
}

void Metrics::set_cert_not_after(std::string_view host, std::string_view role,
                                 std::string_view address, certs::TimePoint not_after) {
  if (!not_after_->set({host, role, address}, not_after.time_since_epoch().count(), max_series_))
    ++series_dropped_;
}

void Metrics::clear_cert_not_after(std::string_view host, std::string_view role,
                                   std::string_view address) {
  not_after_->erase({host, role, address});
}

void Metrics::set_staple_next_update(std::string_view host, std::string_view role,
                                     std::string_view address, certs::TimePoint next_update) {
  if (!staple_next_update_->set({host, role, address}, next_update.time_since_epoch().count(),
                                max_series_))
    ++series_dropped_;
}

void Metrics::clear_staple_next_update(std::string_view host, std::string_view role,
                                       std::string_view address) {
  staple_next_update_->erase({host, role, address});
}

void Metrics::add_log_lines_dropped(std::uint64_t lines) {
  log_lines_dropped_.fetch_add(lines, std::memory_order_relaxed);
}

void Metrics::set_log_lines_dropped_source(std::function<std::uint64_t()> source) {
  std::lock_guard lock(source_mutex_);
  dropped_source_ = std::move(source);
}

void Metrics::set_intercept_pins_source(std::function<std::uint64_t()> source) {
  std::lock_guard lock(source_mutex_);
  pins_source_ = std::move(source);
}

void Metrics::set_open_connections_source(std::function<std::int64_t()> source) {
  std::lock_guard lock(source_mutex_);
  open_source_ = std::move(source);
}

std::int64_t Metrics::open_connections() const {
  std::lock_guard lock(source_mutex_);
  return open_source_ ? open_source_() : open_connections_.load();
}

std::uint64_t Metrics::counter_value(std::string_view name,
                                     const std::vector<std::string>& labels) const {
  for (const Family* f : {connections_.get(), bytes_.get(), probes_.get(), findings_.get(),
                          not_after_.get(), staple_next_update_.get()})
    if (f->name == name) return static_cast<std::uint64_t>(f->value(labels));
  if (name == "tlsprobe_log_lines_dropped_total") {
    std::uint64_t total = log_lines_dropped_.load();
    std::lock_guard lock(source_mutex_);
    if (dropped_source_) total += dropped_source_();
    return total;
  }
  if (name == "tlsprobe_metrics_series_dropped_total") return series_dropped_.load();
  return 0;
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(4096);

  append_header(out, "tlsprobe_build_info", "gauge", "tlsprobe build; the value is always 1.");
  out.append("tlsprobe_build_info").append(label_text({"version"}, {version_})).append(" 1\n");

  connections_->render(out);

  append_header(out, "tlsprobe_open_connections", "gauge", "Client connections open now.");
  out.append("tlsprobe_open_connections ").append(format_int(open_connections())).append("\n");

  bytes_->render(out);
  probes_->render(out);

  // Cumulative buckets from the per-bucket counts; one snapshot, so count == +Inf bucket.
  append_header(out, "tlsprobe_probe_duration_seconds", "histogram",
                "Duration of probes that ran (cache hits excluded), in seconds.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= probe_duration_buckets.size(); ++i) {
    cumulative += duration_counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < probe_duration_buckets.size()
                               ? format_double(probe_duration_buckets[i])
                               : std::string("+Inf");
    out.append("tlsprobe_probe_duration_seconds_bucket{le=\"")
        .append(le)
        .append("\"} ")
        .append(format_int(static_cast<std::int64_t>(cumulative)))
        .append("\n");
  }
  out.append("tlsprobe_probe_duration_seconds_sum ")
      .append(format_double(static_cast<double>(duration_sum_ns_.load()) / 1e9))
      .append("\n");
  out.append("tlsprobe_probe_duration_seconds_count ")
      .append(format_int(static_cast<std::int64_t>(cumulative)))
      .append("\n");

  findings_->render(out);
  not_after_->render(out);
  staple_next_update_->render(out);

  append_header(out, "tlsprobe_log_lines_dropped_total", "counter",
                "Connection log lines lost (queue overrun, write error, after shutdown).");
  out.append("tlsprobe_log_lines_dropped_total ")
      .append(format_int(
          static_cast<std::int64_t>(counter_value("tlsprobe_log_lines_dropped_total", {}))))
      .append("\n");

  append_header(out, "tlsprobe_metrics_series_dropped_total", "counter",
                "Metric updates ignored because a family reached its label-set bound.");
  out.append("tlsprobe_metrics_series_dropped_total ")
      .append(format_int(static_cast<std::int64_t>(series_dropped_.load())))
      .append("\n");

  std::function<std::uint64_t()> pins;
  {
    std::lock_guard lock(source_mutex_);
    pins = pins_source_;
  }
  if (pins) {
    append_header(out, "tlsprobe_intercept_pins", "gauge",
                  "Client/host pairs tunnelled instead of intercepted because that client "
                  "rejected the minted certificate (expire after [intercept] pin_ttl).");
    out.append("tlsprobe_intercept_pins ")
        .append(format_int(static_cast<std::int64_t>(pins())))
        .append("\n");
  }
  return out;
}

}  // namespace tlsprobe::proxy
