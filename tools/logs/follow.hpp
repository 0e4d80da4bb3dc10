// follow_file: `tlsprobe logs follow FILE`. Polls a growing log and prints the findings of
// each new record. Survives rotation (the file renamed away and a new one created: the old
// one is read to its end, then the new one from its start) and truncation (read again from
// the start). Plain files only: a log being written is never gzip'ed.
#pragma once

#include "logs/filter.hpp"

#include <iosfwd>
#include <string>

namespace tlsprobe::logs {

struct FollowOptions {
  static constexpr int min_interval_ms = 10;
  static constexpr int max_interval_ms = 10'000;

  std::string path;
  RecordFilter filter;
  bool json = false;        // print the matching records' lines instead of finding lines
  bool colour = false;      // ANSI colour on severities (--color)
  bool from_start = false;  // read what the file holds now too (default: only what is appended)
  int interval_ms = 500;    // poll interval, clamped to [min_interval_ms, max_interval_ms]
  double max_seconds = 0;   // stop after this long; 0 = until killed
};

struct FollowResult {
  int exit_code = 0;  // 0, or 64 when the file cannot be opened at the start
  std::uint64_t records = 0, printed = 0, corrupt = 0, rotations = 0, truncations = 0;
};

// Output goes to `out` (flushed after every record), problems to `err`.
FollowResult follow_file(const FollowOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tlsprobe::logs
