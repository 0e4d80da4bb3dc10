#include "proxy/probe/prober.hpp"

#include "certs/name_match.hpp"
#include "proxy/probe/aia_complete.hpp"
#include "proxy/probe/handshake.hpp"
#include "proxy/probe/probe_target.hpp"
#include "proxy/probe/tls_scan.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using inspect::HandshakeObservation;
using inspect::HandshakeOutcome;
using inspect::Role;

std::string unknown_sni_name() {
  unsigned char bytes[8] = {};
  RAND_bytes(bytes, sizeof bytes);
  std::string out = "tlsprobe-unknown-";
  static const char* hex = "0123456789abcdef";
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out + ".invalid";
}

namespace {

class TargetProbe;

}  // namespace

struct Prober::Impl : std::enable_shared_from_this<Prober::Impl> {
  Impl(asio::io_context& io_, ProberOptions options_) : io(io_), options(std::move(options_)) {
    if (options.max_concurrent == 0) options.max_concurrent = 1;
    if (options.aia_trust) {
      options.aia.resolve = options.resolve;
      aia = std::make_shared<AiaFetcher>(options.aia);
    }
    if (options.revocation_trust) {
      options.revocation.resolve = options.resolve;
      revocation = std::make_shared<RevocationFetcher>(options.revocation);
    }
  }

  void submit(ProbeRequest request, ProbeDone done) {
    {
      std::lock_guard lock(mutex);
      if (in_flight >= options.max_concurrent) {
        queue.emplace_back(std::move(request), std::move(done));
        return;
      }
      ++in_flight;
    }
    start_one(std::move(request), std::move(done));
  }

  void finished() {
    std::pair<ProbeRequest, ProbeDone> next;
    {
      std::lock_guard lock(mutex);
      if (queue.empty()) {
        --in_flight;
        return;
      }
      next = std::move(queue.front());
      queue.pop_front();
    }
    start_one(std::move(next.first), std::move(next.second));
  }

  void start_one(ProbeRequest request, ProbeDone done);

  // "host:port" override from [resolve], as "ADDR:PORT"; empty when none.
  std::string resolve_override(const std::string& host, std::uint16_t port) const {
    return proxy::resolve_override(options.resolve, host, port);
  }

  asio::io_context& io;
  ProberOptions options;
  ClientContexts contexts;
  std::shared_ptr<AiaFetcher> aia;                // null: no AIA fetching
  std::shared_ptr<RevocationFetcher> revocation;  // null: no online revocation lookups
  std::mutex mutex;
  std::deque<std::pair<ProbeRequest, ProbeDone>> queue;
  std::size_t in_flight = 0;
};

namespace {

// One target probe: a small tree of handshakes, all completing on one strand.
class TargetProbe : public std::enable_shared_from_this<TargetProbe> {
 public:
  TargetProbe(std::shared_ptr<Prober::Impl> prober, ProbeRequest request, ProbeDone done)
      : prober_(std::move(prober)),
        strand_(asio::make_strand(prober_->io)),
        request_(std::move(request)),
        done_(std::move(done)) {}

  void start() {
    deadline_ = Clock::now() + request_.timeout;
    switch (request_.sni_mode) {
      case SniMode::host:
        if (!config::is_ip_literal(request_.host)) sni_ = request_.host;
        break;
      case SniMode::none:
        break;
      case SniMode::name:
        sni_ = request_.sni_name;
        break;
    }
    std::string main_dial = request_.connect;
    if (main_dial.empty()) main_dial = prober_->resolve_override(request_.host, request_.port);
    const bool compare = !request_.origin.empty();
    edges_.resize(request_.edges.size());
    // Count every first-level handshake before any can finish, so completion is not
    // declared while others are still being launched.
    pending_ = 1 + (compare ? 1 + request_.edges.size() : 0);
    auto self = shared_from_this();
    asio::post(strand_, [self, main_dial, compare] {
      self->with_fallback(self->spec(compare ? Role::edge : Role::direct, main_dial),
                          self->with_aia(self->with_revocation([self](HandshakeObservation obs) {
                            self->on_main(std::move(obs));
                          })));
      if (!compare) return;
      self->with_fallback(self->spec(Role::origin, self->request_.origin),
                          self->with_aia(self->with_revocation([self](HandshakeObservation obs) {
                            self->origin_ = std::move(obs);
                          })));
      for (std::size_t i = 0; i < self->request_.edges.size(); ++i)
        self->with_fallback(
            self->spec(Role::edge, self->request_.edges[i]),
            self->with_aia(self->with_revocation(
                [self, i](HandshakeObservation obs) { self->edges_[i] = std::move(obs); })));
    });
  }

 private:
  HandshakeSpec spec(Role role, const std::string& dial) const {
    HandshakeSpec s;
    s.role = role;
    s.host = request_.host;
    s.port = request_.port;
    s.dial = dial;
    s.sni = sni_;
    s.deadline = deadline_;
    s.family = request_.family;
    s.starttls = request_.starttls;
    s.identity = request_.identity;
    return s;
  }

  // Runs one handshake; its completion handler runs on strand_. Callers have counted it
  // in pending_ already.
  void launch(HandshakeSpec s, std::function<void(HandshakeObservation)> then) {
    auto self = shared_from_this();
    async_handshake(asio::make_strand(prober_->io), prober_->contexts, std::move(s),
                    [self, then = std::move(then)](HandshakeObservation obs) mutable {
                      asio::post(self->strand_,
                                 [self, then = std::move(then), obs = std::move(obs)]() mutable {
                                   then(std::move(obs));
                                   self->one_done();
                                 });
                    });
  }

  // `store`, after fetching the issuers the chain lacks (when AIA is on and a fetch can
  // help). Runs on strand_ inside a handshake's completion, so the count of pending work
  // is raised before that completion lowers it.
  std::function<void(HandshakeObservation)> with_aia(
      std::function<void(HandshakeObservation)> store) {
    if (!prober_->aia) return store;
    auto self = shared_from_this();
    return [self, store = std::move(store)](HandshakeObservation obs) {
      if (!needs_aia(obs, *self->prober_->options.aia_trust)) return store(std::move(obs));
      ++self->pending_;
      async_complete_chain(self->strand_, self->prober_->aia, *self->prober_->options.aia_trust,
                           std::move(obs), self->deadline_,
                           [self, store](HandshakeObservation done) {
                             store(std::move(done));
                             self->one_done();
                           });
    };
  }

  // `store`, after asking the leaf's OCSP responder (or CRL) online, when --revocation is
  // on. Runs on strand_ like with_aia (and after it), raising pending_ the same way.
  std::function<void(HandshakeObservation)> with_revocation(
      std::function<void(HandshakeObservation)> store) {
    if (!prober_->revocation) return store;
    auto self = shared_from_this();
    return [self, store = std::move(store)](HandshakeObservation obs) {
      if (obs.outcome != HandshakeOutcome::ok || obs.chain.empty()) return store(std::move(obs));
      ++self->pending_;
      async_check_revocation(self->strand_, self->prober_->revocation,
                             *self->prober_->options.revocation_trust, std::move(obs),
                             self->deadline_, [self, store](HandshakeObservation done) {
                               store(std::move(done));
                               self->one_done();
                             });
    };
  }

  // A handshake, and the legacy one if the first failure may be about versions.
  void with_fallback(HandshakeSpec s, std::function<void(HandshakeObservation)> store) {
    auto self = shared_from_this();
    launch(s, [self, s, store](HandshakeObservation first) mutable {
      if (!worth_legacy_retry(first) || Clock::now() >= s.deadline) return store(std::move(first));
      s.flavor = TlsFlavor::legacy;
      ++self->pending_;
      self->launch(s, [store, first = std::move(first)](HandshakeObservation legacy) mutable {
        // When the legacy handshake fails too, the modern failure is the one to report.
        store(legacy.outcome == HandshakeOutcome::ok ? std::move(legacy) : std::move(first));
      });
    });
  }

  void on_main(HandshakeObservation obs) {
    const bool ok = obs.outcome == HandshakeOutcome::ok;
    const bool covers =
        ok && !obs.chain.empty() && certs::matches_host(obs.chain.front(), request_.host);
    const auto flavor = obs.legacy_handshake ? TlsFlavor::legacy : TlsFlavor::modern;
    const std::string address = obs.address;  // ask the very server that answered
    compat_handshakes(obs, address);
    main_ = std::move(obs);
    // Extra SNI handshakes only after a completed handshake that sent an SNI (without
    // one, the main handshake already is the no-SNI view), and never after a failure.
    if (!ok || !sni_ || request_.sni_checks == SniChecks::off) return;
    if (covers && request_.sni_checks != SniChecks::with_sni_required) return;
    auto extra = spec(Role::nosni, address);
    extra.flavor = flavor;
    extra.sni.reset();
    ++pending_;
    auto self = shared_from_this();
    launch(extra, [self](HandshakeObservation o) { self->nosni_ = std::move(o); });
    if (covers) return;
    extra.role = Role::othersni;
    extra.sni = unknown_sni_name();
    ++pending_;
    launch(extra, [self](HandshakeObservation o) { self->othersni_ = std::move(o); });
  }

  // Issue 15 item 1 (ProbeRequest::compat): the compatibility handshakes, started in the
  // same wave as the SNI checks so that they cost little wall time.
  void compat_handshakes(const HandshakeObservation& main, const std::string& address) {
    if (request_.compat == CompatChecks::off) return;
    const bool ok = main.outcome == HandshakeOutcome::ok;
    using inspect::FailureKind;
    const bool refused =
        main.outcome == HandshakeOutcome::handshake_failed &&
        (main.failure == FailureKind::alert || main.failure == FailureKind::other ||
         main.failure == FailureKind::no_common_version || main.failure == FailureKind::closed);
    if (!ok && !refused) return;  // timeouts, refusals, not TLS: nothing more is tried
    auto self = shared_from_this();
    const auto base = spec(main.role, address);
    auto run = [&](SslConfigure offer, std::function<void(inspect::TlsAttempt)> store) {
      auto s = base;
      s.configure = std::move(offer);
      ++pending_;
      launch(s, [store = std::move(store)](HandshakeObservation o) { store(to_attempt(o)); });
    };
    const auto& chrome = *inspect::find_client_profile("chrome");
    auto offers = [](const std::vector<std::string_view>& list, const std::string& item) {
      return std::find(list.begin(), list.end(), item) != list.end();
    };
    if (ok && !main.legacy_handshake && main.tls_version == "1.3" &&
        offers(chrome.suites, main.cipher) && offers(chrome.groups, main.kex_group)) {
      // The server speaks TLS 1.3 with a suite and a group Chrome offers: Chrome connects
      // with TLS 1.3 (AEAD, forward secret); no handshake needed to know it (this keeps the
      // default probe of a healthy server as cheap as before: the two handshakes below are
      // refused with an alert by most servers, before any key exchange).
      // (inspect::CompatFacts::browsers is then a copy of the main handshake's result.)
      compat_.browsers = to_attempt(main);
    } else if (ok && !main.legacy_handshake) {
      run(offer_profile(chrome), [self, base](inspect::TlsAttempt a) {
        const bool name_browsers = !a.ok && a.refused;
        if (name_browsers) self->compat_.profiles.emplace_back("chrome", a);
        self->compat_.browsers = std::move(a);
        if (name_browsers) self->browser_handshakes(base);
      });
    }
    if (ok && !main.legacy_handshake) {
      const auto& g = main.kex_group;
      if (g != "DH" && g.rfind("ffdhe", 0) != 0 && g.rfind("modp", 0) != 0)
        run(offer_dhe_only(), [self](inspect::TlsAttempt a) { self->compat_.dhe = std::move(a); });
      run(offer_legacy(), [self](inspect::TlsAttempt a) { self->compat_.legacy = std::move(a); });
    } else if (refused) {
      run(offer_anything(),
          [self](inspect::TlsAttempt a) { self->compat_.anything = std::move(a); });
    }
    if (request_.compat == CompatChecks::full) {
      ++pending_;
      async_tls_scan(prober_->io.get_executor(), strand_, prober_->contexts, base, ScanLimits{},
                     [self](inspect::TlsScan scan) {
                       self->scan_ = std::move(scan);
                       self->one_done();
                     });
    }
  }

  // Chrome's offer was refused: one handshake per current browser, so that the finding
  // names exactly which of them cannot connect.
  void browser_handshakes(const HandshakeSpec& base) {
    auto self = shared_from_this();
    for (const auto& profile : inspect::client_profiles()) {
      if (!profile.browser || profile.id == "chrome") continue;  // Chrome's was made already
      auto s = base;
      s.configure = offer_profile(profile);
      ++pending_;
      launch(s, [self, id = std::string(profile.id)](HandshakeObservation o) {
        self->compat_.profiles.emplace_back(id, to_attempt(o));
      });
    }
  }

  void one_done() {
    if (--pending_ > 0) return;
    inspect::Observations out;
    out.host = request_.host;
    out.port = request_.port;
    out.target = request_.target.empty() ? config::format_host_port(request_.host, request_.port)
                                         : request_.target;
    if (main_) out.handshakes.push_back(std::move(*main_));
    if (origin_) out.handshakes.push_back(std::move(*origin_));
    for (auto& e : edges_)
      if (e) out.handshakes.push_back(std::move(*e));
    if (nosni_) out.handshakes.push_back(std::move(*nosni_));
    if (othersni_) out.handshakes.push_back(std::move(*othersni_));
    out.compat = std::move(compat_);
    out.scan = std::move(scan_);
    auto done = std::move(done_);
    auto prober = std::move(prober_);
    done(std::move(out));
    prober->finished();
  }

  std::shared_ptr<Prober::Impl> prober_;
  asio::strand<asio::io_context::executor_type> strand_;
  ProbeRequest request_;
  ProbeDone done_;
  Clock::time_point deadline_;
  std::optional<std::string> sni_;
  std::size_t pending_ = 0;
  std::optional<HandshakeObservation> main_, origin_, nosni_, othersni_;
  inspect::CompatFacts compat_;
  std::optional<inspect::TlsScan> scan_;
  std::vector<std::optional<HandshakeObservation>> edges_;
};

}  // namespace

void Prober::Impl::start_one(ProbeRequest request, ProbeDone done) {
  std::make_shared<TargetProbe>(shared_from_this(), std::move(request), std::move(done))->start();
}

Prober::Prober(asio::io_context& io, ProberOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

Prober::~Prober() = default;

void Prober::probe(ProbeRequest request, ProbeDone done) {
  impl_->submit(std::move(request), std::move(done));
}

std::vector<inspect::Observations> probe_all(std::vector<ProbeRequest> requests,
                                             std::size_t concurrency, ProberOptions options,
                                             unsigned threads) {
  asio::io_context io;
  options.max_concurrent = concurrency == 0 ? 1 : concurrency;
  std::vector<inspect::Observations> results(requests.size());
  {
    Prober prober(io, std::move(options));
    for (std::size_t i = 0; i < requests.size(); ++i)
      prober.probe(std::move(requests[i]),
                   [&results, i](inspect::Observations obs) { results[i] = std::move(obs); });
  }
  std::vector<std::thread> runners;
  for (unsigned t = 1; t < threads; ++t) runners.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : runners) t.join();
  return results;
}

}  // namespace tlsprobe::proxy
