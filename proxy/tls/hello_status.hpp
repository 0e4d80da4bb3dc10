// HelloStatus: what came of reading a client's ClientHello, in one vocabulary for the two
// readers, the peek of intercept and reverse (proxy/tls/client_hello_peek.hpp) and the
// tunnel's tap (proxy/tls/client_hello_tap.hpp), with the one log reason each outcome
// gets (`event.reason`). Pure.
#pragma once

#include "inspect/client_hello.hpp"

#include <string>
#include <string_view>

namespace tlsprobe::proxy {

enum class HelloStatus {
  ok,         // a ClientHello was parsed
  not_tls,    // the first bytes are not TLS (plain HTTP, SSH, …)
  invalid,    // TLS framing, malformed ClientHello (the parser's reason in the detail)
  too_large,  // more than the limit and still incomplete
  closed,     // the client closed before sending anything
  truncated,  // the client closed in the middle of its ClientHello
  timeout,    // the deadline passed first
  error,      // socket error, or the ClientHello came in too many pieces
};
std::string_view to_string(HelloStatus s);

// The status of a finished parse (need_more is not finished: nullopt-like, answers error).
HelloStatus hello_status_of(inspect::ClientHelloStatus s);

// `event.reason` of a connection whose ClientHello read ended in `s` (not ok): "not_tls",
// "client_hello_too_large", "client_hello_invalid: bad_sni", "client_hello_truncated",
// "client_hello_closed", "client_hello_timeout", "client_hello_error: <detail>".
std::string hello_failure_reason(HelloStatus s, std::string_view detail);

}  // namespace tlsprobe::proxy
