#include "logs/filter.hpp"

namespace tlsprobe::logs {

namespace {

bool any_glob(const std::vector<std::string>& globs, std::string_view text) {
  if (text.empty()) return false;
  for (const auto& g : globs)
    if (glob_match(g, text)) return true;
  return false;
}

}  // namespace

bool RecordFilter::matches(const RecordView& r) const {
  if (since != no_time && (r.time == no_time || r.time < since)) return false;
  if (until != no_time && (r.time == no_time || r.time > until)) return false;
  if (!hosts.empty() && !any_glob(hosts, r.host) && !any_glob(hosts, r.domain) &&
      !any_glob(hosts, r.address) && !any_glob(hosts, r.sni))
    return false;
  const bool finding_filter = !codes.empty() || min_severity >= 0;
  if (!finding_filter) {
    if (role.empty()) return true;
    if (r.role == role) return true;
    for (const auto& f : r.findings)
      if (f.role == role) return true;
    return false;
  }
  for (const auto& f : r.findings) {
    if (!codes.empty() && !any_glob(codes, f.code)) continue;
    if (min_severity >= 0 && f.rank < min_severity) continue;
    if (!role.empty() && f.role != role) continue;
    return true;
  }
  return false;
}

std::string one_line(const RecordView& r, bool colour) {
  std::string out = escape_text(r.timestamp.empty() ? std::string_view("-") : r.timestamp);
  out += ' ';
  out += escape_text(r.host);
  if (!r.role.empty() && r.role != "direct") {
    out += " (";
    out += escape_text(r.role);
    out += ')';
  }
  out += ' ';
  out += r.outcome.empty() ? std::string("-") : escape_text(r.outcome);
  if (r.findings.empty()) {
    out += " no findings";
  } else {
    for (const auto& f : r.findings) {
      out += ' ';
      out += colour_by_severity(escape_text(f.severity), f.severity, colour);
      out += ':';
      out += escape_text(f.code);
      out += '[';
      out += escape_text(f.role);
      out += ']';
    }
  }
  if (r.has_leaf) {
    out += " | leaf ";
    out += escape_text(r.leaf.subject);
    out += " issuer ";
    out += escape_text(r.leaf.issuer);
    out += " not_after ";
    out += escape_text(r.leaf.not_after);
  }
  return out;
}

std::vector<std::string> finding_lines(const RecordView& r, bool colour) {
  std::vector<std::string> lines;
  for (const auto& f : r.findings) {
    std::string line = escape_text(r.timestamp);
    line += ' ';
    line += escape_text(r.host);
    line += ' ';
    line += colour_by_severity(escape_text(f.severity), f.severity, colour);
    line += ' ';
    line += escape_text(f.code);
    line += " [";
    line += escape_text(f.role);
    line += ']';
    if (!f.message.empty()) {
      line += ' ';
      line += escape_text(f.message);
    }
    if (!f.remedy.empty()) {
      line += " (fix: ";
      line += escape_text(f.remedy);
      line += ')';
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace tlsprobe::logs
