// The candidates-vs-direct driver shared by proxy_bench and intercept_bench: every round
// measures every candidate once (direct included), in an order that rotates between rounds,
// and each figure is divided by the direct connection's figure of the same round. The report
// is the median over rounds of those ratios (PEERS.md section 7: on a shared machine raw
// numbers swing with the load, same-round ratios much less), next to the median raw value.
//
// Figures are named numbers ("new/s", "cpu ms/new"); a figure a candidate did not measure is
// simply absent from its map. Ratios are kept only for figures direct also has.
#pragma once

#include "bench_common.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tlsprobe::bench {

using Figures = std::map<std::string, double>;

class SameRoundRatios {
 public:
  // One round: candidate name -> its figures. Needs a "direct" entry for the ratios.
  void add_round(const std::map<std::string, Figures>& got) {
    const auto direct = got.find("direct");
    for (const auto& [name, figures] : got)
      for (const auto& [figure, value] : figures) {
        raw_[name][figure].push_back(value);
        if (direct == got.end()) continue;
        const auto d = direct->second.find(figure);
        if (d != direct->second.end() && d->second > 0)
          ratio_[name][figure].push_back(value / d->second);
      }
    ++rounds_;
  }

  bool has(const std::string& name, const std::string& figure) const {
    return find(raw_, name, figure) != nullptr;
  }
  // Median raw value over rounds (0 when never measured).
  double raw(const std::string& name, const std::string& figure) const {
    const auto* v = find(raw_, name, figure);
    return v ? median(*v) : 0.0;
  }
  // Median of the same-round ratios to direct (0 when there is none).
  double ratio(const std::string& name, const std::string& figure) const {
    const auto* v = find(ratio_, name, figure);
    return v ? median(*v) : 0.0;
  }
  int rounds() const { return rounds_; }

 private:
  using Table = std::map<std::string, std::map<std::string, std::vector<double>>>;
  static const std::vector<double>* find(const Table& t, const std::string& name,
                                         const std::string& figure) {
    const auto n = t.find(name);
    if (n == t.end()) return nullptr;
    const auto f = n->second.find(figure);
    return f == n->second.end() || f->second.empty() ? nullptr : &f->second;
  }
  Table raw_, ratio_;
  int rounds_ = 0;
};

// Runs `rounds` interleaved rounds over `names` (index order rotates by one each round) and
// adds each complete round to `out`. `measure(index)` returns that candidate's figures.
// `stop` cuts the run short; a round cut short is dropped (it would skew the medians).
inline void run_rounds(const std::vector<std::string>& names, int rounds,
                       const std::function<Figures(std::size_t)>& measure, SameRoundRatios& out,
                       const std::atomic<bool>& stop, const char* program) {
  for (int round = 0; round < rounds && !stop.load(); ++round) {
    std::map<std::string, Figures> got;
    for (std::size_t k = 0; k < names.size() && !stop.load(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(round)) % names.size();
      got[names[i]] = measure(i);
    }
    if (stop.load()) break;
    out.add_round(got);
    std::fprintf(stderr, "%s: round %d/%d done (load %s)\n", program, round + 1, rounds,
                 load_average().c_str());
  }
}

// "  722 (0.77x)": a median raw figure and its median same-round ratio, or "-".
inline std::string raw_and_ratio(const SameRoundRatios& r, const std::string& name,
                                 const std::string& figure, const char* raw_format = "%6.0f") {
  if (!r.has(name, figure)) return "-";
  char raw[32], out[64];
  std::snprintf(raw, sizeof raw, raw_format, r.raw(name, figure));
  std::snprintf(out, sizeof out, "%s (%4.2fx)", raw, r.ratio(name, figure));
  return out;
}

// A median raw figure alone ("0.412"), or "-".
inline std::string raw_only(const SameRoundRatios& r, const std::string& name,
                            const std::string& figure, const char* format = "%.3f") {
  if (!r.has(name, figure)) return "-";
  char out[32];
  std::snprintf(out, sizeof out, format, r.raw(name, figure));
  return out;
}

}  // namespace tlsprobe::bench
