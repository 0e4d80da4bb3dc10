// write_html_report: `tlsprobe logs report --html OUT`. One self-contained HTML file: inline
// CSS, an inline SVG expiry timeline, no scripts and no external assets, so it can be mailed
// or attached to a ticket and opened anywhere. Every string from a log is HTML-escaped.
#pragma once

#include "logs/scan.hpp"
#include "logs/summary.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace tlsprobe::logs {

struct ReportInfo {
  std::vector<std::string> files;  // shown in the header
  ScanStats stats;
  Millis now = no_time;
  OtherHosts others;  // hosts below the top N: one summary row and a note, not itemised
};

// Hosts in display order (Summarizer::sorted, already capped at its top N, so the report's
// size is bounded whatever the log's). At most max_timeline_rows hosts are drawn in the
// timeline; the tables list every host given, plus a row for info.others.
inline constexpr std::size_t max_timeline_rows = 100;
void write_html_report(std::ostream& out, const std::vector<const HostSummary*>& hosts,
                       const ReportInfo& info);

}  // namespace tlsprobe::logs
