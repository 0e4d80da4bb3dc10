// serve_exchanges: the one HTTP/1.1 exchange loop of forward, intercept and reverse mode
// (Beast's advanced_server_flex: one session for plain and TLS streams). Each mode gives
// hooks for what is its own - which requests it admits, where a request goes, what it adds to
// the request, how it judges the exchange - and the loop does the rest the same way for all:
//   - reading each request head (header timeout for the first, idle for the next) and the
//     answer to a head that cannot be read (head_read_answer);
//   - request framing (request_framing.hpp), hop-by-hop fields, Via, Expect: 100-continue;
//   - the origin's response head past 1xx, 504 on its timeout, 502 on a bad one;
//   - one response framing rule (reframe_response: chunked stays chunked, a body delimited
//     by the origin's close is chunked for an HTTP/1.1 client);
//   - 101 Switching Protocols: the 101 goes through, then bytes both ways until either ends;
//   - one error-answer mechanism: the loop returns the ErrorAnswer, the mode logs it and
//     writes it with answer_and_close (proxy/http/error_answer.hpp).
// Streams: tcp::socket (forward) and TlsStream (intercept, reverse); instantiated in the .cpp.
#pragma once

#include "proxy/http/error_answer.hpp"
#include "proxy/http/http_relay.hpp"
#include "proxy/http/request_framing.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tlsprobe::proxy {

using RequestHeadParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;

// A head parser with the proxy's limits: max_header_bytes for the request line and fields
// together, and no body limit (the body streams later under its own).
std::unique_ptr<RequestHeadParser> make_request_head_parser(const ProxySettings& s);

// The answer to a request head that could not be read (`ec` from read_request_head), or
// nullopt when the connection just ends quietly: the client closed or went idle between
// requests without sending a byte. `buffered`: bytes of an unfinished head; `timed_out`: the
// deadline passed; `first`: the connection's first request (its silence is a header timeout,
// 408, whereas silence after a response is a keep-alive ending). Pure.
std::optional<ErrorAnswer> head_read_answer(const boost::system::error_code& ec,
                                            std::size_t buffered, bool timed_out, bool first,
                                            std::uint32_t header_limit);

// The exchange in progress, as the hooks see it.
struct Exchange {
  bool first = true;  // the connection's first request
  FramingVerdict framing;
  unsigned client_version = 11;
  bool is_head = false;
  bool upgrade = false;  // the client asked for a protocol upgrade (Upgrade + Connection)
  int status = 0;        // the origin's final status, once its head arrived
};

// Where one request goes: the upstream stream and the buffer its bytes are read into, or
// the proxy's refusal.
template <class Stream>
struct UpstreamChoice {
  Stream* stream = nullptr;
  boost::beast::flat_buffer* buffer = nullptr;
  std::optional<ErrorAnswer> refusal;
};

template <class Stream>
struct ExchangeHooks {
  using Head = boost::beast::http::request_header<>;
  // Each request head, before its framing is checked: the mode's policy (authentication,
  // loops, the Host it serves). A refusal ends the connection with that answer.
  std::function<std::optional<ErrorAnswer>(Exchange&, const Head&)> admit;
  // Where the request goes (a connection reused, opened or the one verified upstream), after
  // the framing check and before any byte of the body is asked for.
  std::function<asio::awaitable<UpstreamChoice<Stream>>(Exchange&, const Head&)> upstream;
  // The mode's own edits of the request going upstream, after the common ones (hop-by-hop
  // fields removed, framing re-applied, origin-form target, Via).
  std::function<void(Exchange&, Head&)> edit_request;
  // The origin's final response head as it arrived (before the loop edits it).
  std::function<void(Exchange&, const boost::beast::http::response_header<>&)> response;
  // The exchange is over (relayed, cut short after the response head, or upgraded).
  std::function<void(Exchange&)> finished;
  // The upstream connection cannot carry another request.
  std::function<void()> release_upstream;
  // Response body bytes go through it as they are relayed (may be null).
  HttpInspector* inspector = nullptr;
  // False when the client's connection cannot outlive its upstream (intercept: the one
  // verified upstream): the client's connection then ends with it.
  bool upstream_replaceable = true;
};

// How the loop ended.
struct ExchangeEnd {
  std::optional<ErrorAnswer> error;  // the proxy's answer, still to be written by the mode
  std::string reason;  // for the log when not the error's ("idle timeout", "upgraded"...)
  bool quiet = false;  // the client left or idled out: no answer, no close_notify
};

// Serves requests on `client` until one side ends, an error, or a response that closes.
// `first_head`: the first request's head when the caller has read it (forward mode reads it
// to choose the mode); null: the loop reads it. `client_buf` holds bytes read after it.
// `up`/`down` count the bytes written upstream/to the client.
template <class Stream>
asio::awaitable<ExchangeEnd> serve_exchanges(SessionConnection& conn, Stream& client,
                                             boost::beast::flat_buffer& client_buf,
                                             ExchangeHooks<Stream>& hooks,
                                             std::unique_ptr<RequestHeadParser> first_head,
                                             std::uint64_t& up, std::uint64_t& down);

}  // namespace tlsprobe::proxy
