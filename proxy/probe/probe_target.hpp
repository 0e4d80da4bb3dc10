// Parsing what a user types as a probe target or an address: "host", "host:port",
// "[v6]:port", "https://host[:port]/". No sockets here: the CLI, the config and the
// prober share these rules, and the error text is one line a person can act on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

struct HostPort {
  std::string host;  // lower-cased name, or an IP literal without brackets
  std::uint16_t port = 443;
  // "host:port", "[v6]:port" for IPv6 literals.
  std::string text() const;
};

struct ParsedHostPort {
  std::optional<HostPort> value;
  std::string error;  // one line when `value` is empty
};

// TARGET as DESIGN section 4 has it: host[:port] or https://host[:port][/...].
ParsedHostPort parse_target(std::string_view text, std::uint16_t default_port = 443);
// ADDR:PORT where the port is required (--connect, --origin, --edge, [resolve] values).
ParsedHostPort parse_address_port(std::string_view text);
// "443" -> 443; nullopt for anything but 1..65535 in decimal digits.
std::optional<std::uint16_t> parse_port(std::string_view text);

}  // namespace tlsprobe::proxy
