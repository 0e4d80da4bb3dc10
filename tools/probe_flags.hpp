// Parsing the probe flags borrowed from curl: `--resolve HOST:PORT:ADDR` (repeatable).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::tools {

struct ResolveEntry {
  std::string key;      // "host:port" (lower case), as the prober's resolve map keys it
  std::string address;  // an IP literal, without brackets
};

// curl's syntax: HOST:PORT:ADDR, ADDR an IP address, IPv6 in brackets or bare
// ("example.com:443:[::1]", "example.com:443:::1"); a comma-separated list of addresses
// is accepted and its first is used. nullopt with a one-line `error` otherwise.
std::optional<ResolveEntry> parse_resolve_flag(std::string_view text, std::string& error);

}  // namespace tlsprobe::tools
