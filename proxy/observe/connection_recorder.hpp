// ConnectionRecorder: how every session kind (forward, tunnel, intercept, reverse) is seen,
// written once (issue 14 item 6). It
//   - opens the connection's metrics when it is made, at accept or when the mode is known
//     (connections_total{mode} + 1, open_connections + 1), so a scrape shows the connection
//     while it is open;
//   - collects the connection's findings under one rule (add_findings): each (code, subject,
//     evidence) once per record, http.hsts_missing once per host and header value whatever
//     the URL, at most kMaxFindingsPerCode per code (a browser's keep-alive connection may
//     carry thousands of pages: the log line stays bounded), the rest counted in the last
//     listed one's evidence `not_listed`;
//   - writes the record (write_record): the JSON log line, its findings announced on
//     stderr (ConnectionLog::announce: once per subject and code), findings_total and the
//     leaf's notAfter; at most once per record;
//   - closes the connection (close): the record if not yet written, bytes_total{mode} and
//     open_connections - 1, exactly once, and from the destructor at the latest.
// Not thread-safe: one session's strand uses it (the tunnel guards it with its own mutex,
// the side probe's answer arriving on the prober's thread).
#pragma once

#include "inspect/finding.hpp"
#include "proxy/observe/log_record.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::proxy {

class ConnectionLog;
class Metrics;

class ConnectionRecorder {
 public:
  // Listed per code and record; further findings of that code are counted, not listed.
  static constexpr std::size_t kMaxFindingsPerCode = 16;

  // `opening`: what is known at accept (mode, start, client address and port). `log` and
  // `metrics` may be null (nothing written, nothing counted).
  ConnectionRecorder(ConnectionLog* log, Metrics* metrics, ConnectionFacts opening);
  ~ConnectionRecorder();
  ConnectionRecorder(const ConnectionRecorder&) = delete;
  ConnectionRecorder& operator=(const ConnectionRecorder&) = delete;

  ConnectionFacts& facts() { return facts_; }
  const ConnectionFacts& facts() const { return facts_; }

  // Adds `findings` to the record under the rule above (finding_dedup_key).
  void add_findings(inspect::Findings findings);
  // The same for findings that others hold too (a tunnel's come from its side probe's cache
  // entry): shared, not copied.
  void add_shared_findings(const FindingList& findings);
  // Forgets the record's findings and what was seen (reverse: a new origin's verdict
  // replaces the previous origin's).
  void clear_findings();

  // Writes the current record (end = now unless set). False when it was already written.
  bool write_record();
  // Marks the current record as said without writing it (nothing worth a line).
  void skip_record() { written_ = true; }
  bool record_written() const { return written_; }
  // Starts the connection's next record (forward: one per upstream host): the current one
  // is written first if it was not; the new one keeps mode and client, starts now.
  void next_record();

  // The connection ended: writes the record if not yet written, adds the connection's
  // bytes (all records together) to bytes_total{mode} and takes it off open_connections.
  // Exactly once; later calls do nothing.
  void close(std::uint64_t client_to_server, std::uint64_t server_to_client);
  // The metrics part of close() alone: the tunnel's line waits for its side probe.
  void close_connection(std::uint64_t client_to_server, std::uint64_t server_to_client);
  bool closed() const { return closed_; }

 private:
  void add_finding(FindingRef f);
  void note_unlisted();

  ConnectionLog* log_;
  Metrics* metrics_;
  LogMode mode_;
  ConnectionFacts facts_;
  // Finding keys of this record: views into `held_` (every finding listed, kept alive even
  // when note_unlisted replaces one in the facts) or into `unlisted_keys_` (the keys of
  // those past the cap); per code how many were listed and how many were not.
  std::vector<FindingRef> held_;
  std::list<std::string> unlisted_keys_;  // a list: no allocation while empty (a deque makes one)
  std::set<std::string_view> seen_;
  std::map<std::string_view, std::size_t> listed_, unlisted_;
  bool written_ = false, closed_ = false;
};

}  // namespace tlsprobe::proxy
