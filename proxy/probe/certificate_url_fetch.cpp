#include "proxy/probe/certificate_url_fetch.hpp"

#include "config/address.hpp"
#include "proxy/net/host_resolver.hpp"
#include "proxy/probe/probe_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <memory>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kMaxResponseHead = 16 * 1024;

bool forbidden(const asio::ip::address& a) {
  if (a.is_unspecified() || a.is_multicast()) return true;
  if (a.is_v4()) return (a.to_v4().to_uint() & 0xFFFF0000u) == 0xA9FE0000u;
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped())
    return (asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint() & 0xFFFF0000u) ==
           0xA9FE0000u;
  return v6.is_link_local();
}

}  // namespace

asio::awaitable<CertificateUrlResponse> fetch_certificate_url(
    const HttpUrl& url, http::request<http::string_body> request,
    const CertificateUrlLimits& limits) {
  CertificateUrlResponse out;
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = limits.deadline;

  // Where to dial: an override (the connection only; Host keeps the URL's), a literal, or DNS.
  HostResolver::Endpoints endpoints;
  const std::string dial =
      limits.resolve ? resolve_override(*limits.resolve, url.host, url.port) : std::string();
  std::string literal = url.host;
  std::uint16_t port = url.port;
  if (!dial.empty()) {
    const auto d = parse_address_port(dial);
    literal = d.value ? d.value->host : std::string();
    if (d.value) port = d.value->port;
  }
  boost::system::error_code ec;
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
      out.error = limits.timeout_text;
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
    out.error =
        cec == beast::error::timeout ? limits.timeout_text : "cannot connect: " + cec.message();
    co_return out;
  }

  request.version(11);
  request.set(http::field::host, config::format_url_authority(url.host, url.port, 80));
  request.set(http::field::connection, "close");
  stream.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, request, as_tuple(use_awaitable));
  (void)wn;
  if (wec) {
    out.error = wec == beast::error::timeout ? limits.timeout_text
                                             : "cannot send the request: " + wec.message();
    co_return out;
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHead);
  parser.body_limit(limits.max_body);
  stream.expires_at(deadline);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
  (void)rn;
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  if (rec) {
    if (rec == beast::error::timeout)
      out.error = limits.timeout_text;
    else if (rec == http::error::body_limit)
      out.error = "response larger than " + std::to_string(limits.max_body) + " bytes";
    else if (rec == http::error::header_limit)
      out.error = "response header larger than " + std::to_string(kMaxResponseHead) + " bytes";
    else
      out.error = "not an HTTP response: " + rec.message();
    co_return out;
  }
  out.response = parser.release();
  co_return out;
}

}  // namespace tlsprobe::proxy
