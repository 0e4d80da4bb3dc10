#include "logs/report_html.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

namespace tlsprobe::logs {

namespace {

constexpr std::int64_t warn_days = 21;  // DESIGN.md section 3: cert.expiring_soon default

std::string h(std::string_view s) { return escape_html(s); }

// A distinguished name, escaped, with a line-break opportunity after each RDN separator: a
// narrow cell wraps "CN=Example CA,O=Example" between RDNs instead of mid-word.
std::string dn(std::string_view s) {
  std::string out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = s.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? s.size() : comma + 1;
    out += escape_html(s.substr(start, end - start));
    if (comma == std::string_view::npos) break;
    out += "<wbr>";
    start = end;
  }
  return out;
}

std::string status_class(int rank) {
  switch (rank) {
    case 2:
      return "error";
    case 1:
      return "warning";
    case 0:
      return "info";
    default:
      return "ok";
  }
}

// "2026-06-01 00:00Z": short enough for a table cell.
std::string short_time(Millis t) {
  std::string s = format_ms(t);
  if (s.size() < 16) return s;
  s[10] = ' ';
  return s.substr(0, 16) + "Z";
}

std::string days_cell(Millis now, Millis not_after) {
  if (not_after == no_time) return "";
  return std::to_string(days_between(now, not_after));
}

constexpr const char* kStyle = R"(
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#1d2330;background:#fff;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#5a6270;margin:0 0 12px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e7ec;vertical-align:top}
th{background:#f3f5f8;font-weight:600}td.t{white-space:nowrap}td.dn{max-width:260px;overflow-wrap:break-word}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff}
.badge.error{background:#c62828}.badge.warning{background:#e08a00}.badge.info{background:#3b73b9}.badge.ok{background:#2e7d32}
.mono{font-family:"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
.remedy{background:#f6f8fb;border-left:3px solid #3b73b9;padding:4px 8px;margin:4px 0}
.dim{color:#6b7280}.exp{color:#c62828;font-weight:600}.soon{color:#b36b00;font-weight:600}
section.host{border:1px solid #e4e7ec;border-radius:6px;padding:4px 12px;margin:10px 0}
)";

void host_table(std::ostream& out, const std::vector<const HostSummary*>& hosts,
                const OtherHosts& others, Millis now) {
  out << "<h2 id=\"hosts\">Hosts</h2>\n<table id=\"host-table\">\n<thead><tr><th>Status</th>"
         "<th>Host</th><th>Connections</th><th>Failed</th><th>First seen</th><th>Last seen</th>"
         "<th>Issuer</th><th>Not after</th><th>Days left</th><th>Leaves</th><th>Findings</th>"
         "</tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const HostSummary& host = *hosts[i];
    const int rank = host.status_rank(now);
    const LeafSeen* leaf = host.current_leaf();
    out << "<tr class=\"host-row\"><td><span class=\"badge " << status_class(rank) << "\">"
        << severity_name(rank) << "</span></td><td class=\"host\"><a href=\"#host-" << i << "\">"
        << h(host.host) << "</a></td><td class=\"num\">" << host.connections
        << "</td><td class=\"num\">" << host.failures << "</td><td class=\"t\">"
        << short_time(host.first_seen) << "</td><td class=\"t\">" << short_time(host.last_seen)
        << "</td><td class=\"dn\">" << (leaf ? dn(leaf->issuer) : "") << "</td><td class=\"t\">"
        << (leaf ? h(leaf->not_after.substr(0, 10)) : "") << "</td><td class=\"num\">";
    if (leaf && leaf->not_after_ms != no_time) {
      const auto days = days_between(now, leaf->not_after_ms);
      out << "<span class=\""
          << (days < 0            ? "exp"
              : days <= warn_days ? "soon"
                                  : "")
          << "\">" << days << "</span>";
    }
    out << "</td><td class=\"num\">" << host.leaves.size() + host.leaves_dropped << "</td><td>";
    bool first = true;
    for (const auto& f : host.findings) {
      out << (first ? "" : ", ") << "<span class=\"code " << status_class(f.rank) << "\">"
          << h(f.code) << "</span>&#160;&#215;" << f.count;
      first = false;
    }
    out << "</td></tr>\n";
  }
  if (!others.empty()) {
    out << "<tr class=\"others-row\"><td><span class=\"badge " << status_class(others.worst)
        << "\">" << severity_name(others.worst) << "</span></td><td>(" << others.hosts
        << " more hosts)</td><td class=\"num\">" << others.connections << "</td><td class=\"num\">"
        << others.failures
        << "</td><td colspan=\"7\" class=\"dim\">not listed: the report shows the top "
        << hosts.size() << " hosts (<code>--top</code>)</td></tr>\n";
  }
  out << "</tbody></table>\n";
}

void timeline(std::ostream& out, const std::vector<const HostSummary*>& hosts, Millis now) {
  // A fixed window, a month back and 13 months ahead: what expires soon is what matters.
  const Millis t0 = now - 30 * ms_per_day;
  const Millis t1 = now + 395 * ms_per_day;
  constexpr int label_w = 280, plot_w = 760, row_h = 22, top = 28;
  const auto x = [&](Millis t) {
    const double f = static_cast<double>(std::clamp(t, t0, t1) - t0) / static_cast<double>(t1 - t0);
    return label_w + static_cast<int>(f * plot_w);
  };
  struct Row {
    const HostSummary* host;
    const LeafSeen* leaf;
    bool current;
  };
  std::vector<Row> rows;
  for (const auto* host : hosts) {
    const LeafSeen* current = host->current_leaf();
    if (current == nullptr) continue;
    if (rows.size() >= max_timeline_rows) break;
    rows.push_back(Row{host, current, true});
    for (const auto& l : host->leaves) {
      if (&l == current || rows.size() >= max_timeline_rows) continue;
      rows.push_back(Row{host, &l, false});
    }
  }
  out << "<h2 id=\"timeline\">Expiry timeline</h2>\n<p class=\"meta\">Each bar is a leaf "
         "certificate's validity (current leaf solid, earlier leaves faded); the red line is "
         "now. Window: "
      << format_date(t0) << " to " << format_date(t1) << ".</p>\n";
  if (rows.empty()) {
    out << "<p>No certificates in these logs.</p>\n";
    return;
  }
  const int height = top + static_cast<int>(rows.size()) * row_h + 10;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"expiry-timeline\" width=\""
      << label_w + plot_w + 150 << "\" height=\"" << height
      << "\" role=\"img\" aria-label=\"certificate expiry timeline\" "
         "style=\"font-family:'DejaVu Sans',Arial,sans-serif;font-size:12px\">\n";
  for (int m = 0; m <= 14; ++m) {
    const Millis t = t0 + m * 30 * ms_per_day;
    if (t > t1) break;
    out << "<line x1=\"" << x(t) << "\" x2=\"" << x(t) << "\" y1=\"" << top - 6 << "\" y2=\""
        << height - 6 << "\" stroke=\"#e4e7ec\"/>";
    if (m % 2 == 0)
      out << "<text x=\"" << x(t) + 2 << "\" y=\"" << top - 10 << "\" fill=\"#5a6270\">"
          << format_date(t) << "</text>";
    out << "\n";
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const int y = top + static_cast<int>(i) * row_h;
    if (row.current) {
      std::string label = row.host->host;
      if (label.size() > 40) label = label.substr(0, 37) + "...";
      out << "<text x=\"4\" y=\"" << y + 14 << "\">" << h(label) << "</text>";
    }
    const Millis na = row.leaf->not_after_ms;
    const Millis nb = parse_rfc3339_ms(row.leaf->not_before).value_or(t0);
    if (na == no_time) continue;
    const auto days = days_between(now, na);
    const char* colour = days < 0 ? "#c62828" : days <= warn_days ? "#e08a00" : "#2e7d32";
    const int x0 = x(nb), x1 = std::max(x(na), x0 + 2);
    out << "<rect x=\"" << x0 << "\" y=\"" << y + 3 << "\" width=\"" << x1 - x0 << "\" height=\""
        << row_h - 8 << "\" rx=\"3\" fill=\"" << colour << "\" opacity=\""
        << (row.current ? "0.9" : "0.35") << "\"><title>" << h(row.host->host) << ": "
        << h(row.leaf->subject) << " not after " << h(row.leaf->not_after) << "</title></rect>";
    out << "<text x=\"" << x1 + 4 << "\" y=\"" << y + 14 << "\" fill=\"#1d2330\">"
        << format_date(na) << " (" << days << "d)</text>\n";
  }
  out << "<line x1=\"" << x(now) << "\" x2=\"" << x(now) << "\" y1=\"" << top - 6 << "\" y2=\""
      << height - 4 << "\" stroke=\"#c62828\" stroke-width=\"2\"/>\n</svg>\n";
}

void findings_by_code(std::ostream& out, const std::vector<const HostSummary*>& hosts) {
  struct Group {
    int rank = -1;
    std::uint64_t count = 0;
    std::vector<std::string> hosts;
    std::size_t more_hosts = 0;
    std::string message, remedy;
  };
  constexpr std::size_t max_hosts_listed = 30;
  std::map<std::string, Group> groups;
  for (const auto* host : hosts) {
    for (const auto& f : host->findings) {
      Group& g = groups[f.code];
      g.rank = std::max(g.rank, f.rank);
      g.count += f.count;
      if (std::find(g.hosts.begin(), g.hosts.end(), host->host) == g.hosts.end()) {
        if (g.hosts.size() < max_hosts_listed) {
          g.hosts.push_back(host->host);
        } else {
          ++g.more_hosts;
        }
      }
      if (g.message.empty()) g.message = f.message;
      if (g.remedy.empty()) g.remedy = f.remedy;
    }
  }
  std::vector<std::pair<const std::string*, const Group*>> sorted;
  for (const auto& [code, g] : groups) sorted.emplace_back(&code, &g);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second->rank != b.second->rank) return a.second->rank > b.second->rank;
    return a.second->count > b.second->count;
  });
  out << "<h2 id=\"findings\">Findings by code</h2>\n";
  if (sorted.empty()) {
    out << "<p>No findings.</p>\n";
    return;
  }
  out << "<table id=\"findings-table\">\n<thead><tr><th>Severity</th><th>Code</th><th>Seen</th>"
         "<th>Hosts</th><th>What and how to fix</th></tr></thead>\n<tbody>\n";
  for (const auto& [code, g] : sorted) {
    out << "<tr class=\"finding-row\"><td><span class=\"badge " << status_class(g->rank) << "\">"
        << severity_name(g->rank) << "</span></td><td class=\"mono\">" << h(*code)
        << "</td><td class=\"num\">" << g->count << "</td><td>";
    for (std::size_t i = 0; i < g->hosts.size(); ++i) out << (i ? ", " : "") << h(g->hosts[i]);
    if (g->more_hosts) out << " and " << g->more_hosts << " more";
    out << "</td><td>" << h(g->message);
    if (!g->remedy.empty()) out << "<div class=\"remedy\">Fix: " << h(g->remedy) << "</div>";
    out << "</td></tr>\n";
  }
  out << "</tbody></table>\n";
}

void host_sections(std::ostream& out, const std::vector<const HostSummary*>& hosts, Millis now) {
  out << "<h2 id=\"chains\">Chains</h2>\n";
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const HostSummary& host = *hosts[i];
    const int rank = host.status_rank(now);
    out << "<section class=\"host\" id=\"host-" << i << "\"><h3><span class=\"badge "
        << status_class(rank) << "\">" << severity_name(rank) << "</span> " << h(host.host)
        << "</h3>\n";
    if (!host.addresses.empty()) {
      out << "<p class=\"meta\">Addresses: ";
      for (std::size_t k = 0; k < host.addresses.size(); ++k)
        out << (k ? ", " : "") << h(host.addresses[k]);
      out << "</p>\n";
    }
    if (host.chain.empty()) {
      out << "<p class=\"dim\">No certificate seen.</p>\n";
    } else {
      out << "<table class=\"chain\"><thead><tr><th>#</th><th>Subject / names</th><th>Issuer</th>"
             "<th>Not after</th><th>Key, signature</th><th>SHA-256</th></tr></thead><tbody>\n";
      for (std::size_t k = 0; k < host.chain.size(); ++k) {
        const ChainCert& c = host.chain[k];
        out << "<tr><td class=\"num\">" << k << "</td><td class=\"dn\">" << dn(c.subject);
        if (!c.names.empty()) {
          out << "<div class=\"dim\">";
          for (std::size_t n = 0; n < c.names.size(); ++n) out << (n ? ", " : "") << h(c.names[n]);
          out << "</div>";
        }
        out << "</td><td class=\"dn\">" << dn(c.issuer) << "</td><td>" << h(c.not_after);
        const std::string days = days_cell(now, c.not_after_ms);
        if (!days.empty()) out << " <span class=\"dim\">(" << days << "d)</span>";
        out << "</td><td>" << h(c.key) << "<div class=\"dim\">" << h(c.signature_algorithm)
            << "</div></td><td class=\"mono\">" << h(c.sha256) << "</td></tr>\n";
      }
      out << "</tbody></table>\n";
    }
    if (host.leaves.size() > 1) {
      out << "<p>" << host.leaves.size() + host.leaves_dropped
          << " different leaves seen (a renewal, or edges serving different certificates):</p>"
             "<ul>\n";
      for (const auto& l : host.leaves)
        out << "<li><span class=\"mono\">" << h(l.sha256.substr(0, 16)) << "</span> "
            << h(l.subject) << ", not after " << h(l.not_after) << ", seen " << l.count
            << "&#215; from " << format_ms(l.first_seen) << " to " << format_ms(l.last_seen)
            << "</li>\n";
      out << "</ul>\n";
    }
    out << "</section>\n";
  }
}

}  // namespace

void write_html_report(std::ostream& out, const std::vector<const HostSummary*>& hosts,
                       const ReportInfo& info) {
  std::uint64_t connections = info.others.connections;
  std::uint64_t broken = info.others.by_status[3];
  for (const auto* host : hosts) {
    connections += host->connections;
    if (host->status_rank(info.now) >= 2) ++broken;
  }
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width\">"
         "<title>tlsprobe report</title><style>"
      << kStyle << "</style></head>\n<body>\n<h1>tlsprobe connection report</h1>\n"
      << "<p class=\"meta\" id=\"report-meta\">Generated " << format_ms(info.now) << " from ";
  for (std::size_t i = 0; i < info.files.size(); ++i)
    out << (i ? ", " : "") << "<span class=\"mono\">" << h(info.files[i]) << "</span>";
  out << ". <b>" << hosts.size() + info.others.hosts << "</b> hosts, <b>" << connections
      << "</b> connections, <b>" << broken << "</b> hosts with errors";
  if (info.stats.corrupt > 0) out << ", " << info.stats.corrupt << " corrupt lines skipped";
  out << ".";
  if (!info.others.empty())
    out << " Only the " << hosts.size() << " most important hosts are itemised; "
        << info.others.hosts << " more are counted in the last row of the table (raise "
        << "<code>--top</code> to list them).";
  out << "</p>\n";
  host_table(out, hosts, info.others, info.now);
  timeline(out, hosts, info.now);
  findings_by_code(out, hosts);
  host_sections(out, hosts, info.now);
  out << "</body></html>\n";
}

}  // namespace tlsprobe::logs
