// HTTP/1.1 request framing per RFC 9112, checked once for forward, intercept and reverse mode:
// the proxy forwards a request only when there is exactly one way to read where it ends, so
// that no second request can ride in its body or behind it on the connection (request
// smuggling: the proxy and the origin disagreeing about the framing).
//
// Beast's parser already refuses Content-Length together with a final chunked coding,
// differing Content-Lengths, bare LF and control characters. It accepts what is checked here:
//   - a Transfer-Encoding whose last coding is not chunked (Beast: "no body"): 400;
//   - Transfer-Encoding together with Content-Length when chunked is not last: 400;
//   - chunked applied twice: 400; a transfer coding we do not know: 501 (RFC 9112 section 6.1);
//   - HTTP/1.0 with Transfer-Encoding: processed as chunked, then the connection closes;
//   - several Host fields: 400 (RFC 9112 section 3.2);
//   - an absolute-form target whose authority is not the Host: 400. We refuse rather than
//     rewrite Host from the target (section 3.2.2 allows either): a client that sends both
//     and means different origins is either broken or probing, and both are better told;
//   - Content-Length repeated with one value ("5" twice, "5, 5"): forwarded as one field;
//   - obs-fold (a header line starting with a space or tab): 400 (section 5.2), found in the
//     raw head by read_request_head before Beast joins the folded lines.
// Nothing here touches a socket except read_request_head; the checks are unit-tested directly.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace tlsprobe::proxy {

// Errors of our own while reading a request head (the category says "request framing").
enum class FramingError { obs_fold = 1 };
boost::system::error_code make_error_code(FramingError e);

// The verdict on one request head.
struct FramingVerdict {
  boost::beast::http::status status = boost::beast::http::status::ok;  // ok: forward it
  std::string reason;            // one line for the 4xx/5xx answer and the log
  bool close_after = false;      // HTTP/1.0 with Transfer-Encoding: close after the response
  std::string transfer_codings;  // the request's codings, e.g. "gzip, chunked"; "" without TE
  // An absolute-form target (that agrees with Host) in origin form, "/path?q"; "" for any
  // other target. Intercept and reverse mode send this to the origin, as a client would.
  std::string origin_form;
  explicit operator bool() const { return status == boost::beast::http::status::ok; }
};

// Checks `head` (as parsed by Beast) and normalises repeated equal Content-Lengths into one
// field. Pure: the same answer in every mode.
FramingVerdict check_request_framing(boost::beast::http::request_header<>& head);

// Re-applies the request's own transfer codings after strip_hop_by_hop() removed the field,
// ending in chunked: the parser de-chunks the body and the serializer chunks it again, so the
// upstream sees our chunking and the client's other codings (gzip...) unchanged.
void restore_transfer_codings(boost::beast::http::request_header<>& head,
                              const FramingVerdict& verdict);

// True when the head `raw` (request line and header lines, CRLF-separated, without the final
// empty line) folds a header line: a line after the first that starts with SP or HTAB.
bool has_obs_fold(std::string_view raw);

// Where the head ends in `bytes` (the index after "\r\n\r\n", leading empty lines allowed as
// RFC 9112 section 2.2 asks), or npos when it has not all arrived.
std::size_t find_head_end(std::string_view bytes);

}  // namespace tlsprobe::proxy

template <>
struct boost::system::is_error_code_enum<tlsprobe::proxy::FramingError> : std::true_type {};
