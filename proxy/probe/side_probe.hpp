// SideProbe: the glue between a tunnel and the prober. For each (destination, SNI) it
// probes the upstream once (ProbeCache: TTL + in-flight sharing), diagnoses the result once,
// and hands every connection for that key the same shared result. The client's bytes never
// wait for it: tunnels ask after the ClientHello went through and attach the answer to
// their log line when it comes.
//
// The prober and diagnosis are injected (ProbeFunction, DiagnoseFunction) so the proxy core
// is tested with a counting fake and runs with proxy/probe/prober.hpp + inspect::diagnose.
#pragma once

#include "inspect/finding.hpp"
#include "inspect/observation.hpp"
#include "proxy/net/proxy_settings.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/probe_cache.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tlsprobe::proxy {

class ConnectionLog;
class Metrics;

struct SideProbeRequest {
  std::string host;  // as the client named it in CONNECT (name or IP literal)
  std::uint16_t port = 443;
  std::string
      dial;  // "ADDR:PORT" to connect to instead of resolving host ([resolve]); may be empty
  std::optional<std::string> sni;             // exactly what the client sent; nullopt = none
  std::optional<config::Site> site;           // the [[site]] for host, when it names an origin
  std::chrono::milliseconds timeout{10'000};  // bounds the whole probe
};

// Runs the probe and calls `done` exactly once (any thread), within request.timeout plus a
// small margin. Observations carry the direct handshake (and the origin one for a site).
using ProbeFunction =
    std::function<void(const SideProbeRequest&, std::function<void(inspect::Observations)> done)>;
// Pure diagnosis of one target's observations (inspect::diagnose with the proxy's options).
using DiagnoseFunction = std::function<inspect::Findings(const inspect::Observations&)>;

// One probe's outcome, shared by every connection with the same key.
struct SideProbeResult {
  inspect::Observations observations;  // without the client part (that is per connection)
  // Upstream findings (direct/edge/origin/nosni roles), shared with every record that
  // carries them.
  FindingList findings;
  ProbeFacts probe;                                     // status ok or failed, elapsed
  std::optional<inspect::HandshakeObservation> direct;  // the handshake the client would see
};

class SideProbe {
 public:
  SideProbe(ProbeFunction probe, DiagnoseFunction diagnose, std::chrono::seconds ttl,
            ConnectionLog* announce_to = nullptr);

  // Asks for the probe of `request`'s key. `done(result, from_cache)` is called exactly once:
  // inline for a cache hit, otherwise on the prober's thread when the probe ends.
  void lookup(const SideProbeRequest& request,
              std::function<void(std::shared_ptr<const SideProbeResult>, bool from_cache)> done);

  // Findings about the client itself (client.no_sni, client.sni_host_mismatch) for one
  // connection; role client. Pure: memoised by the ClientHello's fields, host and port, and
  // shared with every record that carries them.
  FindingList client_findings(const inspect::ClientHelloObservation& hello, const std::string& host,
                              std::uint16_t port) const;

  // Optional: probes_total / probe_duration_seconds. Set before the first lookup.
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }

  // The cached result for `request`'s key when one is fresh; never starts a probe.
  std::shared_ptr<const SideProbeResult> cached(const SideProbeRequest& request) const {
    return cache_.peek(cache_key(request));
  }

  static std::string cache_key(const SideProbeRequest& r);
  std::uint64_t probes_started() const { return cache_.probes_started(); }
  std::uint64_t cache_hits() const { return cache_.hits(); }
  std::uint64_t cache_joins() const { return cache_.joins(); }

 private:
  ProbeFunction probe_;
  DiagnoseFunction diagnose_;
  ConnectionLog* announce_;
  Metrics* metrics_ = nullptr;
  ProbeCache<SideProbeResult> cache_;
  // client_findings' answers; started over past kClientMemoEntries distinct hellos.
  static constexpr std::size_t kClientMemoEntries = 4096;
  mutable std::mutex client_mutex_;
  mutable std::unordered_map<std::string, FindingList> client_memo_;
};

}  // namespace tlsprobe::proxy
