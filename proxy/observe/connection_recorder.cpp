#include "proxy/observe/connection_recorder.hpp"

#include "inspect/codes.hpp"
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
  for (auto& f : findings) {
    // code|subject|k=v|…, appended piece by piece into one buffer (every connection's
    // findings pass here; a certificate finding has some twenty evidence entries).
    std::string key;
    key.reserve(256);
    key += f.code;
    key += '|';
    key += f.subject;
    // http.hsts_missing is the host's policy, not a page's: once per host and header value.
    for (const auto& [k, v] : f.evidence)
      if (f.code != inspect::codes::http_hsts_missing || k == "hsts") {
        key += '|';
        key += k;
        key += '=';
        key += v;
      }
    if (!seen_.insert(std::move(key)).second) continue;
    if (++listed_[f.code] > kMaxFindingsPerCode) {
      ++unlisted_[f.code];
      continue;
    }
    facts_.findings.push_back(std::move(f));
  }
}

void ConnectionRecorder::clear_findings() {
  facts_.findings.clear();
  seen_.clear();
  listed_.clear();
  unlisted_.clear();
}

void ConnectionRecorder::note_unlisted() {
  for (const auto& [code, n] : unlisted_)
    for (auto it = facts_.findings.rbegin(); it != facts_.findings.rend(); ++it)
      if (it->code == code) {
        it->evidence["not_listed"] = std::to_string(n);
        break;
      }
}

bool ConnectionRecorder::write_record() {
  if (written_) return false;
  written_ = true;
  if (facts_.end == std::chrono::system_clock::time_point{})
    facts_.end = std::chrono::system_clock::now();
  note_unlisted();
  inspect::sort_by_severity(facts_.findings);
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
