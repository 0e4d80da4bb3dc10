#include "logs/summary.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace tlsprobe::logs {

namespace json = boost::json;

std::string corrupt_note(const ScanStats& stats) {
  if (stats.corrupt == 0) return {};
  return std::to_string(stats.corrupt) + (stats.corrupt == 1 ? " corrupt line" : " corrupt lines") +
         " skipped";
}

bool open_all(const std::vector<std::string>& paths,
              std::vector<std::unique_ptr<LineReader>>& readers, std::string& error) {
  readers.clear();
  readers.reserve(paths.size());
  for (const auto& path : paths) {
    auto reader = LineReader::open(path, error);
    if (!reader) return false;
    readers.push_back(std::move(reader));
  }
  return true;
}

const LeafSeen* HostSummary::current_leaf() const {
  const LeafSeen* best = nullptr;
  for (const auto& leaf : leaves)
    if (best == nullptr || leaf.last_seen >= best->last_seen) best = &leaf;
  return best;
}

int HostSummary::status_rank(Millis now) const {
  int rank = std::max(current_worst, worst_ever);
  if (connections > 0 && failures == connections) rank = 2;
  if (failures > 0) rank = std::max(rank, 1);
  const LeafSeen* leaf = current_leaf();
  if (leaf != nullptr && leaf->not_after_ms != no_time && leaf->not_after_ms < now) rank = 2;
  return rank;
}

void OtherHosts::fold(const HostSummary& h, Millis now) {
  ++hosts;
  connections += h.connections;
  failures += h.failures;
  const int rank = h.status_rank(now);
  worst = std::max(worst, rank);
  ++by_status[std::clamp(rank + 1, 0, 3)];
}

namespace {

void widen(Millis& first, Millis& last, Millis t) {
  if (t == no_time) return;
  if (first == no_time || t < first) first = t;
  if (last == no_time || t > last) last = t;
}

ChainCert copy_cert(const CertView& c) {
  ChainCert out;
  out.subject = c.subject;
  out.issuer = c.issuer;
  out.serial = c.serial;
  out.not_before = c.not_before;
  out.not_after = c.not_after;
  out.key = c.key;
  out.signature_algorithm = c.signature_algorithm;
  out.sha256 = c.sha256;
  out.not_after_ms = c.not_after_ms;
  if (c.names != nullptr) {
    for (const auto& n : *c.names) {
      if (out.names.size() >= HostSummary::max_names) break;
      if (const auto* s = n.if_string()) out.names.emplace_back(*s);
    }
  }
  return out;
}

void add_leaf(HostSummary& h, const CertView& leaf, Millis t) {
  // Leaves are told apart by fingerprint; very old records may only have subject and dates.
  const auto same = [&](const LeafSeen& l) {
    return leaf.sha256.empty()
               ? (l.sha256.empty() && l.subject == leaf.subject && l.not_after == leaf.not_after)
               : l.sha256 == leaf.sha256;
  };
  auto it = std::find_if(h.leaves.begin(), h.leaves.end(), same);
  if (it == h.leaves.end()) {
    if (h.leaves.size() >= HostSummary::max_leaves) {
      // Full: the leaf seen longest ago makes room, so the list stays about the present.
      auto oldest = std::min_element(
          h.leaves.begin(), h.leaves.end(),
          [](const LeafSeen& a, const LeafSeen& b) { return a.last_seen < b.last_seen; });
      ++h.leaves_dropped;
      if (t != no_time && oldest->last_seen != no_time && oldest->last_seen > t) return;
      h.leaves.erase(oldest);
    }
    LeafSeen l;
    l.sha256 = leaf.sha256;
    l.subject = leaf.subject;
    l.issuer = leaf.issuer;
    l.not_before = leaf.not_before;
    l.not_after = leaf.not_after;
    l.not_after_ms = leaf.not_after_ms;
    h.leaves.push_back(std::move(l));
    it = std::prev(h.leaves.end());
  }
  ++it->count;
  widen(it->first_seen, it->last_seen, t);
}

void add_finding(HostSummary& h, const FindingView& f, Millis t) {
  auto it = std::find_if(h.findings.begin(), h.findings.end(), [&](const FindingSeen& s) {
    return s.code == f.code && s.role == f.role;
  });
  if (it == h.findings.end()) {
    if (h.findings.size() >= HostSummary::max_findings) {
      ++h.findings_dropped;
      return;
    }
    FindingSeen s;
    s.code = f.code;
    s.severity = f.severity;
    s.role = f.role;
    s.subject = f.subject;
    s.message = f.message;
    s.remedy = f.remedy;
    s.rank = f.rank;
    h.findings.push_back(std::move(s));
    it = std::prev(h.findings.end());
  } else if (t != no_time && t >= it->last_seen) {
    // Keep the latest wording (edge.stale can move from warning to error as days pass).
    if (f.rank != it->rank) {
      it->severity = f.severity;
      it->rank = f.rank;
    }
  }
  ++it->count;
  widen(it->first_seen, it->last_seen, t);
}

}  // namespace

Summarizer::Summarizer(std::size_t top, Millis now)
    : top_(std::max<std::size_t>(top, 1)),
      max_hosts_(2 * std::max<std::size_t>(top, 1)),
      now_(now) {}

void Summarizer::fold_least_interesting() {
  // Batch eviction (a tenth of the table at a time) keeps the cost per new host at
  // O(log n) amortised instead of a full scan per host.
  struct Key {
    int status;
    Millis last_seen;
    const std::string* name;
  };
  std::vector<Key> keys;
  keys.reserve(hosts_.size());
  for (const auto& [name, h] : hosts_) keys.push_back(Key{h.status_rank(now_), h.last_seen, &name});
  const std::size_t n = std::max<std::size_t>(hosts_.size() / 10, 1);
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(n - 1), keys.end(),
                   [](const Key& a, const Key& b) {
                     if (a.status != b.status) return a.status < b.status;
                     return a.last_seen < b.last_seen;
                   });
  std::vector<std::string> victims;
  victims.reserve(n);
  for (std::size_t i = 0; i < n; ++i) victims.push_back(*keys[i].name);
  for (const auto& name : victims) {
    auto it = hosts_.find(name);
    others_.fold(it->second, now_);
    hosts_.erase(it);
  }
}

void Summarizer::add(const RecordView& r) {
  auto found = hosts_.find(r.host);
  if (found == hosts_.end()) {
    if (hosts_.size() >= max_hosts_) fold_least_interesting();
    found = hosts_.emplace(r.host, HostSummary{}).first;
    found->second.host = r.host;
  }
  HostSummary& h = found->second;
  ++h.connections;
  if (r.outcome == "failure") ++h.failures;
  widen(h.first_seen, h.last_seen, r.time);
  if (r.has_leaf) add_leaf(h, r.leaf, r.time);
  for (const auto& f : r.findings) {
    add_finding(h, f, r.time);
    if (f.rank > h.worst_ever) h.worst_ever = f.rank;
  }
  if (!r.address.empty() && h.addresses.size() < HostSummary::max_addresses &&
      std::find(h.addresses.begin(), h.addresses.end(), r.address) == h.addresses.end())
    h.addresses.emplace_back(r.address);

  if (r.time == no_time || h.latest == no_time || r.time >= h.latest) {
    h.latest = r.time;
    h.current_worst = r.worst;
    h.current_codes.clear();
    for (const auto& f : r.findings)
      if (h.current_codes.size() < HostSummary::max_findings &&
          std::find(h.current_codes.begin(), h.current_codes.end(), f.code) ==
              h.current_codes.end())
        h.current_codes.emplace_back(f.code);
    // Copy the chain only when it changed: the common record repeats the last one.
    const bool have_chain = !r.chain.empty();
    const std::string_view leaf_sha = have_chain ? r.chain.front().sha256 : r.leaf.sha256;
    const bool changed = h.chain.empty() || h.chain.front().sha256 != leaf_sha ||
                         (have_chain && h.chain.size() != r.chain.size());
    if ((have_chain || r.has_leaf) && changed) {
      h.chain.clear();
      if (have_chain) {
        for (const auto& c : r.chain) {
          if (h.chain.size() >= HostSummary::max_chain) break;
          h.chain.push_back(copy_cert(c));
        }
      } else {
        h.chain.push_back(copy_cert(r.leaf));
      }
      h.names = h.chain.front().names;
    }
  }
}

std::vector<const HostSummary*> Summarizer::sorted(Millis now) {
  struct Key {
    int status;
    Millis expiry;
    const HostSummary* host;
  };
  std::vector<Key> keys;
  keys.reserve(hosts_.size());
  for (const auto& [name, h] : hosts_) {
    const LeafSeen* leaf = h.current_leaf();
    const Millis expiry = leaf && leaf->not_after_ms != no_time ? leaf->not_after_ms : INT64_MAX;
    keys.push_back(Key{h.status_rank(now), expiry, &h});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.status != b.status) return a.status > b.status;
    if (a.host->worst_ever != b.host->worst_ever) return a.host->worst_ever > b.host->worst_ever;
    if (a.expiry != b.expiry) return a.expiry < b.expiry;
    if (a.host->failures != b.host->failures) return a.host->failures > b.host->failures;
    return a.host->host < b.host->host;
  });
  std::vector<const HostSummary*> out;
  out.reserve(std::min(keys.size(), top_));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i < top_) {
      out.push_back(keys[i].host);
    } else if (!sorted_once_) {
      others_.fold(*keys[i].host, now);  // kept while reading, but below the top N
    }
  }
  sorted_once_ = true;
  return out;
}

namespace {

std::string short_hash(const std::string& sha) {
  if (sha.size() <= 16) return escape_text(sha);
  return escape_text(sha.substr(0, 8)) + "…" + escape_text(sha.substr(sha.size() - 8));
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string days_left_text(Millis now, Millis not_after) {
  if (not_after == no_time) return "unknown expiry";
  const auto d = days_between(now, not_after);
  if (d < 0) return "expired " + std::to_string(-d) + (d == -1 ? " day ago" : " days ago");
  return std::to_string(d) + (d == 1 ? " day left" : " days left");
}

std::string others_sentence(const OtherHosts& others) {
  std::string s = std::to_string(others.hosts) +
                  (others.hosts == 1 ? " more host" : " more hosts") +
                  " not listed (--top): " + std::to_string(others.connections) +
                  (others.connections == 1 ? " connection" : " connections");
  if (others.failures > 0) s += " (" + std::to_string(others.failures) + " failed)";
  static constexpr const char* names[] = {"ok", "info", "warning", "error"};
  std::string parts;
  for (int i = 3; i >= 0; --i) {
    if (others.by_status[i] == 0) continue;
    parts += (parts.empty() ? "" : ", ") + std::to_string(others.by_status[i]) + " " + names[i];
  }
  if (!parts.empty()) s += "; " + parts;
  return s;
}

void write_text(std::ostream& out, const std::vector<const HostSummary*>& hosts,
                const OtherHosts& others, Millis now, bool colour) {
  std::uint64_t connections = others.connections;
  for (const auto* h : hosts) connections += h->connections;
  const std::uint64_t host_total = hosts.size() + others.hosts;
  out << host_total << (host_total == 1 ? " host, " : " hosts, ") << connections
      << (connections == 1 ? " connection" : " connections") << "\n";
  for (const auto* h : hosts) {
    char head[64];  // padded before colouring: escape codes take no columns
    const std::string_view status = severity_name(h->status_rank(now));
    std::snprintf(head, sizeof head, "%-8s", upper(status).c_str());
    out << "\n"
        << colour_by_severity(head, status, colour) << " " << escape_text(h->host) << "  "
        << h->connections << (h->connections == 1 ? " connection" : " connections");
    if (h->failures > 0) out << " (" << h->failures << " failed)";
    out << ", first " << format_ms(h->first_seen) << ", last " << format_ms(h->last_seen) << "\n";
    if (h->addresses.size() > 1) {
      out << "  addresses ";
      for (std::size_t i = 0; i < h->addresses.size(); ++i)
        out << (i ? ", " : "") << escape_text(h->addresses[i]);
      out << "\n";
    }
    const LeafSeen* current = h->current_leaf();
    if (current != nullptr) {
      out << "  leaf      " << escape_text(current->subject) << "\n"
          << "            issued by " << escape_text(current->issuer) << "\n"
          << "            not after " << escape_text(current->not_after) << " ("
          << days_left_text(now, current->not_after_ms) << ")  sha256 "
          << short_hash(current->sha256) << "\n";
    } else {
      out << "  leaf      none seen\n";
    }
    if (h->leaves.size() > 1 || h->leaves_dropped > 0) {
      out << "  leaves    " << h->leaves.size() + h->leaves_dropped
          << " distinct (a renewal, or edges serving different certificates):\n";
      for (const auto& l : h->leaves) {
        out << "          " << (&l == current ? "* " : "  ") << short_hash(l.sha256) << "  "
            << escape_text(l.subject) << "  not after " << escape_text(l.not_after) << "  seen "
            << l.count << "x " << format_ms(l.first_seen) << " .. " << format_ms(l.last_seen)
            << "\n";
      }
      if (h->leaves_dropped > 0)
        out << "            (" << h->leaves_dropped << " older leaves not listed)\n";
    }
    if (!h->findings.empty()) {
      out << "  findings\n";
      std::vector<const FindingSeen*> fs;
      for (const auto& f : h->findings) fs.push_back(&f);
      std::stable_sort(fs.begin(), fs.end(), [](const FindingSeen* a, const FindingSeen* b) {
        return a->rank > b->rank;
      });
      for (const auto* f : fs) {
        char sev[16];
        std::snprintf(sev, sizeof sev, "%-8s", std::string(severity_name(f->rank)).c_str());
        const bool current_code = std::find(h->current_codes.begin(), h->current_codes.end(),
                                            f->code) != h->current_codes.end();
        out << "    " << colour_by_severity(sev, severity_name(f->rank), colour)
            << escape_text(f->code) << " [" << escape_text(f->role) << "] " << f->count << "x "
            << format_ms(f->first_seen) << " .. " << format_ms(f->last_seen)
            << (current_code ? "" : "  (not in the latest record)") << "\n";
        if (!f->message.empty()) out << "             " << escape_text(f->message) << "\n";
        if (!f->remedy.empty()) out << "             fix: " << escape_text(f->remedy) << "\n";
      }
      if (h->findings_dropped > 0)
        out << "    (" << h->findings_dropped << " findings of other kinds not listed)\n";
    }
  }
  if (!others.empty()) {
    char head[64];
    std::snprintf(head, sizeof head, "\n%-8s ", upper(severity_name(others.worst)).c_str());
    out << head << "(others)  " << others_sentence(others) << "\n";
  }
}

json::value time_value(Millis t) {
  if (t == no_time) return nullptr;
  return json::string(format_ms(t));
}

json::string u8(std::string_view s) { return json::string(to_valid_utf8(s)); }

json::object host_json(const HostSummary& h, Millis now) {
  json::object o;
  o["host"] = u8(h.host);
  o["status"] = std::string(severity_name(h.status_rank(now)));
  o["connections"] = h.connections;
  o["failures"] = h.failures;
  o["first_seen"] = time_value(h.first_seen);
  o["last_seen"] = time_value(h.last_seen);
  json::array addresses;
  for (const auto& a : h.addresses) addresses.emplace_back(u8(a));
  o["addresses"] = std::move(addresses);
  const LeafSeen* current = h.current_leaf();
  const auto leaf_json = [&](const LeafSeen& l) {
    json::object j;
    j["sha256"] = u8(l.sha256);
    j["subject"] = u8(l.subject);
    j["issuer"] = u8(l.issuer);
    j["not_before"] = u8(l.not_before);
    j["not_after"] = u8(l.not_after);
    if (l.not_after_ms != no_time) {
      j["days_left"] = days_between(now, l.not_after_ms);
    } else {
      j["days_left"] = nullptr;
    }
    j["count"] = l.count;
    j["first_seen"] = time_value(l.first_seen);
    j["last_seen"] = time_value(l.last_seen);
    return j;
  };
  o["current_leaf"] = current ? json::value(leaf_json(*current)) : json::value(nullptr);
  json::array leaves;
  for (const auto& l : h.leaves) leaves.emplace_back(leaf_json(l));
  o["leaves"] = std::move(leaves);
  o["leaves_dropped"] = h.leaves_dropped;
  json::array findings;
  for (const auto& f : h.findings) {
    json::object j;
    j["code"] = u8(f.code);
    j["severity"] = u8(f.severity);
    j["role"] = u8(f.role);
    j["count"] = f.count;
    j["first_seen"] = time_value(f.first_seen);
    j["last_seen"] = time_value(f.last_seen);
    j["current"] =
        std::find(h.current_codes.begin(), h.current_codes.end(), f.code) != h.current_codes.end();
    j["message"] = u8(f.message);
    j["remedy"] = u8(f.remedy);
    findings.emplace_back(std::move(j));
  }
  o["findings"] = std::move(findings);
  o["findings_dropped"] = h.findings_dropped;
  json::array chain;
  for (const auto& c : h.chain) {
    json::object j;
    j["subject"] = u8(c.subject);
    j["issuer"] = u8(c.issuer);
    j["serial"] = u8(c.serial);
    j["not_before"] = u8(c.not_before);
    j["not_after"] = u8(c.not_after);
    json::array names;
    for (const auto& n : c.names) names.emplace_back(u8(n));
    j["names"] = std::move(names);
    j["key"] = u8(c.key);
    j["signature_algorithm"] = u8(c.signature_algorithm);
    j["sha256"] = u8(c.sha256);
    chain.emplace_back(std::move(j));
  }
  o["chain"] = std::move(chain);
  return o;
}

json::object others_json(const OtherHosts& others) {
  json::object o;
  o["host"] = "(others)";
  o["others"] = true;
  o["status"] = std::string(severity_name(others.worst));
  o["hosts"] = others.hosts;
  o["connections"] = others.connections;
  o["failures"] = others.failures;
  json::object by;
  static constexpr const char* names[] = {"ok", "info", "warning", "error"};
  for (int i = 0; i < 4; ++i) by[names[i]] = others.by_status[i];
  o["hosts_by_status"] = std::move(by);
  return o;
}

void write_csv(std::ostream& out, const std::vector<const HostSummary*>& hosts,
               const OtherHosts& others, Millis now) {
  out << "host,status,connections,failures,first_seen,last_seen,leaf_subject,leaf_issuer,"
         "leaf_not_after,days_left,leaf_sha256,distinct_leaves,findings\n";
  for (const auto* h : hosts) {
    const LeafSeen* leaf = h->current_leaf();
    std::string findings;
    for (const auto& f : h->findings) {
      if (!findings.empty()) findings += ' ';
      findings += f.code + "=" + std::to_string(f.count);
    }
    out << escape_csv(h->host) << ',' << severity_name(h->status_rank(now)) << ',' << h->connections
        << ',' << h->failures << ',' << format_ms(h->first_seen) << ',' << format_ms(h->last_seen)
        << ',' << escape_csv(leaf ? leaf->subject : "") << ','
        << escape_csv(leaf ? leaf->issuer : "") << ',' << escape_csv(leaf ? leaf->not_after : "")
        << ',';
    if (leaf && leaf->not_after_ms != no_time) out << days_between(now, leaf->not_after_ms);
    out << ',' << escape_csv(leaf ? leaf->sha256 : "") << ','
        << h->leaves.size() + h->leaves_dropped << ',' << escape_csv(findings) << "\n";
  }
  if (!others.empty())
    out << "(others)," << severity_name(others.worst) << ',' << others.connections << ','
        << others.failures << ",,,,,,,,,"
        << "\n";
}

}  // namespace

void write_summary(std::ostream& out, const std::vector<const HostSummary*>& hosts,
                   const OtherHosts& others, Millis now, SummaryFormat format, bool colour) {
  switch (format) {
    case SummaryFormat::text:
      write_text(out, hosts, others, now, colour);
      break;
    case SummaryFormat::csv:
      write_csv(out, hosts, others, now);
      break;
    case SummaryFormat::json: {
      // One host at a time: the document is as large as the host list, its DOM never is.
      out << '[';
      for (std::size_t i = 0; i < hosts.size(); ++i)
        out << (i ? "," : "") << json::serialize(host_json(*hosts[i], now));
      if (!others.empty())
        out << (hosts.empty() ? "" : ",") << json::serialize(others_json(others));
      out << "]\n";
      break;
    }
  }
}

bool summarize_files(const std::vector<std::string>& paths, Summarizer& summary, ScanStats& stats,
                     std::string& error) {
  std::vector<std::unique_ptr<LineReader>> readers;
  if (!open_all(paths, readers, error)) return false;
  return scan_readers(readers, stats, error,
                      [&](const RecordView& r, std::string_view) { summary.add(r); });
}

}  // namespace tlsprobe::logs
