#include "proxy/session/forward_session.hpp"

#include "proxy/http/exchange_loop.hpp"
#include "proxy/http/http_inspector.hpp"
#include "proxy/http/page_load.hpp"
#include "proxy/http/request_policy.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_recorder.hpp"
#include "proxy/observe/log_record.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>
#include <vector>

namespace tlsprobe::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// True when an idle upstream connection may carry another request: no FIN and no stray
// bytes waiting. A peek, not a read: nothing is consumed.
bool upstream_reusable(tcp::socket& s) {
  char c;
  const auto r = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::string host_header(const HostPort& a) {
  return config::format_url_authority(a.host, a.port, 80);
}

}  // namespace

asio::awaitable<void> run_forward(std::shared_ptr<SessionConnection> conn,
                                  std::unique_ptr<RequestHeadParser> head,
                                  beast::flat_buffer buffer) {
  auto& ctx = *conn->ctx;
  ++ctx.counters.forwards;
  // Opened now: the connection is counted while it is open (proxy/observe/connection_recorder.hpp).
  ConnectionFacts opening;
  opening.mode = LogMode::forward;
  opening.start = conn->started;
  opening.client_address = address_text(conn->client_endpoint);
  opening.client_port = conn->client_endpoint.port();
  ConnectionRecorder recorder(ctx.log, ctx.metrics, std::move(opening));
  auto& facts = recorder.facts();  // the current record's (next_record() refills it)
  std::uint64_t up = 0, down = 0;
  std::optional<HostPort> connected;  // authority of the open upstream connection
  beast::flat_buffer upstream_buf;
  std::string end_reason;
  // Plain HTTP: the inspector judges the response head only (it keeps no body for http),
  // so the relay never feeds it body bytes.
  HttpInspector inspector(Scheme::http);
  if (ctx.log) inspector.keep_query(ctx.log->record_options().keep_query);  // [log] keep_query
  // One log record per upstream host (issue 13 item 4): a keep-alive client connection that
  // asks shop.example and then good.example gets a record for each, each with its own
  // findings, never one line for the last host carrying the other's findings.
  std::optional<HostPort> record_host;           // the host the current record describes
  std::uint64_t record_up = 0, record_down = 0;  // up/down when the current record began
  // The current record's bytes; a record that never reached an upstream (and did not fail)
  // has nothing to say.
  const auto finish_record = [&](bool failed_now) {
    facts.bytes_client_to_server = up - record_up;
    facts.bytes_server_to_client = down - record_down;
    if (facts.destination_domain.empty() && facts.destination_address.empty() && !failed_now)
      recorder.skip_record();
  };
  const auto start_record_for = [&](const HostPort& host) {
    if (record_host && (record_host->host != host.host || record_host->port != host.port)) {
      finish_record(false);
      recorder.next_record();
      record_up = up;
      record_down = down;
    }
    record_host = host;
  };
  const auto close_upstream = [&] {
    if (conn->upstream) {
      boost::system::error_code ignored;
      conn->upstream->close(ignored);
      conn->upstream.reset();
    }
    connected.reset();
  };

  std::optional<AbsoluteTarget> target;  // the current request's
  ExchangeHooks<tcp::socket> hooks;
  // The first head passed the policy in client_session before the mode was chosen.
  hooks.admit = [&](Exchange& ex, const http::request_header<>& h) -> std::optional<ErrorAnswer> {
    if (ex.first) return std::nullopt;
    if (auto refusal = check_request_policy(ctx, h))
      return ErrorAnswer{refusal->status, refusal->reason, {}};
    return std::nullopt;
  };
  hooks.upstream =
      [&](Exchange&,
          const http::request_header<>& h) -> asio::awaitable<UpstreamChoice<tcp::socket>> {
    UpstreamChoice<tcp::socket> out;
    target = parse_absolute_target(h.target());
    if (!target || target->scheme != "http" || h.method() == http::verb::connect) {
      ++ctx.counters.bad_requests;
      out.refusal = ErrorAnswer{http::status::bad_request,
                                "only absolute http:// requests can follow on this connection",
                                {}};
      co_return out;
    }
    const auto& authority = target->authority;
    start_record_for(authority);
    if (connected && (connected->host != authority.host || connected->port != authority.port))
      facts.destination_address.clear();  // set again when this host is dialled below
    facts.destination_domain = is_ip_literal(authority.host) ? "" : authority.host;
    facts.destination_port = authority.port;
    facts.http = HttpFacts{};
    facts.http->method = std::string(h.method_string());
    note_request(*facts.http, h.version(), h[http::field::user_agent]);
    facts.http->url = "http://" + host_header(authority) + target->origin_form;
    inspector.request(h.method_string(), host_header(authority), target->origin_form);

    const bool same = connected && connected->host == authority.host &&
                      connected->port == authority.port && conn->upstream &&
                      conn->upstream->is_open() && upstream_reusable(*conn->upstream);
    if (!same) {
      close_upstream();
      upstream_buf.clear();
      const auto r = co_await connect_upstream(conn, authority);
      if (r.failure != UpstreamFailure::none) {
        end_reason = r.reason;
        out.refusal = ErrorAnswer{status_for(r.failure), r.reason, {}};
        co_return out;
      }
      boost::system::error_code ignored;
      conn->upstream->set_option(tcp::no_delay(true), ignored);
      connected = authority;
      facts.destination_address = address_text(r.endpoint);
    }
    out.stream = &*conn->upstream;
    out.buffer = &upstream_buf;
    co_return out;
  };
  hooks.edit_request = [&](Exchange&, http::request_header<>& req) {
    req.target(target->origin_form);
    req.set(http::field::host, host_header(target->authority));
  };
  hooks.response = [&](Exchange& ex, const http::response_header<>& res) {
    facts.http->status = ex.status;
    inspector.response(ex.status, res);  // as the origin sent it
  };
  hooks.finished = [&](Exchange&) {
    // Only page loads are judged for the redirect checks (proxy/http/page_load.hpp).
    const bool judged = is_page_load(inspector.exchange());
    auto fs = inspector.finish();
    if (judged) recorder.add_findings(std::move(fs));
  };
  hooks.release_upstream = close_upstream;

  auto end =
      co_await serve_exchanges(*conn, conn->client, buffer, hooks, std::move(head), up, down);
  if (end_reason.empty()) end_reason = end.reason;
  if (end.error) {
    facts.failed = true;  // refused or not served: event.outcome "failure"
    if (end_reason.empty()) end_reason = end.error->reason;
    // The status the client got from us when there was no response to relay.
    if (facts.http && facts.http->status == 0)
      facts.http->status = static_cast<int>(end.error->status);
  }
  facts.reason = end_reason;
  finish_record(end.error.has_value());
  // The connection's metrics count every byte it relayed, across its records.
  recorder.close(up, down);
  if (end.error)
    co_await answer_and_close(*conn, conn->client, *end.error);
  else
    conn->close();
}

}  // namespace tlsprobe::proxy
