// Metrics wiring of the proxy's sessions (DESIGN.md section 8): one helper per moment of a
// connection's life, so each session adds a line or two where it already knows the facts.
#pragma once

#include "proxy/observe/log_record.hpp"
#include "proxy/observe/metrics.hpp"

#include <string_view>

namespace tlsprobe::proxy {

// connection_opened(mode) on construction, connection_closed() exactly once: on close() or
// in the destructor. `metrics` may be null (nothing counted).
class ConnectionMetrics {
 public:
  ConnectionMetrics(Metrics* metrics, std::string_view mode);
  ~ConnectionMetrics() { close(); }
  ConnectionMetrics(const ConnectionMetrics&) = delete;
  ConnectionMetrics& operator=(const ConnectionMetrics&) = delete;

  // Adds the connection's bytes (facts.bytes_*) to bytes_total{mode,direction} and closes.
  void close(const ConnectionFacts& facts);
  void close();

 private:
  Metrics* metrics_;
  std::string_view mode_;
  bool closed_ = false;
};

// With each connection log record written: findings_total for its findings and
// cert_not_after_seconds for its handshake's leaf (kept even when verification failed).
void count_record(Metrics* metrics, const ConnectionFacts& facts);

}  // namespace tlsprobe::proxy
