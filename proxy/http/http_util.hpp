// Small, pure HTTP helpers for the forward proxy: request-target parsing, proxy
// authentication, hop-by-hop header removal and the proxy's own short error responses.
// Nothing here touches a socket, so every function is unit-tested directly.
#pragma once

#include "config/address.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

// host and port as named by a client ("example.com:443", "[::1]:8443", "127.0.0.1:80"):
// config's HostPort, the one host:port type (host without brackets for IPv6).
using config::HostPort;
// IP literals, v4 or v6: config's rule, the one the allow-lists use.
using config::is_ip_literal;

// Parses "host:port" (CONNECT target, RFC 9110 section 9.3.6). The port is required when
// `default_port` is 0. nullopt when malformed (empty host, bad port, stray characters).
std::optional<HostPort> parse_authority(std::string_view text, std::uint16_t default_port = 0);

// An absolute-form request target (RFC 9112 section 3.2.2): "http://host[:port]/path?q".
struct AbsoluteTarget {
  std::string scheme;  // lower case: "http" or "https"
  HostPort authority;
  std::string origin_form;  // "/path?q" ("/" when empty)
};
std::optional<AbsoluteTarget> parse_absolute_target(std::string_view target);

// True when `header_value` (a Proxy-Authorization value) carries Basic credentials equal
// to `user_colon_password`. Comparison does not stop early on the first differing byte.
bool basic_auth_matches(std::string_view header_value, std::string_view user_colon_password);

// Removes hop-by-hop headers (RFC 9110 section 7.6.1): Connection, Proxy-Connection,
// Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization,
// Proxy-Authenticate, and every header named in Connection.
void strip_hop_by_hop(boost::beast::http::fields& fields);

// True when a Via header value names this proxy instance (`token`, e.g. "tlsprobe-1a2b3c4d").
bool via_names_us(std::string_view via_value, std::string_view token);

// The proxy's own answer: a status line, a few headers and a one-line text body `reason`;
// always "Connection: close". 407 adds Proxy-Authenticate.
std::string error_response(boost::beast::http::status status, std::string_view reason);

}  // namespace tlsprobe::proxy
