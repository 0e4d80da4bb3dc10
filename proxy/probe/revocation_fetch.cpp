#include "proxy/probe/revocation_fetch.hpp"

#include "certs/crl.hpp"
#include "certs/ocsp_response.hpp"
#include "inspect/revocation.hpp"
#include "proxy/probe/aia_fetcher.hpp"
#include "proxy/probe/certificate_url_fetch.hpp"
#include "proxy/probe/probe_cache.hpp"
#include "proxy/probe/probe_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

std::string ms_text(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

struct Exchange {
  std::string error;  // one line; empty on a 200 with a body within the cap
  std::string body;
};

// One HTTP/1.1 request (POST with `body`, or GET when `body` is empty), no redirects,
// everything within `deadline` (proxy/probe/certificate_url_fetch.hpp).
asio::awaitable<Exchange> exchange(const RevocationFetchOptions& options, std::string url_text,
                                   std::string body, std::string content_type,
                                   Clock::time_point deadline, Clock::duration budget) {
  Exchange out;
  std::string error;
  auto url = parse_http_url(url_text, error);
  if (!url) {
    out.error = error;
    co_return out;
  }
  const bool post = !body.empty();
  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, url->target, 11};
  req.set(http::field::user_agent, "tlsprobe (revocation check)");
  if (post) {
    req.set(http::field::content_type, content_type);
    req.set(http::field::accept, "application/ocsp-response");
    req.body() = std::move(body);
    req.prepare_payload();
  }
  CertificateUrlLimits limits;
  limits.resolve = &options.resolve;
  limits.max_body = options.max_body;
  limits.deadline = deadline;
  limits.timeout_text = "timed out after " + ms_text(budget);
  auto fetched = co_await fetch_certificate_url(*url, std::move(req), limits);
  if (!fetched.error.empty()) {
    out.error = std::move(fetched.error);
    co_return out;
  }
  const auto& res = fetched.response;
  if (res.result_int() != 200) {
    out.error = "HTTP status " + std::to_string(res.result_int());
    co_return out;
  }
  if (res.body().empty()) {
    out.error = "HTTP 200 with an empty body";
    co_return out;
  }
  out.body = res.body();
  co_return out;
}

}  // namespace

struct RevocationFetcher::Impl {
  explicit Impl(RevocationFetchOptions o)
      : options(std::move(o)), crl_cache(options.max_crl_ttl, options.max_cached_urls) {}
  RevocationFetchOptions options;
  ProbeCache<inspect::RevocationLookup> crl_cache;
};

RevocationFetcher::RevocationFetcher(RevocationFetchOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
RevocationFetcher::~RevocationFetcher() = default;

void RevocationFetcher::lookup(const asio::any_io_executor& ex, const certs::Certificate& leaf,
                               const certs::Certificate& issuer, Clock::time_point deadline,
                               Done done) {
  const auto started = Clock::now();
  const auto until = std::min(deadline, started + impl_->options.timeout);
  const auto budget = until - started;
  const auto ocsp = certs::ocsp_urls(leaf);
  if (!ocsp.empty()) {
    certs::OcspRequest request;
    try {
      request = certs::make_ocsp_request(leaf, issuer);
    } catch (const std::exception& e) {
      inspect::RevocationLookup l;
      l.kind = "ocsp";
      l.url = ocsp.front();
      l.error = e.what();
      asio::post(ex, [done, l] { done(l); });
      return;
    }
    auto self = shared_from_this();
    const std::string url = ocsp.front();
    asio::co_spawn(
        ex, exchange(impl_->options, url, request.der, "application/ocsp-request", until, budget),
        [self, done, url, request, started](std::exception_ptr e, Exchange x) {
          inspect::RevocationLookup l;
          l.kind = "ocsp";
          l.url = url;
          l.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
          if (e) x.error = "internal error while asking the responder";
          if (!x.error.empty()) {
            l.error = x.error;
          } else {
            l.nonce = certs::ocsp_nonce_check(request, x.body);
            if (l.nonce == "mismatch") {
              l.error =
                  "the response's nonce does not match the request's (a "
                  "replayed or misrouted answer)";
            } else {
              l.ok = true;
              l.response = std::move(x.body);
            }
          }
          done(std::move(l));
        });
    return;
  }
  std::string crl_url;
  for (const auto& u : certs::crl_urls(leaf))
    if (u.rfind("http://", 0) == 0) {
      crl_url = u;
      break;
    }
  if (crl_url.empty()) {
    asio::post(ex, [done] { done(inspect::RevocationLookup{}); });
    return;
  }
  auto waiter = [ex, done](std::shared_ptr<const inspect::RevocationLookup> r, bool from_cache) {
    asio::post(ex, [done, r, from_cache] {
      auto l = *r;
      l.from_cache = from_cache;
      done(std::move(l));
    });
  };
  const auto answer = impl_->crl_cache.get_or_join(crl_url, waiter);
  if (answer != CacheAnswer::started) return;
  auto self = shared_from_this();
  asio::co_spawn(
      ex, exchange(impl_->options, crl_url, {}, {}, until, budget),
      [self, crl_url, started](std::exception_ptr e, Exchange x) {
        inspect::RevocationLookup l;
        l.kind = "crl";
        l.url = crl_url;
        l.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        if (e) x.error = "internal error while fetching the CRL";
        auto ttl = std::chrono::duration_cast<Clock::duration>(self->impl_->options.failure_ttl);
        if (!x.error.empty()) {
          l.error = x.error;
        } else {
          l.ok = true;
          // Cached until the CRL's nextUpdate (bounded): a newer one cannot exist before.
          try {
            const auto crls = certs::Crl::parse(x.body, crl_url);
            if (auto next = crls.front().next_update()) {
              const auto left = *next - std::chrono::time_point_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now());
              ttl = std::clamp<Clock::duration>(
                  left, Clock::duration::zero(),
                  std::chrono::duration_cast<Clock::duration>(self->impl_->options.max_crl_ttl));
            }
          } catch (const std::exception&) {
            // Not a CRL: diagnosis says so; keep it as briefly as a failure.
          }
          l.response = std::move(x.body);
        }
        self->impl_->crl_cache.complete(
            crl_url, std::make_shared<const inspect::RevocationLookup>(std::move(l)), ttl);
      });
}

void async_check_revocation(const asio::any_io_executor& ex,
                            std::shared_ptr<RevocationFetcher> fetcher,
                            const certs::TrustStore& trust, inspect::HandshakeObservation obs,
                            Clock::time_point deadline,
                            std::function<void(inspect::HandshakeObservation)> done) {
  if (obs.outcome != inspect::HandshakeOutcome::ok || obs.chain.empty()) {
    asio::post(ex, [done, obs = std::move(obs)]() mutable { done(std::move(obs)); });
    return;
  }
  certs::Chain candidates = obs.chain;
  candidates.insert(candidates.end(), obs.completed_chain.begin(), obs.completed_chain.end());
  auto anchors = trust.find_issuers(obs.chain.front());
  candidates.insert(candidates.end(), anchors.begin(), anchors.end());
  const auto issuer = inspect::find_issuer(obs.chain.front(), candidates);
  if (!issuer) {
    asio::post(ex, [done, obs = std::move(obs)]() mutable { done(std::move(obs)); });
    return;
  }
  const auto leaf = obs.chain.front();
  auto shared = std::make_shared<inspect::HandshakeObservation>(std::move(obs));
  fetcher->lookup(ex, leaf, *issuer, deadline, [shared, done](inspect::RevocationLookup l) {
    if (!l.kind.empty()) shared->revocation_lookups.push_back(std::move(l));
    done(std::move(*shared));
  });
}

}  // namespace tlsprobe::proxy
