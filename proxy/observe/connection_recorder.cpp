#include "proxy/observe/connection_recorder.hpp"

#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_metrics.hpp"
#include "proxy/observe/metrics.hpp"

namespace tlsprobe::proxy {

ConnectionRecorder::ConnectionRecorder(ConnectionLog* log, Metrics* metrics,
                                       ConnectionFacts opening)
    : log_(log), metrics_(metrics), mode_(opening.mode), facts_(std::move(opening)) {
  if (metrics_) metrics_->connection_opened(to_string(mode_));
}

ConnectionRecorder::~ConnectionRecorder() {
  // A session that ended without saying so (an exception, an early return) is still
  // written and counted, once.
  close(facts_.bytes_client_to_server.value_or(0), facts_.bytes_server_to_client.value_or(0));
}

void ConnectionRecorder::add_findings(inspect::Findings findings) {
  for (auto& f : findings) add_finding(std::make_shared<const LoggedFinding>(std::move(f)));
}

void ConnectionRecorder::add_shared_findings(const FindingList& findings) {
  for (const auto& f : findings.refs()) add_finding(f);
}

void ConnectionRecorder::add_finding(FindingRef f) {
  if (seen_.contains(f->dedup_key())) return;
  // The first finding of a code is always listed, and held: the maps' keys view its code.
  const auto counted = listed_.try_emplace(f->finding().code, 0).first;
  if (counted->second == kMaxFindingsPerCode) {
    // Past the cap only its key is kept: a keep-alive connection may carry thousands.
    seen_.insert(unlisted_keys_.emplace_back(f->dedup_key()));
    ++unlisted_[counted->first];
    return;
  }
  ++counted->second;
  seen_.insert(f->dedup_key());
  held_.push_back(f);
  facts_.findings.push_back(std::move(f));
}

void ConnectionRecorder::clear_findings() {
  facts_.findings.clear();
  seen_.clear();
  listed_.clear();
  unlisted_.clear();
  held_.clear();
  unlisted_keys_.clear();
}

// The last listed finding of each code that had more says how many more in its evidence
// `not_listed`: a changed copy replaces the shared finding in this record only.
void ConnectionRecorder::note_unlisted() {
  auto& refs = facts_.findings.refs();
  for (const auto& [code, n] : unlisted_)
    for (auto it = refs.rbegin(); it != refs.rend(); ++it)
      if ((*it)->finding().code == code) {
        inspect::Finding changed = (*it)->finding();
        changed.evidence["not_listed"] = std::to_string(n);
        *it = std::make_shared<const LoggedFinding>(std::move(changed));
        break;
      }
}

bool ConnectionRecorder::write_record() {
  if (written_) return false;
  written_ = true;
  if (facts_.end == std::chrono::system_clock::time_point{})
    facts_.end = std::chrono::system_clock::now();
  note_unlisted();
  sort_by_severity(facts_.findings);
  if (log_) {
    log_->write(connection_record_line(facts_, log_->record_options()));
    for (const auto& f : facts_.findings) log_->announce(f);
  }
  count_record(metrics_, facts_);
  return true;
}

void ConnectionRecorder::next_record() {
  write_record();
  ConnectionFacts next;
  next.mode = facts_.mode;
  next.role = facts_.role;
  next.start = std::chrono::system_clock::now();
  next.client_address = facts_.client_address;
  next.client_port = facts_.client_port;
  facts_ = std::move(next);
  clear_findings();
  written_ = false;
}

void ConnectionRecorder::close(std::uint64_t client_to_server, std::uint64_t server_to_client) {
  if (closed_) return;
  write_record();
  close_connection(client_to_server, server_to_client);
}

void ConnectionRecorder::close_connection(std::uint64_t client_to_server,
                                          std::uint64_t server_to_client) {
  if (closed_) return;
  closed_ = true;
  if (!metrics_) return;
  const auto mode = to_string(mode_);
  if (client_to_server) metrics_->add_bytes(mode, Direction::client_to_server, client_to_server);
  if (server_to_client) metrics_->add_bytes(mode, Direction::server_to_client, server_to_client);
  metrics_->connection_closed();
}

}  // namespace tlsprobe::proxy
