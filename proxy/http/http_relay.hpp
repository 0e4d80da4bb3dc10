// The HTTP/1.1 relay shared by the forward, reverse and intercept sessions: one message at a
// time from a reader to a writer through Beast's buffer_body, the head first and then each
// piece of the body as it arrives (never held back until more has piled up), every step
// under the connection's idle deadline. Also what each session does around it the same way:
// answering Expect: 100-continue itself and reading the origin's final response head past
// any 1xx interim answers.
//
// Streams: tcp::socket (forward mode) and TlsStream (reverse, intercept), both sides of one
// type; the templates are instantiated for those in http_relay.cpp only.
#pragma once

#include "proxy/net/session_connection.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

namespace tlsprobe::proxy {

class HttpInspector;

inline constexpr std::size_t kRelayChunkBytes = 64 * 1024;  // body buffer, one per connection
inline constexpr int kMaxInterimResponses = 8;  // 1xx answers skipped before the final one

template <bool isRequest>
using BodyParser = boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>;

// How relay_message ended. False on any error or when the idle deadline passed
// (conn.timed_out then says so).
struct RelayResult {
  bool ok = false;
  boost::system::error_code read_error;  // reading `in` failed (parse error, close, timeout)
  bool wrote = false;                    // some of this message went out to `out`
  explicit operator bool() const { return ok; }
  // The sender's message was malformed (a chunk size that overflows, a bad chunk line...):
  // not a closed connection or a timeout. A request like that is the client's 400; a
  // response like that, with nothing sent to the client yet, is a 502.
  bool malformed() const;
  // The body was larger than the configured limit.
  bool too_large() const;
};

// Streams one message `in` -> `out`: the head (already parsed into `p`, edited by the caller)
// at once, then each body piece as it is read, in at most `chunk.size()` bytes. Counts the
// bytes written to `out` and hands body bytes to `inspector` (may be null).
template <bool isRequest, class Stream>
asio::awaitable<RelayResult> relay_message(SessionConnection& conn, Stream& in,
                                           boost::beast::flat_buffer& in_buf,
                                           BodyParser<isRequest>& p, Stream& out,
                                           std::vector<char>& chunk, std::uint64_t& count,
                                           HttpInspector* inspector = nullptr);

// Reads a request head like http::async_read_header, but first waits for the whole head in
// `buffer` (at most `header_limit` bytes, then Beast reports header_limit) and refuses a folded
// header line (FramingError::obs_fold), which Beast would silently join. A connection that
// ends before any byte gives http::error::end_of_stream, as with Beast. Bounded by the
// connection's deadline like every read.
template <class Stream>
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_request_head(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::request_parser<boost::beast::http::empty_body>& parser,
    std::uint32_t header_limit);

// Expect: 100-continue is answered by the proxy, and the origin gets a plain request: the
// relay reads the body before any response, so an origin's 100 would come too late and the
// client would sit out its expect timeout (curl: 1 s per upload, some clients wait for good).
// Removes the field; writes the 100 only when a body is still to come from an HTTP/1.1
// client. False when that write failed. Counts the bytes written to `client`.
template <class Stream>
asio::awaitable<bool> answer_expect_continue(SessionConnection& conn, Stream& client,
                                             BodyParser<true>& req_p, std::uint64_t& count);

// The origin's final response head, past at most kMaxInterimResponses 1xx answers (103 Early
// Hints...; a 101 is final), read into `parser` (emplaced anew for each head; Beast's parsers
// do not move); its body, if any, is still to be read. Each head read has `timeout`.
// `is_head`: the answer to a HEAD has no body whatever its framing says. `header_limit`
// bounds each head, `body_limit` the body (0: none).
struct ResponseHead {
  boost::system::error_code error;  // the read failed (conn.timed_out: the deadline passed)
  bool too_many_interim = false;
  explicit operator bool() const { return !error && !too_many_interim; }
};

template <class Stream>
asio::awaitable<ResponseHead> read_response_head(SessionConnection& conn, Stream& upstream,
                                                 boost::beast::flat_buffer& buf,
                                                 std::optional<BodyParser<false>>& parser,
                                                 bool is_head, std::uint32_t header_limit,
                                                 std::uint64_t body_limit,
                                                 std::chrono::steady_clock::duration timeout);

// Whether each side's connection may carry another exchange after this response.
struct RelayReuse {
  bool upstream = true;
  bool client = true;
};

// The origin's response head made fit for the client: hop-by-hop fields removed, the framing
// re-applied (chunked stays chunked: the parser de-chunks, the serializer chunks again). A
// body the origin delimits by closing is chunked for an HTTP/1.1 client, whose connection
// can then stay open, and ends an HTTP/1.0 client's. `client_keep`: the client's connection
// may stay open as far as the session is concerned. The caller sets keep_alive from the result.
RelayReuse reframe_response(BodyParser<false>& res_p, bool is_head, unsigned client_version,
                            bool client_keep);

// Parser limits from the settings: body 0 means "no limit".
std::uint64_t body_limit_of(const ProxySettings& s);

}  // namespace tlsprobe::proxy
