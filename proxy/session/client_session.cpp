#include "proxy/session/client_session.hpp"

#include "proxy/http/error_answer.hpp"
#include "proxy/http/exchange_loop.hpp"
#include "proxy/http/request_policy.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/session/forward_session.hpp"
#include "proxy/session/intercept_session.hpp"
#include "proxy/session/tunnel_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <cstdio>
#include <exception>

namespace tlsprobe::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// A connection that never completed a request head in time (a slowloris, a silent port
// scan): one log line with event.outcome failure and the reason, never a success.
void log_header_timeout(const SessionConnection& conn) {
  auto& ctx = *conn.ctx;
  if (!ctx.log) return;
  ConnectionFacts facts;
  facts.mode = LogMode::forward;
  facts.start = conn.started;
  facts.end = std::chrono::system_clock::now();
  facts.client_address = address_text(conn.client_endpoint);
  facts.client_port = conn.client_endpoint.port();
  facts.failed = true;
  facts.reason = "header_timeout: no complete request head within " +
                 std::to_string(ctx.settings.timeouts.header.count()) + " ms";
  ctx.log->write(connection_record_line(facts));
}

asio::awaitable<void> serve(std::shared_ptr<SessionConnection> conn) {
  auto& ctx = *conn->ctx;
  const auto& s = ctx.settings;
  auto head = make_request_head_parser(s);
  beast::flat_buffer buffer;
  conn->expires_after(s.timeouts.header);
  auto [ec, n] = co_await read_request_head(conn->client, buffer, *head, s.limits.max_header_bytes);
  if (ec) {
    // The exchange loop's rule (proxy/http/exchange_loop.hpp), for the head that chooses the mode.
    const bool timed_out = conn->timed_out && !conn->closed;
    const auto answer =
        head_read_answer(ec, buffer.size(), timed_out, true, s.limits.max_header_bytes);
    if (timed_out) log_header_timeout(*conn);
    if (!answer) {
      conn->close();  // the client left without asking anything
      co_return;
    }
    if (!timed_out) ++ctx.counters.bad_requests;
    co_await answer_and_close(*conn, conn->client, *answer);
    co_return;
  }
  const auto& req = head->get();
  if (auto refusal = check_request_policy(ctx, req)) {
    co_await send_error_and_close(conn, refusal->status, refusal->reason);
    co_return;
  }
  if (req.method() == http::verb::connect) {
    auto target = parse_authority(req.target());
    if (!target) {
      ++ctx.counters.bad_requests;
      co_await send_error_and_close(conn, http::status::bad_request,
                                    "bad CONNECT target: expected host:port");
      co_return;
    }
    // Bytes the client sent right behind the CONNECT head (before our 200) belong to
    // the tunnel: usually nothing, sometimes the ClientHello itself.
    std::string early = beast::buffers_to_string(buffer.data());
    // The awaitable is made in its own statement and then awaited: GCC 12 destroys
    // temporaries of a conditional inside a co_await expression twice (a crash), and two
    // co_await statements trip its false -Wmismatched-new-delete.
    asio::awaitable<void> next = ctx.settings.intercept
                                     ? run_intercept(conn, std::move(*target), std::move(early))
                                     : run_tunnel(conn, std::move(*target), std::move(early));
    co_await std::move(next);
    co_return;
  }
  const auto target = parse_absolute_target(req.target());
  if (!target) {
    ++ctx.counters.bad_requests;
    co_await send_error_and_close(conn, http::status::bad_request,
                                  "not a proxy request: use CONNECT or an absolute http:// URL");
    co_return;
  }
  if (target->scheme != "http") {
    ++ctx.counters.bad_requests;
    co_await send_error_and_close(conn, http::status::bad_request,
                                  "https:// URLs go through CONNECT, not as a plain request");
    co_return;
  }
  // http://tlsprobe.ca/ is answered by the proxy itself and never leaves it.
  const bool ca_page = ctx.settings.intercept && is_ca_page_host(target->authority.host);
  // As above: make the awaitable first, then await it.
  asio::awaitable<void> next = ca_page ? serve_ca_page(conn, target->origin_form)
                                       : run_forward(conn, std::move(head), std::move(buffer));
  co_await std::move(next);
}

}  // namespace

void start_client_session(std::shared_ptr<SessionConnection> conn) {
  auto ex = conn->strand;
  asio::co_spawn(ex, serve(conn), [conn](std::exception_ptr e) {
    // Sessions take every result as a value; an exception here is a bug (bad_alloc at
    // worst). Report it and drop this connection only.
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "tlsprobe: session error: %s\n", x.what());
      }
    }
    conn->close();
  });
}

}  // namespace tlsprobe::proxy
