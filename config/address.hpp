// Validation helpers for addresses, CIDRs and durations, shared by the config loader, the CLI
// (flags) and the proxy (allow-list checks). Pure: no sockets, no resolver.
#pragma once

#include "config/config.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::config {

// A value or a one-line reason why the text was rejected (config/ depends on toml++ only,
// so no boost::system::result here).
template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // set when !value: one line, no trailing period, for "file:l:c: <error>"

  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
  static Parsed fail(std::string why) {
    Parsed p;
    p.error = std::move(why);
    return p;
  }
};

struct HostPort {
  std::string host;  // without brackets for IPv6 ("::1")
  std::uint16_t port = 0;
};

// Parses "host:port", "host" (then default_port is used; 0 = a port is required),
// "[v6]:port" and "[v6]". A bare IPv6 address without brackets is rejected (ambiguous with a
// port). Host names are checked for legal characters (letters, digits, '-', '.', '_').
// Rejects port 0, ports above 65535, empty parts and trailing garbage.
Parsed<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port);

// parse_host_port for an address to listen on: port 0 is accepted and means "any free port"
// (the OS picks it; the proxy prints the bound address in its startup line).
Parsed<HostPort> parse_listen_address(std::string_view text, std::uint16_t default_port);

// Formats back: "host:port", "[v6]:port" for IPv6. The one place a host and a port become
// text (log records, cache keys, error messages, [resolve] keys): an IPv6 literal without
// brackets would read as a longer address.
std::string format_host_port(std::string_view host, std::uint16_t port);
inline std::string format_host_port(const HostPort& hp) {
  return format_host_port(hp.host, hp.port);
}
// The authority of a URL or a Host header: as format_host_port, but without ":port" when it
// is the scheme's (`scheme_port`: 80 for http, 443 for https): "example.com", "[::1]:8443".
std::string format_url_authority(std::string_view host, std::uint16_t port,
                                 std::uint16_t scheme_port);

// An IP address as 16 bytes: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that IPv4 and
// IPv4-mapped IPv6 compare equal everywhere.
using IpBytes = std::array<std::uint8_t, 16>;

// Parses an IPv4 or IPv6 literal; brackets and an IPv6 zone ("%eth0") are accepted and ignored.
std::optional<IpBytes> parse_ip(std::string_view text);

// True for IPv4 and IPv6 literals (see parse_ip).
inline bool is_ip_literal(std::string_view text) { return parse_ip(text).has_value(); }

struct Cidr {
  IpBytes network{};  // host bits cleared
  int prefix = 0;     // over 128 bits (an IPv4 /8 is stored as /104)
  bool v4 = false;    // written as IPv4
  std::string text;   // as written
};

// "10.0.0.0/8", "::1/128", "192.168.1.7" (a single host: /32 or /128). Host bits under the
// mask are cleared rather than rejected (as ip route does).
Parsed<Cidr> parse_cidr(std::string_view text);

// True when the address (IPv4, IPv6 or IPv4-mapped IPv6, brackets allowed) is in the CIDR.
// An address that is not an IP literal is never contained.
bool cidr_contains(const Cidr& cidr, std::string_view address);
// The same for an address already in bytes (the proxy's accepted sockets: no text round trip).
bool cidr_contains(const Cidr& cidr, const IpBytes& address);

// The proxy's client check: loopback clients are always allowed (local use keeps working
// when a LAN is added); others only when an `allow` CIDR contains them. Empty allow =
// loopback only (DESIGN.md section 5, "safe by default").
bool client_allowed(const std::vector<Cidr>& allow, std::string_view address);
bool client_allowed(const std::vector<Cidr>& allow, const IpBytes& address);

// Startup check on the merged config and flags: empty when `listen` is a loopback address or
// `allow` is non-empty; otherwise a one-line reason naming --allow. Also reports an unparsable
// listen address (port 0 is fine: parse_listen_address) or CIDR.
std::string listen_policy_error(std::string_view listen, const std::vector<std::string>& allow);

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104; also the name "localhost", because a listen
// address of "localhost:8080" only ever binds loopback.
bool is_loopback(std::string_view address);
bool is_loopback(const IpBytes& address);

// "10s", "500ms", "5m", "1h", or a bare non-negative integer (seconds). Whitespace is not
// accepted. Zero is accepted here; callers that need a positive value check it.
Parsed<Duration> parse_duration(std::string_view text);

// "https://host[:port][/path]" or "http://…"; the port defaults to the scheme's.
struct Url {
  std::string scheme;  // "http" or "https"
  HostPort authority;
  std::string path;  // "/" when absent
};
Parsed<Url> parse_url(std::string_view text);

}  // namespace tlsprobe::config
