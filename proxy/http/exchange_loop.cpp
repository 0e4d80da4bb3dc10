#include "proxy/http/exchange_loop.hpp"

#include "proxy/http/http_inspector.hpp"
#include "proxy/http/http_util.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <vector>

namespace tlsprobe::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// Ours appended to any Via already there (RFC 9110 section 7.6.3): "1.1 tlsprobe-1a2b3c4d".
template <class Fields>
void add_via(Fields& f, unsigned version, const std::string& token) {
  std::string ours = (version >= 11 ? "1.1 " : "1.0 ") + token;
  std::string all;
  for (auto it = f.find(http::field::via); it != f.end() && it->name() == http::field::via; ++it)
    all += std::string(it->value()) + ", ";
  f.set(http::field::via, all + ours);
}

// Upgrade with the "upgrade" connection option, as RFC 9110 section 7.8 asks of a sender:
// an Upgrade field alone is not a request to switch.
bool asks_upgrade(const http::request_header<>& h) {
  if (h[http::field::upgrade].empty()) return false;
  for (const auto& token : http::token_list{h[http::field::connection]})
    if (beast::iequals(token, "upgrade")) return true;
  return false;
}

// After a 101: bytes one way until either side ends, then both end.
template <class Stream>
asio::awaitable<void> copy_until_end(SessionConnection& conn, Stream& from, Stream& to,
                                     std::uint64_t& count) {
  std::vector<char> buf(16 * 1024);
  for (;;) {
    conn.expires_after(conn.ctx->settings.timeouts.idle);
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), as_tuple(use_awaitable));
    if (ec) break;
    auto [wec, wn] =
        co_await asio::async_write(to, asio::buffer(buf.data(), n), as_tuple(use_awaitable));
    count += wn;
    if (wec) break;
  }
  conn.close();
}

// The 101 goes to the client, then what either side already sent for the new protocol, then
// bytes both ways. False when the 101 could not be written.
template <class Stream>
asio::awaitable<bool> switch_protocols(SessionConnection& conn, Stream& client,
                                       beast::flat_buffer& client_buf, Stream& upstream,
                                       beast::flat_buffer& upstream_buf, BodyParser<false>& res_p,
                                       std::uint64_t& up, std::uint64_t& down) {
  auto& res = res_p.get();
  const std::string protocol(res[http::field::upgrade]);
  strip_hop_by_hop(res);
  if (!protocol.empty()) res.set(http::field::upgrade, protocol);
  res.set(http::field::connection, "upgrade");
  add_via(res, res.version(), conn.ctx->via_token);
  http::serializer<false, http::buffer_body> sr{res};
  conn.expires_after(conn.ctx->settings.timeouts.idle);
  auto [ec, n] = co_await http::async_write_header(client, sr, as_tuple(use_awaitable));
  down += n;
  if (ec) co_return false;
  if (upstream_buf.size() > 0) {
    auto [e1, n1] =
        co_await asio::async_write(client, upstream_buf.data(), as_tuple(use_awaitable));
    down += n1;
    if (e1) co_return true;
    upstream_buf.consume(n1);
  }
  if (client_buf.size() > 0) {
    auto [e2, n2] =
        co_await asio::async_write(upstream, client_buf.data(), as_tuple(use_awaitable));
    up += n2;
    if (e2) co_return true;
    client_buf.consume(n2);
  }
  using namespace asio::experimental::awaitable_operators;
  co_await (copy_until_end(conn, client, upstream, up) &&
            copy_until_end(conn, upstream, client, down));
  co_return true;
}

ErrorAnswer answer(http::status status, std::string reason) {
  return ErrorAnswer{status, std::move(reason), {}};
}

}  // namespace

std::unique_ptr<RequestHeadParser> make_request_head_parser(const ProxySettings& s) {
  auto p = std::make_unique<RequestHeadParser>();
  p->header_limit(s.limits.max_header_bytes);
  // Beast's default body limit for requests is 1 MB: a large upload would be refused at
  // its head. The body streams later under limits.max_body_bytes.
  p->body_limit(boost::none);
  return p;
}

std::optional<ErrorAnswer> head_read_answer(const boost::system::error_code& ec,
                                            std::size_t buffered, bool timed_out, bool first,
                                            std::uint32_t header_limit) {
  if (!ec) return std::nullopt;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return answer(http::status::request_header_fields_too_large,
                  "request header too large (limit " + std::to_string(header_limit) + " bytes)");
  if (timed_out) {
    // Silence after a response is a keep-alive connection ending; a head never finished,
    // or a first request never sent, is a header timeout.
    if (!first && buffered == 0) return std::nullopt;
    return answer(http::status::request_timeout, "request head not received in time");
  }
  const bool closed = ec == http::error::end_of_stream || ec == asio::error::eof ||
                      ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
                      ec == asio::error::bad_descriptor || ec == http::error::partial_message;
  if (closed) return std::nullopt;  // the client left: nobody to answer
  return answer(http::status::bad_request, "bad request: " + ec.message());
}

template <class Stream>
asio::awaitable<ExchangeEnd> serve_exchanges(SessionConnection& conn, Stream& client,
                                             beast::flat_buffer& client_buf,
                                             ExchangeHooks<Stream>& hooks,
                                             std::unique_ptr<RequestHeadParser> first_head,
                                             std::uint64_t& up, std::uint64_t& down) {
  auto& ctx = *conn.ctx;
  const auto& s = ctx.settings;
  std::vector<char> chunk(kRelayChunkBytes);
  ExchangeEnd end;
  const auto fail = [&end](http::status status, std::string reason) {
    end.error = answer(status, std::move(reason));
    return std::move(end);
  };
  for (bool first = true;; first = false) {
    auto head = std::move(first_head);
    if (!head) {
      head = make_request_head_parser(s);
      conn.expires_after(first ? s.timeouts.header : s.timeouts.idle);
      auto [ec, n] =
          co_await read_request_head(client, client_buf, *head, s.limits.max_header_bytes);
      if (ec) {
        end.error = head_read_answer(ec, client_buf.size(), conn.timed_out && !conn.closed, first,
                                     s.limits.max_header_bytes);
        if (end.error && end.error->status != http::status::request_timeout)
          ++ctx.counters.bad_requests;
        end.quiet = !end.error;
        end.reason = conn.timed_out && !end.error ? "idle timeout" : "";
        co_return end;
      }
    }
    Exchange ex;
    ex.first = first;
    if (hooks.admit)
      if (auto refusal = hooks.admit(ex, head->get())) {
        end.error = std::move(refusal);
        co_return end;
      }
    // One way to read where this request ends, or none at all (RFC 9112, request_framing.hpp).
    ex.framing = check_request_framing(head->get());
    if (!ex.framing) {
      ++ctx.counters.bad_requests;
      co_return fail(ex.framing.status, ex.framing.reason);
    }
    ex.client_version = head->get().version();
    ex.is_head = head->get().method() == http::verb::head;
    ex.upgrade = asks_upgrade(head->get());

    auto choice = co_await hooks.upstream(ex, head->get());
    if (choice.refusal) {
      end.error = std::move(choice.refusal);
      co_return end;
    }
    Stream& upstream = *choice.stream;
    beast::flat_buffer& upstream_buf = *choice.buffer;

    // From here the request streams: a parser whose body goes through our chunk.
    http::request_parser<http::buffer_body> req_p{std::move(*head)};
    req_p.body_limit(body_limit_of(s));
    auto& req = req_p.get();
    const bool client_keep = req.keep_alive() && !ex.framing.close_after;
    const std::string protocol(ex.upgrade ? req[http::field::upgrade] : "");
    strip_hop_by_hop(req);
    // Transfer-Encoding is hop-by-hop, but the framing is re-applied on our side: the parser
    // de-chunks and the serializer chunks again.
    restore_transfer_codings(req, ex.framing);
    // An HTTP/1.0 request with Transfer-Encoding goes on as what it was read as: HTTP/1.1
    // chunked (an intermediary sends its own version, RFC 9110 section 6.2).
    if (ex.framing.close_after) req.version(11);
    // The origin gets origin-form, as from a client that connected to it directly.
    if (!ex.framing.origin_form.empty()) req.target(ex.framing.origin_form);
    if (hooks.edit_request) hooks.edit_request(ex, req.base());
    add_via(req, ex.client_version, ctx.via_token);
    if (ex.upgrade) {  // asked again end to end; the connection is the new protocol's after
      req.set(http::field::upgrade, protocol);
      req.set(http::field::connection, "upgrade");
    } else {
      req.keep_alive(true);
    }
    // The 100 comes from us; the body then streams straight through and the origin never
    // sends an interim response we would have to relay.
    if (!co_await answer_expect_continue(conn, client, req_p, down)) {
      end.quiet = true;
      co_return end;
    }
    const auto sent = co_await relay_message(conn, client, client_buf, req_p, upstream, chunk, up);
    if (!sent) {
      end.reason = conn.timed_out ? "idle timeout" : "relay of the request failed";
      // A body the client framed wrongly is its own 400 (413 over the limit).
      if (sent.malformed())
        end.error =
            answer(http::status::bad_request, "bad request body: " + sent.read_error.message());
      else if (sent.too_large())
        end.error = answer(http::status::payload_too_large, "request body too large");
      else if (!conn.closed && !conn.timed_out)
        end.error = answer(http::status::bad_gateway, "sending the request to the origin failed");
      end.quiet = !end.error;
      co_return end;
    }

    // The response head; 1xx interim answers (103 Early Hints...) are skipped.
    std::optional<BodyParser<false>> res_parser;
    auto res_head = co_await read_response_head(
        conn, upstream, upstream_buf, res_parser, ex.is_head, s.limits.max_header_bytes * 2,
        s.limits.max_body_bytes, s.timeouts.upstream_response);
    if (res_head.too_many_interim)
      co_return fail(http::status::bad_gateway, "the origin sent too many interim (1xx) responses");
    if (!res_head) {
      if (conn.timed_out)
        co_return fail(http::status::gateway_timeout, "the origin did not answer in time");
      if (res_head.error == http::error::header_limit)
        co_return fail(http::status::bad_gateway,
                       "the origin's response header is larger than the proxy accepts");
      co_return fail(http::status::bad_gateway,
                     "bad or no response from the origin: " + res_head.error.message());
    }
    auto& res_p = *res_parser;
    auto& res = res_p.get();
    ex.status = static_cast<int>(res.result_int());
    if (hooks.response) hooks.response(ex, res.base());  // as the origin sent it
    if (ex.status == 101) {
      if (!ex.upgrade)
        co_return fail(http::status::bad_gateway,
                       "the origin switched protocols without being asked to");
      const bool switched = co_await switch_protocols(conn, client, client_buf, upstream,
                                                      upstream_buf, res_p, up, down);
      if (hooks.finished) hooks.finished(ex);
      end.reason = switched ? "upgraded" : "relay of the response failed";
      end.quiet = true;
      co_return end;
    }
    const auto reuse =
        reframe_response(res_p, ex.is_head, ex.client_version, client_keep && !ctx.draining.load());
    const bool keep = reuse.client && (reuse.upstream || hooks.upstream_replaceable);
    add_via(res, res.version(), ctx.via_token);
    res.keep_alive(keep);
    const auto relayed = co_await relay_message(conn, upstream, upstream_buf, res_p, client, chunk,
                                                down, hooks.inspector);
    if (hooks.finished) hooks.finished(ex);  // the origin's answer is known even if cut short
    if (!relayed) {
      end.reason = conn.timed_out ? "idle timeout" : "relay of the response failed";
      // Nothing reached the client yet (a chunk size that overflows right behind the head):
      // a 502 rather than an empty reply.
      if (!relayed.wrote && relayed.malformed() && !conn.closed)
        end.error = answer(http::status::bad_gateway,
                           "bad response from the origin: " + relayed.read_error.message());
      else
        end.quiet = true;
      co_return end;
    }
    if (!reuse.upstream && hooks.release_upstream) hooks.release_upstream();
    if (!keep) co_return end;
  }
}

template asio::awaitable<ExchangeEnd> serve_exchanges<tcp::socket>(
    SessionConnection&, tcp::socket&, beast::flat_buffer&, ExchangeHooks<tcp::socket>&,
    std::unique_ptr<RequestHeadParser>, std::uint64_t&, std::uint64_t&);
template asio::awaitable<ExchangeEnd> serve_exchanges<TlsStream>(SessionConnection&, TlsStream&,
                                                                 beast::flat_buffer&,
                                                                 ExchangeHooks<TlsStream>&,
                                                                 std::unique_ptr<RequestHeadParser>,
                                                                 std::uint64_t&, std::uint64_t&);

}  // namespace tlsprobe::proxy
