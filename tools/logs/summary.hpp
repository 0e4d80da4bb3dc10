// Per-host aggregation of connection logs (`tlsprobe logs summary` and `report`).
// Memory is one HostSummary per host, each bounded: at most max_leaves distinct leaves and
// max_findings distinct (code, role) pairs are kept, the rest counted as dropped; the
// records themselves are never kept, so a log larger than memory is read in constant space.
#pragma once

#include "logs/record.hpp"
#include "logs/scan.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <vector>

namespace tlsprobe::logs {

struct LeafSeen {
  std::string sha256, subject, issuer, not_before, not_after;
  Millis not_after_ms = no_time;
  Millis first_seen = no_time, last_seen = no_time;
  std::uint64_t count = 0;
};

struct FindingSeen {
  std::string code, severity, role, subject, message, remedy;
  int rank = -1;
  std::uint64_t count = 0;
  Millis first_seen = no_time, last_seen = no_time;
};

struct ChainCert {
  std::string subject, issuer, serial, not_before, not_after, key, signature_algorithm, sha256;
  std::vector<std::string> names;
  Millis not_after_ms = no_time;
};

struct HostSummary {
  static constexpr std::size_t max_leaves = 16;
  static constexpr std::size_t max_findings = 64;
  static constexpr std::size_t max_chain = 10;
  static constexpr std::size_t max_names = 32;
  static constexpr std::size_t max_addresses = 16;

  std::string host;
  std::uint64_t connections = 0, failures = 0;
  Millis first_seen = no_time, last_seen = no_time;
  std::vector<LeafSeen> leaves;  // distinct leaves by sha256, in first-seen order
  std::uint64_t leaves_dropped = 0;
  std::vector<FindingSeen> findings;
  std::uint64_t findings_dropped = 0;
  std::vector<std::string> addresses;  // distinct destination addresses (CDN edges show here)
  // The latest record's chain and findings: what the host serves now.
  std::vector<ChainCert> chain;
  std::vector<std::string> names;  // SANs of the current leaf
  Millis latest = no_time;         // time of the latest record
  int current_worst = -1;          // worst severity in the latest record
  std::vector<std::string> current_codes;
  int worst_ever = -1;

  // The leaf of the most recent record that had one; nullptr when none was ever seen.
  const LeafSeen* current_leaf() const;
  // The host's worst outcome or finding, as a severity rank: the worst finding kept (the
  // rows the summary lists, current or not), "error" when every connection failed or the
  // current leaf has expired, "warning" when some connections failed; -1 ("ok") otherwise.
  // A badge never reads "ok" above a row that says otherwise.
  int status_rank(Millis now) const;
};

// Hosts that did not fit in the summary's top N, counted but not itemised.
struct OtherHosts {
  std::uint64_t hosts = 0;  // host entries folded in (a host folded twice counts twice)
  std::uint64_t connections = 0, failures = 0;
  int worst = -1;                             // worst status rank among them
  std::uint64_t by_status[4] = {0, 0, 0, 0};  // ok, info, warning, error
  void fold(const HostSummary& h, Millis now);
  bool empty() const { return hosts == 0; }
};

// Memory is bounded by `max_hosts` host summaries: when the table is full, the least
// interesting tenth (best status, then least recently seen) is folded into others(), so a
// 200,000-host log is read in the memory of max_hosts hosts. A host seen again after it was
// folded starts a new entry; its earlier records stay in others() (the counts stay exact in
// total, split between the two).
class Summarizer {
 public:
  static constexpr std::size_t default_top = 1000;
  explicit Summarizer(std::size_t top = default_top, Millis now = no_time);
  void add(const RecordView& record);
  // Hosts worst first: status, then fewest days left, then most failures, then name; at most
  // `top` of them (the rest are added to others()).
  std::vector<const HostSummary*> sorted(Millis now);
  std::size_t host_count() const { return hosts_.size(); }
  const OtherHosts& others() const { return others_; }

 private:
  void fold_least_interesting();
  std::size_t top_;
  std::size_t max_hosts_;  // entries kept while reading: 2 x top, so the ranking has room
  Millis now_;
  std::unordered_map<std::string, HostSummary> hosts_;
  OtherHosts others_;
  bool sorted_once_ = false;
};

enum class SummaryFormat { text, json, csv };

// `others` (may be empty) becomes a last row / object {"host": "(others)", ...}.
void write_summary(std::ostream& out, const std::vector<const HostSummary*>& hosts,
                   const OtherHosts& others, Millis now, SummaryFormat format,
                   bool colour = false);  // text only: the status column in colour

// Reads `paths` in order and feeds every record to `summary`. Returns false, with `error`
// naming the file, when a file cannot be opened or read.
bool summarize_files(const std::vector<std::string>& paths, Summarizer& summary, ScanStats& stats,
                     std::string& error);

}  // namespace tlsprobe::logs
