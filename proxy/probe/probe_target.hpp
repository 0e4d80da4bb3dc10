// Parsing what a user types as a probe target or an address: "host", "host:port",
// "[v6]:port", "https://host[:port]/". No sockets here: the CLI, the config and the
// prober share these rules, and the error text is one line a person can act on.
#pragma once

#include "config/address.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

// What a target parses to: config's HostPort (the one host:port type), or a one-line error.
using config::HostPort;
using ParsedHostPort = config::Parsed<config::HostPort>;

// TARGET as DESIGN section 4 has it: host[:port] or https://host[:port][/...].
ParsedHostPort parse_target(std::string_view text, std::uint16_t default_port = 443);
// ADDR:PORT where the port is required (--connect, --origin, --edge, [resolve] values).
ParsedHostPort parse_address_port(std::string_view text);

// The [resolve] override for host:port (keys "host:port", "[v6]:port", then the host-only
// key "host"), as "ADDR:PORT" to
// dial; a value without a port gets `port`. Empty when there is none.
std::string resolve_override(const std::map<std::string, std::string>& resolve,
                             std::string_view host, std::uint16_t port);

}  // namespace tlsprobe::proxy
