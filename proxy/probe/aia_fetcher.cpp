#include "proxy/probe/aia_fetcher.hpp"

#include "certs/ossl.hpp"
#include "proxy/probe/certificate_url_fetch.hpp"
#include "proxy/probe/probe_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include <netdb.h>
#include <algorithm>
#include <cctype>
#include <set>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

using Pkcs7Ptr = std::unique_ptr<PKCS7, certs::Deleter<&PKCS7_free>>;

// Printable, bounded form of text from the network (a Location header) for an error line.
std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 200)) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c >= 0x20 && c < 0x7f) ? ch : '?';
  }
  return out;
}

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

certs::Chain parse_issuer_body(std::string_view body, std::string& error) {
  if (body.empty()) {
    error = "not a certificate: the response body is empty";
    return {};
  }
  const std::string der(body);
  if (auto c = certs::Certificate::from_der(der)) return {*c};
  // PKCS#7 SignedData, certs-only (".p7c", application/pkcs7-mime): what some CAs serve.
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* start = p;
  Pkcs7Ptr p7{d2i_PKCS7(nullptr, &p, static_cast<long>(der.size()))};
  ERR_clear_error();
  if (p7 && p == start + der.size()) {
    if (!PKCS7_type_is_signed(p7.get()) || !p7->d.sign) {
      error = "not a certificate: PKCS#7 data that is not SignedData";
      return {};
    }
    certs::Chain out;
    if (STACK_OF(X509)* certs = p7->d.sign->cert) {
      for (int i = 0; i < sk_X509_num(certs); ++i)
        out.push_back(certs::Certificate::from_x509(sk_X509_value(certs, i)));
    }
    if (out.empty()) error = "not a certificate: a PKCS#7 bundle without certificates";
    return out;
  }
  if (body.rfind("-----BEGIN", 0) == 0)
    error = "not a certificate: PEM text (" + std::to_string(body.size()) +
            " bytes); caIssuers URLs must serve DER or PKCS#7, which is what clients parse";
  else
    error = "not a certificate: the body (" + std::to_string(body.size()) +
            " bytes) is neither a DER X.509 certificate nor a PKCS#7 certs-only bundle";
  return {};
}

namespace {

struct Step {
  std::string error;     // failure of this request (the fetch ends)
  std::string location;  // a redirect to follow
  std::string body;      // the 200 body
};

// One GET, within `deadline` (proxy/probe/certificate_url_fetch.hpp).
asio::awaitable<Step> get_once(const AiaOptions& options, HttpUrl url, Clock::time_point deadline) {
  Step step;
  http::request<http::string_body> req{http::verb::get, url.target, 11};
  req.set(http::field::user_agent, "tlsprobe (AIA caIssuers fetch)");
  req.set(http::field::accept, "application/pkix-cert, application/pkcs7-mime, */*");
  CertificateUrlLimits limits;
  limits.resolve = &options.resolve;
  limits.max_body = options.max_body;
  limits.deadline = deadline;
  limits.timeout_text = "timed out after " + ms_text(options.timeout);
  auto fetched = co_await fetch_certificate_url(url, std::move(req), limits);
  if (!fetched.error.empty()) {
    step.error = std::move(fetched.error);
    co_return step;
  }
  const auto& res = fetched.response;
  const unsigned status = res.result_int();
  if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
    const auto loc = res[http::field::location];
    if (loc.empty()) {
      step.error = "HTTP status " + std::to_string(status) + " without a Location";
      co_return step;
    }
    step.location = resolve_location(url, loc);
    co_return step;
  }
  if (status != 200) {
    step.error = "HTTP status " + std::to_string(status) + " " + printable(res.reason());
    co_return step;
  }
  step.body = res.body();
  co_return step;
}

// The whole fetch of one URL: redirects, then the body's certificates.
asio::awaitable<AiaFetchResult> fetch_url(AiaOptions options, std::string url) {
  AiaFetchResult r;
  r.url = url;
  const auto started = Clock::now();
  const auto deadline = started + options.timeout;
  std::vector<std::string> seen{url};
  std::string current = url;
  for (unsigned redirects = 0;; ++redirects) {
    std::string error;
    const auto parsed = parse_http_url(current, error);
    if (!parsed) {
      r.error = current == url ? error : "redirected to " + printable(current) + ": " + error;
      break;
    }
    const Step step = co_await get_once(options, *parsed, deadline);
    if (!step.error.empty()) {
      r.error = step.error;
      break;
    }
    if (step.location.empty()) {
      r.final_url = current;
      r.certs = parse_issuer_body(step.body, r.error);
      r.ok = !r.certs.empty();
      break;
    }
    if (std::find(seen.begin(), seen.end(), step.location) != seen.end()) {
      r.error = "redirect loop: " + printable(current) + " -> " + printable(step.location) +
                " (seen before)";
      break;
    }
    if (redirects + 1 > options.max_redirects) {
      r.error = "too many redirects (more than " + std::to_string(options.max_redirects) +
                "; last to " + printable(step.location) + ")";
      break;
    }
    seen.push_back(step.location);
    current = step.location;
  }
  r.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  co_return r;
}

}  // namespace

AiaFetcher::AiaFetcher(AiaOptions options)
    : options_(std::move(options)), cache_(options_.ttl, options_.max_cached_urls) {}

void AiaFetcher::fetch(const asio::any_io_executor& ex, const std::string& url, Done done) {
  // Waiters run where the fetch completes (or inline on a hit): hand each its own executor.
  auto waiter = [ex, done = std::move(done)](ResultPtr r, bool from_cache) {
    asio::post(ex, [done, r = std::move(r), from_cache] { done(r, from_cache); });
  };
  const auto answer = cache_.get_or_join(
      url, [waiter](ResultPtr r, bool from_cache) { waiter(std::move(r), from_cache); });
  if (answer == CacheAnswer::hit) return;
  if (answer == CacheAnswer::joined) return;
  auto self = shared_from_this();
  asio::co_spawn(ex, fetch_url(options_, url), [self, url](std::exception_ptr e, AiaFetchResult r) {
    if (e) {
      // Allocation failure or a bug: still answer every waiter, and briefly.
      r = AiaFetchResult{};
      r.url = url;
      r.error = "internal error while fetching";
    }
    const auto ttl = r.ok ? self->options_.ttl : self->options_.failure_ttl;
    self->cache_.complete(url, std::make_shared<const AiaFetchResult>(std::move(r)), ttl);
  });
}

}  // namespace tlsprobe::proxy
