#include "probe_flags.hpp"

#include "certs/name_match.hpp"
#include "proxy/probe/probe_target.hpp"

namespace tlsprobe::tools {

std::optional<ResolveEntry> parse_resolve_flag(std::string_view text, std::string& error) {
  const std::string shown = "--resolve '" + std::string(text) + "'";
  // HOST never holds a colon (curl takes names here); the port ends at the second colon.
  const auto first = text.find(':');
  const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
  if (second == std::string_view::npos) {
    error = shown + ": expected HOST:PORT:ADDR (example.com:443:127.0.0.1)";
    return std::nullopt;
  }
  const auto host_port = proxy::parse_target(text.substr(0, second));
  if (!host_port.value || text.substr(first + 1, second - first - 1).empty()) {
    error = shown + ": " + (host_port.value ? "no port" : host_port.error);
    return std::nullopt;
  }
  std::string address(text.substr(second + 1));
  if (const auto comma = address.find(','); comma != std::string::npos) address.erase(comma);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  if (!certs::is_ip_literal(address)) {
    error = shown + ": '" + address + "' is not an IP address (HOST:PORT:ADDR)";
    return std::nullopt;
  }
  ResolveEntry entry;
  entry.key = config::format_host_port(*host_port.value);
  entry.address = address;
  return entry;
}

}  // namespace tlsprobe::tools
