// RecordFilter: the record selection of `tlsprobe logs grep` and `follow`, and the one-line
// readable form of a record (`--format text`).
#pragma once

#include "logs/record.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::logs {

struct RecordFilter {
  std::vector<std::string> hosts;           // globs on host, domain, address or SNI; any matches
  std::vector<std::string> codes;           // globs on finding codes ("chain.*"); any matches
  int min_severity = -1;                    // keep records with a finding at least this severe
  std::string role;                         // record role (tlsprobe.role) or a finding's role
  Millis since = no_time, until = no_time;  // [since, until] on @timestamp

  // Code, severity and role must hold for one and the same finding when more than one is
  // given ("--code name.mismatch --role edge" = a name mismatch on the edge).
  bool matches(const RecordView& r) const;
};

// "2026-06-01T12:00:00.123Z www.example.com:443 failure error chain.incomplete[direct]
// leaf CN=www.example.com not_after 2026-07-01T00:00:00Z" — escaped for a terminal.
std::string one_line(const RecordView& r, bool colour = false);

// The findings of a record, one escaped line each, for `follow`:
// "TIME HOST SEVERITY CODE [ROLE] message (fix: remedy)".
std::vector<std::string> finding_lines(const RecordView& r, bool colour = false);

}  // namespace tlsprobe::logs
