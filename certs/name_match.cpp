#include "certs/name_match.hpp"

#include "certs/ascii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace tlsprobe::certs {
namespace {

std::string_view strip_trailing_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

std::string_view strip_brackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

// Address bytes (4 or 16) of an IP literal, or nullopt. "[::1]" is accepted for IPv6.
std::optional<std::string> ip_bytes(std::string_view text) {
  text = strip_brackets(text);
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string z(text);  // inet_pton needs NUL termination; embedded NULs fail below
  if (z.find('\0') != std::string::npos) return std::nullopt;
  unsigned char buf[16];
  if (inet_pton(AF_INET, z.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, z.c_str(), buf) == 1)
    return std::string(reinterpret_cast<char*>(buf), 16);
  return std::nullopt;
}

}  // namespace

bool is_ip_literal(std::string_view host) { return ip_bytes(host).has_value(); }

bool dns_pattern_matches(std::string_view pattern_in, std::string_view host_in) {
  std::string pattern = ascii_lower(strip_trailing_dot(pattern_in));
  std::string host = ascii_lower(strip_trailing_dot(host_in));
  if (pattern.empty() || host.empty()) return false;
  // An embedded NUL ("good.com\0.evil.com") or an empty label never matches.
  if (pattern.find('\0') != std::string::npos || host.find('\0') != std::string::npos) return false;
  if (host.find("..") != std::string::npos || host.front() == '.') return false;
  if (host.find('*') != std::string::npos) return false;  // hosts never contain wildcards

  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    std::string_view rest = std::string_view(pattern).substr(2);
    // Only one wildcard, and not directly above a top-level label ("*.com").
    if (rest.find('*') != std::string_view::npos) return false;
    if (rest.find('.') == std::string_view::npos) return false;
    if (rest.find("..") != std::string_view::npos || rest.front() == '.') return false;
    // Wildcards never match IP addresses.
    if (is_ip_literal(host)) return false;
    auto dot = host.find('.');
    if (dot == std::string::npos || dot == 0) return false;
    // The wildcard covers exactly the first label: the rest must be equal.
    return std::string_view(host).substr(dot + 1) == rest;
  }
  // Any other '*' is a partial or misplaced wildcard ("f*.example.com", "a.*.com"):
  // browsers reject those, so do we.
  if (pattern.find('*') != std::string::npos) return false;
  return pattern == host;
}

bool matches_host(const Certificate& cert, std::string_view host) {
  host = strip_trailing_dot(host);
  if (host.empty()) return false;
  if (auto addr = ip_bytes(host)) {
    // IP targets match iPAddress SANs only (never a dNSName that spells the address).
    return std::any_of(cert.ip_names().begin(), cert.ip_names().end(),
                       [&](const std::string& ip) { return ip_bytes(ip) == addr; });
  }
  return std::any_of(cert.dns_names().begin(), cert.dns_names().end(),
                     [&](const std::string& p) { return dns_pattern_matches(p, host); });
}

}  // namespace tlsprobe::certs
