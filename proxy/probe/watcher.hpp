// Watcher: probes the configured [[site]]s on a schedule (`tlsprobe watch`, and the proxy
// when it has sites; DESIGN.md sections 1, 6 and 8 "Config and watch").
//
// One round probes, for every site, each edge address on its own (a stale certificate often
// lingers on only some edge locations) with SNI = the site's host, and the origin with SNI =
// origin_sni; a site with neither origin nor edges is probed directly (its host, resolved or
// from [resolve]). Every address is one Prober probe (extra no-SNI/unknown-SNI handshakes only
// when its leaf does not cover the name); the handshakes of a site are then put together and
// judged by one diagnose() call, so each edge is compared with the origin.
//
// Each round writes one log record per edge/origin/direct handshake (tlsprobe.mode "watch",
// destination.address/.port of that handshake, its chain) through the RecordSink, carrying
// only the findings about that handshake (findings_for_handshake). Rounds start at once, then
// every `interval` ± `jitter` measured start to start; they never overlap.
//
// Asio stays out of this header (pimpl); the watcher runs on the io_context it is given.
#pragma once

#include "certs/trust_store.hpp"
#include "config/config.hpp"
#include "inspect/diagnose.hpp"
#include "inspect/finding.hpp"
#include "inspect/observation.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/prober.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace tlsprobe::proxy {

class Metrics;

// Takes one JSON line (no trailing newline): ConnectionLog::write, a file, a test vector.
// Called on an io_context thread; must not block for long.
using RecordSink = std::function<void(const std::string& json_line)>;

struct WatchOptions {
  std::vector<config::Site> sites;
  std::map<std::string, std::string> resolve;  // [resolve], for sites probed directly
  std::chrono::milliseconds interval{std::chrono::minutes(5)};  // watch_interval
  double jitter = 0.1;  // each wait is interval * (1 ± jitter), uniformly drawn
  std::chrono::milliseconds probe_timeout{10000};  // one address's whole probe
  std::size_t max_concurrent = 16;                 // probes in flight
  int warn_days = 21;
  std::shared_ptr<const certs::TrustStore> trust;  // required
  // Revocation and CT (config keys revocation, crl_files, ct_log_list).
  bool revocation = false;
  std::vector<certs::Crl> crls;
  std::shared_ptr<const certs::CtLogList> ct_logs;
  // Evaluation time of each round's diagnosis; empty = the system clock (tests fix it).
  std::function<certs::TimePoint()> now;
};

// One handshake's share of a round: its log record and the findings about it.
struct HandshakeReport {
  inspect::HandshakeObservation handshake;  // role edge, origin or direct
  inspect::Findings findings;               // only those about this handshake
  boost::json::object record;               // make_connection_record() of it
};

struct SiteReport {
  std::string host;
  inspect::Observations observations;       // every handshake of the site, edges first
  inspect::Findings findings;               // everything diagnose() said, worst first
  std::vector<HandshakeReport> handshakes;  // edges (config order), then origin
  certs::TimePoint at{};                    // evaluation time
};

struct RoundReport {
  std::vector<SiteReport> sites;  // config order
  // Some finding of severity error.
  bool any_error() const;
  // Some edge/origin/direct handshake did not complete (exit status 2 of --once).
  bool any_failed_handshake() const;
};

using RoundDone = std::function<void(RoundReport)>;

class Watcher {
 public:
  // `io` must outlive the watcher and any round in flight; `metrics` may be null (no
  // metrics) and must otherwise outlive them too. `sink` receives every record.
  Watcher(boost::asio::io_context& io, WatchOptions options, RecordSink sink,
          Metrics* metrics = nullptr);
  ~Watcher();  // stop(); a round in flight still completes and writes its records
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // One round now (no jitter). `done` runs once, on an io_context thread, after every
  // record of the round went to the sink.
  void run_once(RoundDone done);
  // A round now, then one every interval ± jitter until stop(); `each` runs after each round.
  void start(RoundDone each = {});
  // No further rounds. Safe from any thread (a signal handler's completion, another thread).
  void stop();

  struct Impl;  // opaque (watcher.cpp)

 private:
  std::shared_ptr<Impl> impl_;
};

// --- pure helpers (exposed for tests) -------------------------------------------------

// The findings of `all` that concern handshake `h`: those with h's role and evidence
// "address" equal to h.address (edge.*, cert.*, chain.*, origin.untrusted…), plus the
// nosni/othersni findings (sni.required) made to h's address. Client findings never.
inspect::Findings findings_for_handshake(const inspect::Findings& all,
                                         const inspect::HandshakeObservation& h);

// The probe requests of one site, in the order edges…, origin (or one direct request).
// Each probes exactly one address; Role::direct in the result means "relabel as" is given
// by the parallel vector `roles`.
struct SitePlan {
  std::vector<ProbeRequest> requests;
  std::vector<inspect::Role> roles;  // edge, origin or direct, per request
};
SitePlan plan_site(const config::Site& site, std::chrono::milliseconds timeout);

// Puts the per-address probe results of one site together (main handshakes relabelled with
// their role, the explaining nosni/othersni ones kept) into one Observations.
inspect::Observations merge_site(const config::Site& site, const SitePlan& plan,
                                 std::vector<inspect::Observations> results);

// diagnose() + split into per-handshake records. `start`/`end` are the round's wall times.
SiteReport judge_site(const config::Site& site, inspect::Observations observations,
                      const inspect::DiagnoseOptions& options,
                      std::chrono::system_clock::time_point start,
                      std::chrono::system_clock::time_point end);

// interval * (1 + jitter * (2u - 1)) for u in [0, 1): the wait before the next round.
std::chrono::milliseconds jittered_interval(std::chrono::milliseconds interval, double jitter,
                                            double u);

// WatchOptions from a loaded config (sites, resolve, interval, timeouts, warn_days);
// `trust` is built by the caller from config.trust and the command line.
WatchOptions watch_options_from(const config::Config& config,
                                std::shared_ptr<const certs::TrustStore> trust);

}  // namespace tlsprobe::proxy
