#include "proxy/session/forward_session.hpp"

#include "proxy/http/exchange_loop.hpp"
#include "proxy/http/http_inspector.hpp"
#include "proxy/http/request_policy.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_metrics.hpp"
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

bool is_html_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  std::erase_if(t, [](unsigned char c) { return std::isspace(c); });
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t == "text/html" || t == "application/xhtml+xml";
}

// Whether a plain-HTTP exchange is judged for http.no_https_redirect and
// http.redirect_not_permanent. check_http judges whatever it is given, and DESIGN only says
// "a plain-HTTP request answered without a redirect to https", so the proxy hands it only
// what a browser's address bar would load, the thing a site redirects to HTTPS:
// - GET only: a POST answered 200 is the result of a form or an API call (redirecting it
//   would drop the body), and HEAD/OPTIONS/PUT… come from tools, not from visitors.
// - 2xx only when the body is HTML: images, scripts and JSON are subresources or API
//   answers; the page that loads them is the one judged (and flagged).
// - 3xx only with a Location, whatever its body type: where the name sends the visitor
//   is exactly what both findings are about (a redirect to another http:// URL stays
//   no_https_redirect). A 304 (revalidation) or a 300 without Location is no answer.
// - 1xx/4xx/5xx: an error or a missing page says nothing about the site's HTTPS policy.
// Whether the host serves HTTPS at all is not checked: a site without HTTPS is exactly one
// whose plain pages deserve the warning, and probing it would cost a connection per host.
bool judged_as_page(const inspect::HttpExchange& ex) {
  if (ex.method != "GET") return false;
  if (ex.status >= 200 && ex.status < 300) {
    const auto type = ex.header("Content-Type");
    return type && is_html_type(*type);
  }
  if (ex.status >= 300 && ex.status < 400) return ex.header("Location").has_value();
  return false;
}

// A connection's findings, each once: a keep-alive page load repeats the same exchange.
class FindingSet {
 public:
  void add(inspect::Findings fs, inspect::Findings& into) {
    for (auto& f : fs) {
      std::string key = f.code + "|" + f.subject;
      for (const auto& [k, v] : f.evidence) key += "|" + k + "=" + v;
      if (seen_.insert(std::move(key)).second) into.push_back(std::move(f));
    }
  }

 private:
  std::set<std::string> seen_;
};

}  // namespace

asio::awaitable<void> run_forward(std::shared_ptr<SessionConnection> conn,
                                  std::unique_ptr<RequestHeadParser> head,
                                  beast::flat_buffer buffer) {
  auto& ctx = *conn->ctx;
  ++ctx.counters.forwards;
  ConnectionFacts facts;
  facts.mode = LogMode::forward;
  ConnectionMetrics metrics(ctx.metrics, "forward");
  facts.start = conn->started;
  facts.client_address = address_text(conn->client_endpoint);
  facts.client_port = conn->client_endpoint.port();
  std::uint64_t up = 0, down = 0;
  std::optional<HostPort> connected;  // authority of the open upstream connection
  beast::flat_buffer upstream_buf;
  std::string end_reason;
  // Plain HTTP: the inspector judges the response head only (it keeps no body for http),
  // so the relay never feeds it body bytes.
  HttpInspector inspector(Scheme::http);
  if (ctx.log) inspector.keep_query(ctx.log->record_options().keep_query);  // [log] keep_query
  FindingSet seen;
  // One log record per upstream host (issue 13 item 4): a keep-alive client connection that
  // asks shop.example and then good.example gets a record for each, each with its own
  // findings, never one line for the last host carrying the other's findings.
  std::optional<HostPort> record_host;           // the host the current record describes
  std::uint64_t record_up = 0, record_down = 0;  // up/down when the current record began
  const auto write_record = [&](bool failed_now) {
    facts.bytes_client_to_server = up - record_up;
    facts.bytes_server_to_client = down - record_down;
    facts.end = std::chrono::system_clock::now();
    inspect::sort_by_severity(facts.findings);
    if (ctx.log)
      for (const auto& f : facts.findings) ctx.log->announce(f);
    if (!facts.destination_domain.empty() || !facts.destination_address.empty() || failed_now) {
      if (ctx.log)
        ctx.log->write(to_json_line(make_connection_record(facts, ctx.log->record_options())));
      count_record(ctx.metrics, facts);
    }
  };
  const auto start_record_for = [&](const HostPort& host) {
    if (record_host && (record_host->host != host.host || record_host->port != host.port)) {
      write_record(false);
      ConnectionFacts next;
      next.mode = facts.mode;
      next.start = std::chrono::system_clock::now();
      next.client_address = facts.client_address;
      next.client_port = facts.client_port;
      facts = std::move(next);
      record_up = up;
      record_down = down;
      seen = FindingSet{};
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
      conn->client.set_option(tcp::no_delay(true), ignored);
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
    const bool judged = judged_as_page(inspector.exchange());
    auto fs = inspector.finish();
    if (judged) seen.add(std::move(fs), facts.findings);
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
  write_record(end.error.has_value());
  // The connection's metrics count every byte it relayed, across its records.
  facts.bytes_client_to_server = up;
  facts.bytes_server_to_client = down;
  metrics.close(facts);
  if (end.error)
    co_await answer_and_close(*conn, conn->client, *end.error);
  else
    conn->close();
}

}  // namespace tlsprobe::proxy
