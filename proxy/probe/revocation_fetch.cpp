#include "proxy/probe/revocation_fetch.hpp"

#include "certs/crl.hpp"
#include "certs/ocsp_response.hpp"
#include "inspect/revocation.hpp"
#include "proxy/net/host_resolver.hpp"
#include "proxy/probe/aia_fetcher.hpp"
#include "proxy/probe/probe_cache.hpp"
#include "proxy/probe/probe_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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

// "ADDR:PORT" for host:port from the [resolve] overrides, or empty.
std::string override_for(const RevocationFetchOptions& o, const HttpUrl& u) {
  return resolve_override(o.resolve, u.host, u.port);
}

// Link-local (cloud metadata at 169.254.169.254, fe80::) and non-unicast addresses are never
// contacted: the URL comes from a certificate, which anyone can make.
bool forbidden(const asio::ip::address& a) {
  if (a.is_unspecified() || a.is_multicast()) return true;
  if (a.is_v4()) return (a.to_v4().to_uint() & 0xFFFF0000u) == 0xA9FE0000u;
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped())
    return (asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint() & 0xFFFF0000u) ==
           0xA9FE0000u;
  return v6.is_link_local();
}

// One HTTP/1.1 request (POST with `body`, or GET when `body` is empty), no redirects,
// everything within `deadline`.
asio::awaitable<Exchange> exchange(const RevocationFetchOptions& options, std::string url_text,
                                   std::string body, std::string content_type,
                                   Clock::time_point deadline, Clock::duration budget) {
  Exchange out;
  std::string error;
  auto parsed = parse_http_url(url_text, error);
  if (!parsed) {
    out.error = error;
    co_return out;
  }
  HttpUrl url = *parsed;
  auto ex = co_await asio::this_coro::executor;
  const auto timed_out = [&] { return "timed out after " + ms_text(budget); };

  HostResolver::Endpoints endpoints;
  boost::system::error_code ec;
  const std::string dial = override_for(options, url);
  std::string literal = url.host;
  std::uint16_t port = url.port;
  if (!dial.empty()) {
    const auto d = parse_address_port(dial);
    literal = d.value ? d.value->host : std::string();
    if (d.value) port = d.value->port;
  }
  const auto addr = asio::ip::make_address(literal, ec);
  if (!ec) {
    endpoints.emplace_back(addr, port);
  } else if (!dial.empty()) {
    out.error = "cannot dial '" + dial + "': not an IP address and port";
    co_return out;
  } else {
    std::shared_ptr<HostLookup> lookup;
    auto [rec, eps] =
        co_await async_resolve_host(HostResolver::shared(), ex, url.host, url.port,
                                    std::max(Clock::duration::zero(), deadline - Clock::now()),
                                    lookup, as_tuple(use_awaitable));
    if (rec == ResolveError::timed_out) {
      out.error = timed_out();
      co_return out;
    }
    if (rec || eps.empty()) {
      out.error = "cannot resolve '" + url.host + "': " + (rec ? rec.message() : "no address");
      co_return out;
    }
    endpoints = std::move(eps);
  }
  const auto first = endpoints.front().address();
  std::erase_if(endpoints, [](const asio::ip::tcp::endpoint& e) { return forbidden(e.address()); });
  if (endpoints.empty()) {
    out.error = "refused: " + first.to_string() +
                " is a link-local or non-unicast address (never contacted)";
    co_return out;
  }

  beast::tcp_stream stream(ex);
  stream.expires_at(deadline);
  auto [cec, ep] = co_await stream.async_connect(endpoints, as_tuple(use_awaitable));
  (void)ep;
  if (cec) {
    out.error = cec == beast::error::timeout ? timed_out() : "cannot connect: " + cec.message();
    co_return out;
  }
  const bool post = !body.empty();
  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, url.target, 11};
  req.set(http::field::host, config::format_url_authority(url.host, url.port, 80));
  req.set(http::field::user_agent, "tlsprobe (revocation check)");
  req.set(http::field::connection, "close");
  if (post) {
    req.set(http::field::content_type, content_type);
    req.set(http::field::accept, "application/ocsp-response");
    req.body() = std::move(body);
    req.prepare_payload();
  }
  stream.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, as_tuple(use_awaitable));
  (void)wn;
  if (wec) {
    out.error =
        wec == beast::error::timeout ? timed_out() : "cannot send the request: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(options.max_body);
  stream.expires_at(deadline);
  auto [rec2, rn] = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
  (void)rn;
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  if (rec2) {
    if (rec2 == beast::error::timeout)
      out.error = timed_out();
    else if (rec2 == http::error::body_limit)
      out.error = "response larger than " + std::to_string(options.max_body) + " bytes";
    else
      out.error = "not an HTTP response: " + rec2.message();
    co_return out;
  }
  const auto& res = parser.get();
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
