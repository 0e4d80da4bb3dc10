#include "proxy/net/session_connection.hpp"

#include "proxy/net/connect_first.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <vector>

namespace tlsprobe::proxy {

namespace http = boost::beast::http;
using asio::as_tuple;
using asio::use_awaitable;
using std::chrono::steady_clock;

SessionConnection::SessionConnection(tcp::socket socket, tcp::endpoint peer,
                                     std::shared_ptr<ProxyContext> c)
    : strand(socket.get_executor()),
      client(std::move(socket)),
      ctx(std::move(c)),
      client_endpoint(peer),
      timer_(strand) {}

SessionConnection::~SessionConnection() {
  if (id_) ctx->release(*id_);
}

ProxyContext::Refusal SessionConnection::admit() {
  std::weak_ptr<SessionConnection> weak = shared_from_this();
  auto ex = strand;
  auto admission = ctx->admit(
      [weak, ex] {
        asio::post(ex, [weak] {
          if (auto self = weak.lock()) self->close();
        });
      },
      client_endpoint.address());
  if (!admission.id) return admission.refusal;
  id_ = admission.id;
  // Started from the strand, after the session has set its first deadline (a timer armed now
  // would be armed for "never" and woken again at once).
  asio::post(strand, [self = shared_from_this()] { self->arm_watchdog(); });
  return ProxyContext::Refusal::none;
}

void SessionConnection::expires_after(steady_clock::duration d) {
  timed_out = false;
  deadline_ = steady_clock::now() + d;
  // The watchdog sleeps until `armed_`; wake it only when the new deadline is earlier.
  // Later deadlines (the common case: idle time extended by traffic) cost nothing here.
  if (deadline_ < armed_) timer_.cancel();
}

void SessionConnection::expires_never() { deadline_ = steady_clock::time_point::max(); }

void SessionConnection::cancel() {
  boost::system::error_code ec;
  client.cancel(ec);
  if (upstream) upstream->cancel(ec);
  if (lookup) lookup->cancel();
}

void SessionConnection::close() {
  if (closed) return;
  closed = true;
  boost::system::error_code ec;
  client.close(ec);
  if (upstream) upstream->close(ec);
  if (lookup) lookup->cancel();
  timer_.cancel();
}

// The watchdog is a timer handler, not a coroutine (a coroutine frame and its spawn per
// connection for a loop that nearly always just ends at close()). Each pending wait holds
// the connection alive until close(); every session ends by calling close().
void SessionConnection::arm_watchdog() {
  if (closed) return;
  armed_ = deadline_;
  timer_.expires_at(armed_);
  timer_.async_wait(
      [self = shared_from_this()](const boost::system::error_code&) { self->on_watchdog(); });
}

void SessionConnection::on_watchdog() {
  if (closed) return;
  if (steady_clock::now() >= deadline_) {
    timed_out = true;
    deadline_ = steady_clock::time_point::max();
    ++ctx->counters.timeouts;
    cancel();
  }
  arm_watchdog();
}

http::status status_for(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::none:
      return http::status::ok;
    case UpstreamFailure::bad_target:
      return http::status::bad_request;
    case UpstreamFailure::loop:
    case UpstreamFailure::forbidden:
      return http::status::forbidden;
    case UpstreamFailure::timeout:
      return http::status::gateway_timeout;
    case UpstreamFailure::resolve:
    case UpstreamFailure::refused:
    case UpstreamFailure::other:
      return http::status::bad_gateway;
  }
  return http::status::bad_gateway;
}

std::string address_text(const tcp::endpoint& ep) { return ep.address().to_string(); }

namespace {

// A [resolve] value: "1.2.3.4", "1.2.3.4:8443", "[::1]:8443" or "::1".
std::optional<tcp::endpoint> parse_resolve_value(const std::string& v, std::uint16_t port) {
  boost::system::error_code ec;
  const auto plain = asio::ip::make_address(v, ec);
  if (!ec) return tcp::endpoint(plain, port);
  if (auto a = parse_authority(v); a && is_ip_literal(a->host))
    return tcp::endpoint(asio::ip::make_address(a->host), a->port);
  return std::nullopt;
}

}  // namespace

asio::awaitable<UpstreamResult> connect_upstream(std::shared_ptr<SessionConnection> conn,
                                                 const HostPort& target,
                                                 DestinationChooser chooser) {
  const auto& s = conn->ctx->settings;
  UpstreamResult out;
  std::vector<tcp::endpoint> endpoints;
  // Lookup and connect together get timeouts.connect, counted from the first wait: an IP
  // literal on this host or a LAN connects inside connect(2) and never moves the deadline
  // (a watchdog wake-up and two timer updates per tunnel fewer).
  bool deadline_set = false;
  const auto start_deadline = [&] {
    if (deadline_set) return;
    deadline_set = true;
    conn->expires_after(s.timeouts.connect);
  };

  auto it = s.resolve.find(config::format_host_port(target.host, target.port));
  if (it == s.resolve.end()) it = s.resolve.find(target.host);
  if (it != s.resolve.end()) {
    if (auto ep = parse_resolve_value(it->second, target.port)) endpoints.push_back(*ep);
  } else if (is_ip_literal(target.host)) {
    endpoints.emplace_back(asio::ip::make_address(target.host), target.port);
  } else {
    // The lookup's own timeout is the connect timeout, the same as the deadline started here:
    // whichever fires first (the watchdog cancels `lookup`) answers the client, without
    // waiting for a getaddrinfo that may run for many seconds more.
    start_deadline();
    auto [ec, results] =
        co_await async_resolve_host(HostResolver::shared(), conn->strand, target.host, target.port,
                                    s.timeouts.connect, conn->lookup, as_tuple(use_awaitable));
    conn->lookup.reset();
    if (ec) {
      const bool timed_out = conn->timed_out || ec == ResolveError::timed_out;
      out.failure = timed_out ? UpstreamFailure::timeout : UpstreamFailure::resolve;
      out.reason = timed_out
                       ? "resolving " + target.host + " timed out after " +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                s.timeouts.connect)
                                                .count()) +
                             " ms"
                       : "cannot resolve " + target.host + ": " + ec.message();
      co_return out;
    }
    endpoints = std::move(results);
  }
  if (endpoints.empty()) {
    out.failure = UpstreamFailure::resolve;
    out.reason = "no address for " + target.host;
    co_return out;
  }
  // Every resolved address is judged, not the name or literal the client wrote: 0.0.0.0,
  // "localhost", 2130706433 and ::ffff:127.0.0.1 all arrive here as addresses.
  for (const auto& ep : endpoints) {
    const auto verdict = conn->ctx->judge_destination(ep);
    if (verdict == DestinationVerdict::own_listener) {
      ++conn->ctx->counters.loops;
      out.failure = UpstreamFailure::loop;
      out.reason = "request loop: " + config::format_host_port(target.host, target.port) +
                   " is this proxy's own listener";
      co_return out;
    }
    if (verdict == DestinationVerdict::host_local && chooser == DestinationChooser::client) {
      ++conn->ctx->counters.refused_destinations;
      out.failure = UpstreamFailure::forbidden;
      out.reason = "destination " + config::format_host_port(target.host, target.port) +
                   " is a loopback or link-local address of this host, refused while the proxy "
                   "listens beyond loopback (see allow_destinations)";
      co_return out;
    }
  }
  if (conn->closed) {
    out.failure = UpstreamFailure::other;
    out.reason = "client closed";
    co_return out;
  }
  conn->upstream.emplace(conn->strand);
  auto [ec, ep] = co_await connect_first(*conn->upstream, endpoints, start_deadline);
  if (ec) {
    ++conn->ctx->counters.upstream_failures;
    if (conn->timed_out) {
      out.failure = UpstreamFailure::timeout;
      out.reason =
          "connecting to " + config::format_host_port(target.host, target.port) +
          " timed out after " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(s.timeouts.connect).count()) +
          " ms";
    } else {
      out.failure =
          ec == asio::error::connection_refused ? UpstreamFailure::refused : UpstreamFailure::other;
      out.reason = "cannot connect to " + config::format_host_port(target.host, target.port) +
                   ": " + ec.message();
    }
    co_return out;
  }
  out.endpoint = ep;
  co_return out;
}

}  // namespace tlsprobe::proxy
