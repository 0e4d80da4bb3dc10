#include "proxy/session/forward_session.hpp"

#include "proxy/http/http_inspector.hpp"
#include "proxy/http/http_relay.hpp"
#include "proxy/http/page_load.hpp"
#include "proxy/http/request_framing.hpp"
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

template <class Fields>
void add_via(Fields& f, unsigned version, const std::string& token) {
  std::string ours = (version >= 11 ? "1.1 " : "1.0 ") + token;
  const auto it = f.find(http::field::via);
  if (it != f.end()) ours = std::string(it->value()) + ", " + ours;
  f.set(http::field::via, ours);
}

std::string host_header(const Authority& a) {
  std::string h = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  if (a.port != 80) h += ":" + std::to_string(a.port);
  return h;
}

}  // namespace

asio::awaitable<void> run_forward(std::shared_ptr<SessionConnection> conn,
                                  std::unique_ptr<RequestHeadParser> head,
                                  beast::flat_buffer buffer) {
  auto& ctx = *conn->ctx;
  const auto& s = ctx.settings;
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
  std::optional<Authority> connected;  // authority of the open upstream connection
  beast::flat_buffer upstream_buf;
  std::vector<char> chunk(kRelayChunkBytes);
  std::optional<std::pair<http::status, std::string>> error;
  std::string end_reason;
  // Plain HTTP: the inspector judges the response head only (it keeps no body for http),
  // so the relay below never feeds it body bytes.
  HttpInspector inspector(false);
  if (ctx.log) inspector.keep_query(ctx.log->record_options().keep_query);  // [log] keep_query
  // One log record per upstream host (issue 13 item 4): a keep-alive client connection that
  // asks shop.example and then good.example gets a record for each, each with its own
  // findings, never one line for the last host carrying the other's findings.
  std::optional<Authority> record_host;          // the host the current record describes
  std::uint64_t record_up = 0, record_down = 0;  // up/down when the current record began
  // The current record's bytes; a record that never reached an upstream (and did not fail)
  // has nothing to say.
  const auto finish_record = [&](bool failed_now) {
    facts.bytes_client_to_server = up - record_up;
    facts.bytes_server_to_client = down - record_down;
    if (facts.destination_domain.empty() && facts.destination_address.empty() && !failed_now)
      recorder.skip_record();
  };
  const auto start_record_for = [&](const Authority& host) {
    if (record_host && (record_host->host != host.host || record_host->port != host.port)) {
      finish_record(false);
      recorder.next_record();
      record_up = up;
      record_down = down;
    }
    record_host = host;
  };
  // Only page loads are judged for the redirect checks (proxy/http/page_load.hpp).
  const auto judge_exchange = [&] {
    const bool judged = is_page_load(inspector.exchange());
    auto fs = inspector.finish();
    if (judged) recorder.add_findings(std::move(fs));
  };

  for (bool first = true;; first = false) {
    if (!first) {
      head = std::make_unique<RequestHeadParser>();
      head->header_limit(s.limits.max_header_bytes);
      // The body streams later under its own limit; the head parser must not refuse a
      // large Content-Length (Beast's default limit for requests is 1 MB).
      head->body_limit(boost::none);
      conn->expires_after(s.timeouts.idle);  // keep-alive: wait this long for the next request
      auto [ec, n] =
          co_await read_request_head(conn->client, buffer, *head, s.limits.max_header_bytes);
      if (ec == http::error::header_limit) {
        error.emplace(http::status::request_header_fields_too_large, "request header too large");
      } else if (ec && buffer.size() > 0 && !conn->timed_out && ec != asio::error::eof &&
                 ec != http::error::end_of_stream) {
        error.emplace(http::status::bad_request, "bad request: " + ec.message());
      }
      if (ec) break;
      if (auto refusal = check_request_policy(ctx, head->get())) {
        error.emplace(refusal->status, refusal->reason);
        break;
      }
    }
    // One way to read where this request ends, or none at all (RFC 9112, request_framing.hpp).
    const auto framing = check_request_framing(head->get());
    if (!framing) {
      ++ctx.counters.bad_requests;
      error.emplace(framing.status, framing.reason);
      break;
    }
    const auto target = parse_absolute_target(head->get().target());
    if (!target || target->scheme != "http" || head->get().method() == http::verb::connect) {
      ++ctx.counters.bad_requests;
      error.emplace(http::status::bad_request,
                    "only absolute http:// requests can follow on this connection");
      break;
    }

    // From here the request streams: switch to a parser whose body goes through our chunk.
    http::request_parser<http::buffer_body> req_p{std::move(*head)};
    req_p.body_limit(body_limit_of(s));
    auto& req = req_p.get();
    const bool client_keep = req.keep_alive() && !framing.close_after;
    const unsigned client_version = req.version();
    const bool is_head = req.method() == http::verb::head;
    strip_hop_by_hop(req);
    // Transfer-Encoding is hop-by-hop, but the framing is re-applied on our side: the
    // parser de-chunks and the serializer chunks again.
    restore_transfer_codings(req, framing);
    // An HTTP/1.0 request with Transfer-Encoding goes on as what it was read as: HTTP/1.1
    // chunked (an intermediary sends its own version, RFC 9110 section 6.2).
    if (framing.close_after) req.version(11);
    // The 100 comes from us; the body then streams straight through and the origin never
    // sends an interim response we would have to relay.
    if (!co_await answer_expect_continue(*conn, conn->client, req_p, down)) break;
    req.target(target->origin_form);
    req.set(http::field::host, host_header(target->authority));
    add_via(req, client_version, ctx.via_token);
    req.keep_alive(true);

    start_record_for(target->authority);
    if (connected &&
        (connected->host != target->authority.host || connected->port != target->authority.port))
      facts.destination_address.clear();  // set again when this host is dialled below
    facts.destination_domain = is_ip_literal(target->authority.host) ? "" : target->authority.host;
    facts.destination_port = target->authority.port;
    facts.http = HttpFacts{};
    facts.http->method = std::string(req.method_string());
    facts.http->url = "http://" + host_header(target->authority) + target->origin_form;
    inspector.request(req.method_string(), host_header(target->authority), target->origin_form);

    const bool same = connected && connected->host == target->authority.host &&
                      connected->port == target->authority.port && conn->upstream &&
                      conn->upstream->is_open() && upstream_reusable(*conn->upstream);
    if (!same) {
      if (conn->upstream) {
        boost::system::error_code ignored;
        conn->upstream->close(ignored);
        conn->upstream.reset();
      }
      connected.reset();
      upstream_buf.clear();
      const auto r = co_await connect_upstream(conn, target->authority);
      if (r.failure != UpstreamFailure::none) {
        error.emplace(status_for(r.failure), r.reason);
        end_reason = r.reason;
        break;
      }
      boost::system::error_code ignored;
      conn->upstream->set_option(tcp::no_delay(true), ignored);
      conn->client.set_option(tcp::no_delay(true), ignored);
      connected = target->authority;
      facts.destination_address = address_text(r.endpoint);
    }

    const auto sent =
        co_await relay_message(*conn, conn->client, buffer, req_p, *conn->upstream, chunk, up);
    if (!sent) {
      // A body the client framed wrongly is its own 400, not the origin's fault.
      if (sent.malformed())
        error.emplace(http::status::bad_request, "bad request body: " + sent.read_error.message());
      else if (sent.too_large())
        error.emplace(http::status::payload_too_large, "request body too large");
      else if (!conn->closed)
        error.emplace(http::status::bad_gateway, "sending the request failed");
      break;
    }

    // The response head; 1xx interim answers (103 Early Hints...) are skipped.
    std::optional<BodyParser<false>> res_parser;
    auto res_head = co_await read_response_head(
        *conn, *conn->upstream, upstream_buf, res_parser, is_head, s.limits.max_header_bytes * 2,
        s.limits.max_body_bytes, s.timeouts.upstream_response);
    if (!res_head) {
      if (res_head.too_many_interim)
        error.emplace(http::status::bad_gateway, "too many interim responses");
      else if (conn->timed_out)
        error.emplace(http::status::gateway_timeout, "the origin did not answer in time");
      else
        error.emplace(http::status::bad_gateway,
                      "bad or no response from the origin: " + res_head.error.message());
      break;
    }
    auto& res_p = *res_parser;
    auto& res = res_p.get();
    facts.http->status = static_cast<int>(res.result_int());
    inspector.response(facts.http->status, res.base());  // as the origin sent it
    const auto reuse =
        reframe_response(res_p, is_head, client_version, client_keep && !ctx.draining.load());
    const bool upstream_keep = reuse.upstream, keep = reuse.client;
    add_via(res, res.version(), ctx.via_token);
    res.keep_alive(keep);
    const auto relayed = co_await relay_message(*conn, *conn->upstream, upstream_buf, res_p,
                                                conn->client, chunk, down);
    if (!relayed) {
      end_reason = "relay of the response failed";
      // Nothing reached the client yet (a chunk size that overflows right behind the head):
      // it gets a 502 rather than an empty reply.
      if (!relayed.wrote && relayed.malformed() && !conn->closed)
        error.emplace(http::status::bad_gateway,
                      "bad response from the origin: " + relayed.read_error.message());
      judge_exchange();  // the origin's answer is known even if the client left
      break;
    }
    judge_exchange();
    if (!upstream_keep) {
      boost::system::error_code ignored;
      conn->upstream->close(ignored);
      conn->upstream.reset();
      connected.reset();
    }
    if (!keep) break;
  }

  if (error) {
    facts.failed = true;  // refused or not served: event.outcome "failure"
    if (end_reason.empty()) end_reason = error->second;
    facts.reason = end_reason;
  } else if (!end_reason.empty()) {
    facts.reason = end_reason;
  }
  finish_record(error.has_value());
  // The connection's metrics count every byte it relayed, across its records.
  recorder.close(up, down);
  if (error && !conn->closed)
    co_await send_error_and_close(conn, error->first, error->second);
  else
    conn->close();
}

}  // namespace tlsprobe::proxy
