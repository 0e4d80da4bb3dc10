#include "proxy/observe/connection_metrics.hpp"

#include "proxy/observe/revocation_log.hpp"

namespace tlsprobe::proxy {

void count_record(Metrics* metrics, const ConnectionFacts& facts) {
  if (!metrics) return;
  for (const auto& f : facts.findings) metrics->count_finding(f);
  if (facts.handshake && !facts.handshake->chain.empty()) {
    const auto& h = *facts.handshake;
    std::string host = facts.destination_domain;
    if (host.empty()) host = h.sni.value_or(facts.destination_address);
    metrics->set_cert_not_after(host, inspect::to_string(h.role), h.address,
                                h.chain.front().not_after());
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(facts.end);
    if (const auto next = staple_next_update(h, certs::TimePoint(at.time_since_epoch())))
      metrics->set_staple_next_update(host, inspect::to_string(h.role), h.address, *next);
  }
}

}  // namespace tlsprobe::proxy
