// ASCII-only case folding, the one copy for every library above certs (inspect, proxy, tools).
//
// Everything folded here is protocol text whose case rules are ASCII by definition: DNS names
// (RFC 4343; internationalized names travel as A-labels), HTTP header names, tokens and URL
// schemes (RFC 9110, RFC 3986), hex digits, OpenSSL's status names. Only 'A'-'Z' change: bytes
// >= 0x80 are left alone, so a hostile name cannot fold into another one, and the result does
// not depend on the C locale (std::tolower does).
//
// config/ keeps its own copy (config/load.cpp): it is a separate library that must not depend on
// certs.
#pragma once

#include <string>
#include <string_view>

namespace tlsprobe::certs {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Equal but for ASCII letter case ("Max-Age" and "max-age").
constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// `s` begins with `prefix`, ASCII letter case ignored ("HTTP://x" begins with "http://").
constexpr bool ascii_istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace tlsprobe::certs
