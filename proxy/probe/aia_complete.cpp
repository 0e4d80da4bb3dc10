#include "proxy/probe/aia_complete.hpp"

#include "inspect/aia_chain.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

bool needs_aia(const inspect::HandshakeObservation& obs, const certs::TrustStore& trust) {
  if (obs.chain.empty() || !inspect::chain_judged(obs)) return false;
  return certs::analyze_chain(obs.chain, trust).end == certs::PathEnd::missing_issuer;
}

namespace {

class ChainCompletion : public std::enable_shared_from_this<ChainCompletion> {
 public:
  ChainCompletion(const asio::any_io_executor& ex, std::shared_ptr<AiaFetcher> fetcher,
                  certs::TrustStore trust, inspect::HandshakeObservation obs,
                  Clock::time_point deadline,
                  std::function<void(inspect::HandshakeObservation)> done, unsigned max_hops)
      : ex_(ex),
        timer_(ex),
        fetcher_(std::move(fetcher)),
        trust_(std::move(trust)),
        obs_(std::move(obs)),
        deadline_(deadline),
        done_(std::move(done)),
        max_hops_(max_hops) {}

  void start() {
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      if (self->pending_) {
        self->pending_->error = "the probe's time ran out before the fetch ended";
        self->obs_.aia_fetches.push_back(*self->pending_);
        self->pending_.reset();
      }
      self->finish();
    });
    next_hop();
  }

 private:
  void next_hop() {
    const auto repaired = inspect::repair_chain(obs_.chain, obs_.aia_fetches, trust_);
    const std::string url = inspect::next_aia_url(repaired);
    const bool again = std::any_of(obs_.aia_fetches.begin(), obs_.aia_fetches.end(),
                                   [&](const inspect::AiaFetch& f) { return f.url == url; });
    if (url.empty() || again || obs_.aia_fetches.size() >= max_hops_ || Clock::now() >= deadline_)
      return finish();
    inspect::AiaFetch fetch;
    fetch.url = url;
    const std::size_t last = repaired.path.path.empty() ? 0 : repaired.path.path.back();
    if (last < repaired.combined.size()) fetch.for_subject = repaired.combined[last].subject();
    if (!inspect::is_http_url(url)) {
      // Recorded, not fetched: the finding says why a browser cannot use it either.
      fetch.error = "not fetched: only http:// caIssuers URLs are fetched (as Chrome does)";
      obs_.aia_fetches.push_back(std::move(fetch));
      return finish();
    }
    pending_ = std::move(fetch);
    fetcher_->fetch(ex_, url,
                    [self = shared_from_this()](AiaFetcher::ResultPtr r, bool from_cache) {
                      self->on_fetched(std::move(r), from_cache);
                    });
  }

  void on_fetched(AiaFetcher::ResultPtr r, bool from_cache) {
    if (finished_ || !pending_) return;
    inspect::AiaFetch f = std::move(*pending_);
    pending_.reset();
    f.ok = r->ok;
    f.error = r->error;
    f.certs = r->certs;
    f.from_cache = from_cache;
    f.elapsed_ms = from_cache ? 0 : r->elapsed_ms;
    const bool ok = f.ok;
    obs_.aia_fetches.push_back(std::move(f));
    if (!ok) return finish();
    next_hop();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    const auto repaired = inspect::repair_chain(obs_.chain, obs_.aia_fetches, trust_);
    obs_.completed_chain = repaired.fullchain;
    auto done = std::move(done_);
    done(std::move(obs_));
  }

  asio::any_io_executor ex_;
  asio::steady_timer timer_;
  std::shared_ptr<AiaFetcher> fetcher_;
  certs::TrustStore trust_;
  inspect::HandshakeObservation obs_;
  Clock::time_point deadline_;
  std::function<void(inspect::HandshakeObservation)> done_;
  unsigned max_hops_;
  std::optional<inspect::AiaFetch> pending_;
  bool finished_ = false;
};

}  // namespace

void async_complete_chain(const asio::any_io_executor& ex, std::shared_ptr<AiaFetcher> fetcher,
                          certs::TrustStore trust, inspect::HandshakeObservation obs,
                          Clock::time_point deadline,
                          std::function<void(inspect::HandshakeObservation)> done,
                          unsigned max_hops) {
  auto op = std::make_shared<ChainCompletion>(ex, std::move(fetcher), std::move(trust),
                                              std::move(obs), deadline, std::move(done), max_hops);
  asio::post(ex, [op] { op->start(); });
}

}  // namespace tlsprobe::proxy
