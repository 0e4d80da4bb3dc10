#include "proxy/probe/watcher.hpp"

#include "proxy/observe/revocation_log.hpp"
#include "proxy/probe/ct_log_list_file.hpp"

#include "certs/verify.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/probe/probe_target.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <random>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using inspect::Finding;
using inspect::Findings;
using inspect::HandshakeObservation;
using inspect::HandshakeOutcome;
using inspect::Role;

namespace {

bool is_record_role(Role r) { return r == Role::edge || r == Role::origin || r == Role::direct; }

std::string evidence_of(const Finding& f, const std::string& key) {
  auto it = f.evidence.find(key);
  return it == f.evidence.end() ? std::string() : it->second;
}

// "ADDR:PORT" -> (ADDR, PORT); the address as is and port 0 when it does not parse.
std::pair<std::string, std::uint16_t> split_address(const std::string& address) {
  const auto parsed = parse_address_port(address);
  if (!parsed.value) return {address, 0};
  return {parsed.value->host, parsed.value->port};
}

}  // namespace

bool RoundReport::any_error() const {
  return std::any_of(sites.begin(), sites.end(),
                     [](const SiteReport& s) { return inspect::has_error(s.findings); });
}

bool RoundReport::any_failed_handshake() const {
  for (const auto& s : sites)
    for (const auto& h : s.handshakes)
      if (h.handshake.outcome != HandshakeOutcome::ok) return true;
  return false;
}

Findings findings_for_handshake(const Findings& all, const HandshakeObservation& h) {
  Findings out;
  for (const auto& f : all) {
    const std::string address = evidence_of(f, "address");
    if (f.role == h.role) {
      // Every per-handshake check (inspect/check_*.cpp) puts the handshake's address in
      // evidence["address"]; edge.* uses the edge's, origin.untrusted the origin's.
      if (address == h.address) out.push_back(f);
    } else if (f.role == Role::nosni || f.role == Role::othersni) {
      // The explaining handshakes are made to the very address the main one answered from.
      if (!address.empty() && address == h.address) out.push_back(f);
    }
  }
  return out;
}

SitePlan plan_site(const config::Site& site, std::chrono::milliseconds timeout) {
  SitePlan plan;
  auto request = [&](const std::string& dial, const std::string& host) {
    ProbeRequest r;
    r.host = host;
    r.target = site.host;
    r.connect = dial;
    if (const auto parsed = parse_address_port(dial); parsed.value) r.port = parsed.value->port;
    r.sni_mode = SniMode::host;  // never an IP literal (the prober sends none then)
    // Extra SNI handshakes only when the leaf does not cover the name (sni.default_cert);
    // sni.required once per round per address would double every watch's handshakes.
    r.sni_checks = SniChecks::when_needed;
    r.timeout = timeout;
    return r;
  };
  for (const auto& edge : site.edges) {
    plan.requests.push_back(request(edge, site.host));
    plan.roles.push_back(Role::edge);
  }
  if (!site.origin.empty()) {
    // The origin is asked for origin_sni (a CDN may pull from it under another name), and
    // its leaf is checked against that name (inspect/facts.cpp requested_name_of).
    plan.requests.push_back(
        request(site.origin, site.origin_sni.empty() ? site.host : site.origin_sni));
    plan.roles.push_back(Role::origin);
  }
  if (plan.requests.empty()) {
    ProbeRequest r;
    r.host = site.host;
    r.target = site.host;
    r.sni_checks = SniChecks::when_needed;
    r.timeout = timeout;
    plan.requests.push_back(std::move(r));
    plan.roles.push_back(Role::direct);
  }
  return plan;
}

inspect::Observations merge_site(const config::Site& site, const SitePlan& plan,
                                 std::vector<inspect::Observations> results) {
  inspect::Observations out;
  out.target = site.host;
  out.host = site.host;
  out.port = plan.requests.empty() ? 443 : plan.requests.front().port;
  std::vector<HandshakeObservation> explaining;
  for (std::size_t i = 0; i < results.size() && i < plan.roles.size(); ++i) {
    bool main_seen = false;
    for (auto& h : results[i].handshakes) {
      if (!main_seen && is_record_role(h.role)) {
        main_seen = true;
        h.role = plan.roles[i];
        // A dial that failed before connecting leaves the address empty: the configured
        // one is what the record and the finding matching need.
        if (h.address.empty()) h.address = plan.requests[i].connect;
        out.handshakes.push_back(std::move(h));
      } else if (h.role == Role::nosni || h.role == Role::othersni) {
        explaining.push_back(std::move(h));
      }
    }
    if (!main_seen) {
      // The prober always reports its main handshake; be safe with a synthetic failure.
      HandshakeObservation h;
      h.role = plan.roles[i];
      h.host = plan.requests[i].host;
      h.port = plan.requests[i].port;
      h.address = plan.requests[i].connect;
      h.outcome = HandshakeOutcome::unreachable;
      h.failure = inspect::FailureKind::other;
      h.failure_detail = "no handshake reported";
      out.handshakes.push_back(std::move(h));
    }
  }
  for (auto& h : explaining) out.handshakes.push_back(std::move(h));
  return out;
}

SiteReport judge_site(const config::Site& site, inspect::Observations observations,
                      const inspect::DiagnoseOptions& options,
                      std::chrono::system_clock::time_point start,
                      std::chrono::system_clock::time_point end) {
  SiteReport report;
  report.host = site.host;
  report.at = options.at;
  report.findings = inspect::diagnose(observations, options);
  report.observations = std::move(observations);

  const HandshakeObservation* origin = nullptr;
  for (const auto& h : report.observations.handshakes)
    if (h.role == Role::origin && h.outcome == HandshakeOutcome::ok && !h.chain.empty())
      origin = &h;

  for (const auto& h : report.observations.handshakes) {
    if (!is_record_role(h.role)) continue;
    HandshakeReport hr;
    hr.handshake = h;
    hr.findings = findings_for_handshake(report.findings, h);

    ConnectionFacts facts;
    // Each handshake's own span: a round launches every probe at `start` (they run
    // concurrently), and the handshake took elapsed_ms; `end` (the round's) only bounds it.
    facts.start = start;
    facts.end =
        std::min(end, start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                  std::chrono::duration<double, std::milli>(h.elapsed_ms)));
    facts.mode = LogMode::watch;
    facts.role = h.role;
    facts.destination_domain = h.host;
    std::tie(facts.destination_address, facts.destination_port) = split_address(h.address);
    if (facts.destination_port == 0) facts.destination_port = h.port;
    facts.handshake = h;
    ProbeFacts probe;
    probe.status = h.outcome == HandshakeOutcome::ok ? ProbeStatus::ok : ProbeStatus::failed;
    if (h.outcome != HandshakeOutcome::ok) {
      probe.failure = std::string(inspect::to_string(h.failure));
      if (!h.failure_detail.empty()) probe.failure += ": " + h.failure_detail;
    }
    probe.elapsed_ms = h.elapsed_ms;
    facts.probe = probe;
    if (h.outcome == HandshakeOutcome::ok && !h.chain.empty() && options.trust) {
      // What a client checking this handshake's name would conclude (the origin: its SNI).
      certs::VerifyOptions vo;
      vo.at = options.at;
      vo.host = h.role == Role::origin && h.sni ? *h.sni : h.host;
      const auto v = certs::verify_chain(h.chain, *options.trust, vo);
      VerifyFacts vf;
      vf.ok = v.ok;
      vf.openssl_code = v.openssl_code;
      vf.openssl_text = v.openssl_text;
      facts.verify = vf;
    }
    if (h.role == Role::edge && origin) {
      CompareFacts c;
      c.origin_address = origin->address;
      c.origin_sha256 = origin->chain.front().sha256_hex();
      c.origin_not_before = origin->chain.front().not_before();
      c.origin_not_after = origin->chain.front().not_after();
      facts.compare = c;
    }
    facts.findings = FindingList(hr.findings);
    hr.record = make_connection_record(facts);
    report.handshakes.push_back(std::move(hr));
  }
  return report;
}

std::chrono::milliseconds jittered_interval(std::chrono::milliseconds interval, double jitter,
                                            double u) {
  jitter = std::clamp(jitter, 0.0, 1.0);
  u = std::clamp(u, 0.0, 1.0);
  const double factor = 1.0 + jitter * (2.0 * u - 1.0);
  const auto ms = static_cast<long long>(static_cast<double>(interval.count()) * factor);
  return std::chrono::milliseconds(std::max(1LL, ms));
}

WatchOptions watch_options_from(const config::Config& config,
                                std::shared_ptr<const certs::TrustStore> trust) {
  WatchOptions o;
  o.sites = config.sites;
  o.resolve = config.resolve;
  o.interval = config.watch_interval;
  o.probe_timeout = config.timeouts.probe;
  o.warn_days = config.warn_days;
  o.trust = std::move(trust);
  o.revocation = config.revocation;
  for (const auto& path : config.crl_files) {
    auto more = certs::Crl::read_file(path);  // PemError names the file
    o.crls.insert(o.crls.end(), more.begin(), more.end());
  }
  if (!config.ct_log_list.empty())
    o.ct_logs = std::make_shared<const certs::CtLogList>(load_ct_log_list(config.ct_log_list));
  return o;
}

// --- Watcher ----------------------------------------------------------------------------

struct Watcher::Impl : std::enable_shared_from_this<Watcher::Impl> {
  Impl(asio::io_context& io, WatchOptions options_, RecordSink sink_, Metrics* metrics_)
      : options(std::move(options_)),
        sink(std::move(sink_)),
        metrics(metrics_),
        strand(asio::make_strand(io)),
        timer(strand),
        prober(io, prober_options(options)),
        rng(std::random_device{}()) {}

  static ProberOptions prober_options(const WatchOptions& o) {
    ProberOptions p;
    p.max_concurrent = o.max_concurrent == 0 ? 1 : o.max_concurrent;
    p.resolve = o.resolve;
    if (o.revocation && o.trust) p.revocation_trust = *o.trust;
    return p;
  }

  certs::TimePoint now() const {
    if (options.now) return options.now();
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }

  // One round; `done` runs on the strand after every site's records went to the sink.
  void run_round(RoundDone done) {
    struct Round {
      RoundReport report;
      std::size_t sites_left = 0;
      RoundDone done;
    };
    auto round = std::make_shared<Round>();
    round->report.sites.resize(options.sites.size());
    round->sites_left = options.sites.size();
    round->done = std::move(done);
    if (options.sites.empty()) {
      asio::post(strand, [round] {
        if (round->done) round->done(std::move(round->report));
      });
      return;
    }
    auto self = shared_from_this();
    for (std::size_t s = 0; s < options.sites.size(); ++s) {
      run_site(s, [self, round, s](SiteReport report) {
        round->report.sites[s] = std::move(report);
        if (--round->sites_left > 0) return;
        if (round->done) round->done(std::move(round->report));
      });
    }
  }

  // Probes one site's addresses; `done` runs on the strand.
  void run_site(std::size_t index, std::function<void(SiteReport)> done) {
    struct SiteRound {
      SitePlan plan;
      std::vector<inspect::Observations> results;
      std::size_t left = 0;
      std::chrono::system_clock::time_point start;
    };
    auto state = std::make_shared<SiteRound>();
    state->plan = plan_site(options.sites[index], options.probe_timeout);
    state->results.resize(state->plan.requests.size());
    state->left = state->plan.requests.size();
    state->start = std::chrono::system_clock::now();
    auto self = shared_from_this();
    for (std::size_t i = 0; i < state->plan.requests.size(); ++i) {
      const auto started = std::chrono::steady_clock::now();
      prober.probe(state->plan.requests[i], [self, state, index, i, started,
                                             done](inspect::Observations obs) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        asio::post(
            self->strand, [self, state, index, i, took, done, obs = std::move(obs)]() mutable {
              if (self->metrics) {
                const bool ok = !obs.handshakes.empty() &&
                                obs.handshakes.front().outcome == HandshakeOutcome::ok;
                self->metrics->probe_finished(ok ? ProbeOutcome::ok : ProbeOutcome::failed, took);
              }
              state->results[i] = std::move(obs);
              if (--state->left > 0) return;
              done(self->finish_site(index, state->plan, std::move(state->results), state->start));
            });
      });
    }
  }

  SiteReport finish_site(std::size_t index, const SitePlan& plan,
                         std::vector<inspect::Observations> results,
                         std::chrono::system_clock::time_point start) {
    const auto& site = options.sites[index];
    inspect::DiagnoseOptions d;
    d.at = now();
    d.warn_days = options.warn_days;
    d.trust = options.trust.get();
    d.crls = options.crls;
    d.ct_logs = options.ct_logs;
    d.edge_cert =
        site.edge_cert == config::EdgeCert::own ? inspect::EdgeCert::own : inspect::EdgeCert::same;
    auto report = judge_site(site, merge_site(site, plan, std::move(results)), d, start,
                             std::chrono::system_clock::now());
    for (const auto& h : report.handshakes) {
      if (sink) sink(to_json_line(h.record));
      if (metrics && h.handshake.outcome == HandshakeOutcome::ok && !h.handshake.chain.empty())
      // Dates survive a failed verification (DESIGN.md section 7): set whatever the findings.
      {
        metrics->set_cert_not_after(site.host, inspect::to_string(h.handshake.role),
                                    h.handshake.address, h.handshake.chain.front().not_after());
        // The staple's nextUpdate: an alert can fire before it runs out (issue 16).
        if (const auto next = staple_next_update(h.handshake, d.at))
          metrics->set_staple_next_update(site.host, inspect::to_string(h.handshake.role),
                                          h.handshake.address, *next);
        else
          metrics->clear_staple_next_update(site.host, inspect::to_string(h.handshake.role),
                                            h.handshake.address);
      }
    }
    if (metrics) metrics->count_findings(report.findings);
    return report;
  }

  void schedule_next(std::chrono::steady_clock::time_point round_start) {
    if (stopped) return;
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    const auto wait = jittered_interval(options.interval, options.jitter, dist(rng));
    timer.expires_at(round_start + wait);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped) return;
      self->periodic_round();
    });
  }

  void periodic_round() {
    const auto round_start = std::chrono::steady_clock::now();
    auto self = shared_from_this();
    run_round([self, round_start](RoundReport report) {
      if (self->each) self->each(std::move(report));
      self->schedule_next(round_start);
    });
  }

  WatchOptions options;
  RecordSink sink;
  Metrics* metrics;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  Prober prober;
  std::mt19937_64 rng;  // used on the strand only
  RoundDone each;       // set before the first periodic round, then only read
  std::atomic<bool> stopped{false};
};

Watcher::Watcher(asio::io_context& io, WatchOptions options, RecordSink sink, Metrics* metrics)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(sink), metrics)) {}

Watcher::~Watcher() { stop(); }

void Watcher::run_once(RoundDone done) {
  auto impl = impl_;
  asio::post(impl->strand,
             [impl, done = std::move(done)]() mutable { impl->run_round(std::move(done)); });
}

void Watcher::start(RoundDone each) {
  auto impl = impl_;
  asio::post(impl->strand, [impl, each = std::move(each)]() mutable {
    if (impl->stopped) return;
    impl->each = std::move(each);
    impl->periodic_round();
  });
}

void Watcher::stop() {
  impl_->stopped = true;
  asio::post(impl_->strand, [impl = impl_] { impl->timer.cancel(); });
}

}  // namespace tlsprobe::proxy
