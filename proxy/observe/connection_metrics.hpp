// Metrics of one connection log record (DESIGN.md section 8). The connection's own metrics
// (connections_total, open_connections, bytes_total) are opened and closed by its
// ConnectionRecorder (proxy/observe/connection_recorder.hpp), which calls this with each
// record it writes.
#pragma once

#include "proxy/observe/log_record.hpp"
#include "proxy/observe/metrics.hpp"

namespace tlsprobe::proxy {

// With each connection log record written: findings_total for its findings and
// cert_not_after_seconds for its handshake's leaf (kept even when verification failed).
// `metrics` may be null (nothing counted).
void count_record(Metrics* metrics, const ConnectionFacts& facts);

}  // namespace tlsprobe::proxy
