#include "proxy/http/http_relay.hpp"

#include "proxy/http/http_inspector.hpp"
#include "proxy/http/request_framing.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <limits>
#include <string_view>

namespace tlsprobe::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// Room for a whole TLS record (16 KiB of plaintext) in the reader's buffer. A flat_buffer
// sized by the head it just parsed (~1 KiB) lets read_some take only ~512 bytes at a time,
// so every body byte went out in 0.5 KiB TLS records: 7x the CPU per byte of a full-record
// relay (intercept_bench: 1330 ms vs 180 ms per 100 MB).
constexpr std::size_t kReadRoom = 17 * 1024;

template <bool isRequest, class Stream>
asio::awaitable<bool> write_head(SessionConnection& conn, Stream& out,
                                 http::serializer<isRequest, http::buffer_body>& sr,
                                 std::uint64_t& count) {
  conn.expires_after(conn.ctx->settings.timeouts.idle);
  auto [ec, n] = co_await http::async_write_header(out, sr, as_tuple(use_awaitable));
  count += n;
  co_return !ec;
}

}  // namespace

// The head goes out before any body byte is awaited, and each read is a read_some: whatever
// arrived is forwarded at once. http::async_read would return only when the chunk is full or
// the message ends, holding back the head and the tail of a message that pauses (server-sent
// events, long polls, a slow download or upload: the peer saw nothing until 64 KiB more).
// When body bytes are already buffered, the head goes out with the first of them in one
// write (one TLS record instead of two: fewer records and wake-ups per keep-alive exchange).
bool RelayResult::malformed() const {
  if (!read_error ||
      read_error.category() != http::make_error_code(http::error::bad_chunk).category())
    return false;
  return read_error != http::error::end_of_stream && read_error != http::error::partial_message &&
         read_error != http::error::body_limit;
}

bool RelayResult::too_large() const { return read_error == http::error::body_limit; }

template <bool isRequest, class Stream>
asio::awaitable<RelayResult> relay_message(SessionConnection& conn, Stream& in,
                                           beast::flat_buffer& in_buf, BodyParser<isRequest>& p,
                                           Stream& out, std::vector<char>& chunk,
                                           std::uint64_t& count, HttpInspector* inspector) {
  RelayResult result;
  const auto start_count = count;
  const auto done = [&](bool ok) {
    result.ok = ok;
    result.wrote = count > start_count;
    return result;
  };
  http::serializer<isRequest, http::buffer_body> sr{p.get()};
  const auto idle = conn.ctx->settings.timeouts.idle;
  auto& body = p.get().body();
  // No body bytes yet; `more` false for a message without (more) body, or buffer_body's
  // default more=true makes the serializer wait for a body that never comes.
  body.data = nullptr;
  body.size = 0;
  body.more = !p.is_done();
  if (!p.is_done()) {
    in_buf.reserve(kReadRoom);
    if (in_buf.size() == 0 && !co_await write_head(conn, out, sr, count)) co_return done(false);
  }
  while (!sr.is_done()) {
    if (!p.is_done()) {
      body.data = chunk.data();
      body.size = chunk.size();
      conn.expires_after(idle);
      auto [ec, n] = co_await http::async_read_some(in, in_buf, p, as_tuple(use_awaitable));
      if (ec == http::error::need_buffer) ec = {};  // the chunk is full: write it first
      if (ec) {
        result.read_error = ec;
        co_return done(false);
      }
      body.size = chunk.size() - body.size;
      body.more = !p.is_done();
      // A read that parsed only framing (a chunk-size line) has no bytes to write, and an
      // empty buffer would go out as the zero-size last chunk, ending the peer's copy. The
      // head must not wait for the next read, though.
      if (body.size == 0 && body.more) {
        if (!sr.is_header_done() && !co_await write_head(conn, out, sr, count))
          co_return done(false);
        continue;
      }
      body.data = body.size > 0 ? chunk.data() : nullptr;
      if (inspector && body.size > 0) inspector->body(chunk.data(), body.size);
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    conn.expires_after(idle);
    auto [ec, n] = co_await http::async_write(out, sr, as_tuple(use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return done(false);
    count += n;
  }
  co_return done(true);
}

template <class Stream>
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_request_head(
    Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::empty_body>& parser,
    std::uint32_t header_limit) {
  constexpr std::size_t kHeadRead = 4096;
  for (;;) {
    const std::string_view have(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (const auto end = find_head_end(have); end != std::string_view::npos) {
      if (has_obs_fold(have.substr(0, end)))
        co_return std::tuple{make_error_code(FramingError::obs_fold), std::size_t{0}};
      break;
    }
    if (have.size() > header_limit) break;  // Beast answers header_limit
    auto [ec, n] =
        co_await stream.async_read_some(buffer.prepare(kHeadRead), as_tuple(use_awaitable));
    buffer.commit(n);
    if (ec) {
      if (ec == asio::error::eof)
        ec = buffer.size() == 0 ? http::error::end_of_stream : http::error::partial_message;
      co_return std::tuple{ec, std::size_t{0}};
    }
  }
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
  co_return std::tuple{ec, n};
}

template <class Stream>
asio::awaitable<bool> answer_expect_continue(SessionConnection& conn, Stream& client,
                                             BodyParser<true>& req_p, std::uint64_t& count) {
  auto& req = req_p.get();
  const auto it = req.find(http::field::expect);
  if (it == req.end() || !beast::iequals(it->value(), "100-continue")) co_return true;
  req.erase(http::field::expect);
  if (req_p.is_done() || req.version() < 11) co_return true;  // no body to ask for
  static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
  conn.expires_after(conn.ctx->settings.timeouts.idle);
  auto [ec, n] = co_await asio::async_write(client, asio::buffer(go_on), as_tuple(use_awaitable));
  count += n;
  co_return !ec;
}

template <class Stream>
asio::awaitable<ResponseHead> read_response_head(SessionConnection& conn, Stream& upstream,
                                                 beast::flat_buffer& buf,
                                                 std::optional<BodyParser<false>>& parser,
                                                 bool is_head, std::uint32_t header_limit,
                                                 std::uint64_t body_limit,
                                                 std::chrono::steady_clock::duration timeout) {
  ResponseHead out;
  for (int i = 0; i < kMaxInterimResponses; ++i) {
    auto& p = parser.emplace();
    p.header_limit(header_limit);
    p.body_limit(body_limit ? body_limit : std::numeric_limits<std::uint64_t>::max());
    if (is_head) p.skip(true);
    conn.expires_after(timeout);
    auto [ec, n] = co_await http::async_read_header(upstream, buf, p, as_tuple(use_awaitable));
    if (ec) {
      out.error = ec;
      co_return out;
    }
    const auto code = p.get().result_int();
    if (code < 100 || code >= 200 || code == 101) co_return out;
  }
  out.too_many_interim = true;
  co_return out;
}

RelayReuse reframe_response(BodyParser<false>& res_p, bool is_head, unsigned client_version,
                            bool client_keep) {
  auto& res = res_p.get();
  RelayReuse reuse{res.keep_alive(), client_keep};
  const bool chunked = res.chunked();
  strip_hop_by_hop(res);
  if (chunked) {
    res.chunked(true);
  } else if (!is_head && !res.has_content_length() && res_p.need_eof()) {
    reuse.upstream = false;
    if (client_version >= 11)
      res.chunked(true);
    else
      reuse.client = false;
  }
  return reuse;
}

std::uint64_t body_limit_of(const ProxySettings& s) {
  return s.limits.max_body_bytes ? s.limits.max_body_bytes
                                 : std::numeric_limits<std::uint64_t>::max();
}

// The streams the sessions use: plain TCP (forward) and TLS over a borrowed socket (reverse,
// intercept). Instantiated here only, so the Beast machinery is compiled once.
#define TLSPROBE_RELAY_FOR(Stream)                                                                 \
  template asio::awaitable<RelayResult> relay_message<true, Stream>(                               \
      SessionConnection&, Stream&, beast::flat_buffer&, BodyParser<true>&, Stream&,                \
      std::vector<char>&, std::uint64_t&, HttpInspector*);                                         \
  template asio::awaitable<RelayResult> relay_message<false, Stream>(                              \
      SessionConnection&, Stream&, beast::flat_buffer&, BodyParser<false>&, Stream&,               \
      std::vector<char>&, std::uint64_t&, HttpInspector*);                                         \
  template asio::awaitable<std::tuple<boost::system::error_code, std::size_t>>                     \
  read_request_head<Stream>(Stream&, beast::flat_buffer&, http::request_parser<http::empty_body>&, \
                            std::uint32_t);                                                        \
  template asio::awaitable<bool> answer_expect_continue<Stream>(                                   \
      SessionConnection&, Stream&, BodyParser<true>&, std::uint64_t&);                             \
  template asio::awaitable<ResponseHead> read_response_head<Stream>(                               \
      SessionConnection&, Stream&, beast::flat_buffer&, std::optional<BodyParser<false>>&, bool,   \
      std::uint32_t, std::uint64_t, std::chrono::steady_clock::duration);

TLSPROBE_RELAY_FOR(tcp::socket)
TLSPROBE_RELAY_FOR(TlsStream)

#undef TLSPROBE_RELAY_FOR

}  // namespace tlsprobe::proxy
