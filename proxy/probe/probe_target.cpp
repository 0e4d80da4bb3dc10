#include "proxy/probe/probe_target.hpp"

#include "certs/ascii.hpp"

#include <algorithm>
#include <cctype>

namespace tlsprobe::proxy {

namespace {

// "443" -> 443; nullopt for anything but 1..65535 in decimal digits.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// Host names: letters, digits, '-', '_', '.', and '*' is refused (a probe needs a real name).
bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

ParsedHostPort fail(std::string text) {
  ParsedHostPort out;
  out.error = std::move(text);
  return out;
}

ParsedHostPort split(std::string_view text, std::optional<std::uint16_t> default_port,
                     std::string_view what) {
  const std::string shown(text);
  std::string host;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      return fail(std::string(what) + ": missing ']' in '" + shown + "'");
    host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail(std::string(what) + ": unexpected text after ']' in '" + shown + "'");
      port_text = rest.substr(1);
      has_port = true;
    }
    if (!config::is_ip_literal(host))
      return fail(std::string(what) + ": '" + host + "' is not an IPv6 address");
  } else {
    const auto colons = std::count(text.begin(), text.end(), ':');
    if (colons > 1) {
      host = std::string(text);  // a bare IPv6 literal: no port possible without brackets
      if (!config::is_ip_literal(host))
        return fail(std::string(what) + ": '" + shown + "' is not a host[:port]");
    } else if (colons == 1) {
      const auto colon = text.find(':');
      host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
      has_port = true;
    } else {
      host = std::string(text);
    }
  }
  if (host.empty()) return fail(std::string(what) + ": no host in '" + shown + "'");
  host = certs::ascii_lower(host);
  if (!config::is_ip_literal(host) && !valid_host_name(host))
    return fail(std::string(what) + ": '" + host + "' is not a valid host name");
  HostPort hp;
  hp.host = host;
  if (has_port) {
    const auto port = parse_port(port_text);
    if (!port)
      return fail(std::string(what) + ": bad port '" + std::string(port_text) + "' in '" + shown +
                  "' (1-65535)");
    hp.port = *port;
  } else if (default_port) {
    hp.port = *default_port;
  } else {
    return fail(std::string(what) + ": '" + shown + "' needs a port (ADDR:PORT)");
  }
  ParsedHostPort out;
  out.value = hp;
  return out;
}

}  // namespace

ParsedHostPort parse_target(std::string_view text, std::uint16_t default_port) {
  std::string_view rest = text;
  const auto scheme = rest.find("://");
  if (scheme != std::string_view::npos) {
    if (certs::ascii_lower(rest.substr(0, scheme)) != "https")
      return fail("target '" + std::string(text) + "': only https:// URLs can be probed");
    rest = rest.substr(scheme + 3);
    const auto slash = rest.find_first_of("/?#");
    if (slash != std::string_view::npos) rest = rest.substr(0, slash);
    if (rest.find('@') != std::string_view::npos)
      return fail("target '" + std::string(text) + "': user info is not supported");
  }
  return split(rest, default_port, "target");
}

ParsedHostPort parse_address_port(std::string_view text) {
  return split(text, std::nullopt, "address");
}

std::string resolve_override(const std::map<std::string, std::string>& resolve,
                             std::string_view host, std::uint16_t port) {
  auto it = resolve.find(config::format_host_port(host, port));
  if (it == resolve.end()) it = resolve.find(std::string(host));  // host-only key
  if (it == resolve.end()) return {};
  if (parse_address_port(it->second).value) return it->second;
  return config::format_host_port(it->second, port);
}

}  // namespace tlsprobe::proxy
