#include "config/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tlsprobe::config {
namespace {

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// Parses a decimal port. Port 0 is refused unless `zero_ok`: it is never a destination, and
// only a listen address may ask the OS for a free port (scripts and tests read the bound
// port from the startup line).
Parsed<std::uint16_t> parse_port(std::string_view s, bool zero_ok) {
  if (s.empty()) return Parsed<std::uint16_t>::fail("missing port after ':'");
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Parsed<std::uint16_t>::fail("port is not a number");
    v = v * 10 + static_cast<unsigned long>(c - '0');
    if (v > 65535) return Parsed<std::uint16_t>::fail("port out of range 1-65535");
  }
  if (v == 0 && !zero_ok) return Parsed<std::uint16_t>::fail("port 0 is not allowed");
  Parsed<std::uint16_t> p;
  p.value = static_cast<std::uint16_t>(v);
  return p;
}

Parsed<HostPort> parse_authority(std::string_view text, std::uint16_t default_port,
                                 bool zero_port_ok) {
  using P = Parsed<HostPort>;
  if (text.empty()) return P::fail("empty address");
  HostPort hp;
  std::string_view rest;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return P::fail("missing ']' after IPv6 address");
    std::string_view inside = text.substr(1, close - 1);
    auto ip = parse_ip(inside);
    if (!ip || inside.find(':') == std::string_view::npos)
      return P::fail("not an IPv6 address inside brackets");
    hp.host = std::string(inside);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return P::fail("unexpected text after ']'");
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos)
      return P::fail("IPv6 addresses must be written in brackets, e.g. [::1]:8080");
    std::string_view host = text.substr(0, colon);
    if (host.empty()) return P::fail("missing host before ':'");
    if (host.size() > 253) return P::fail("host name longer than 253 characters");
    for (char c : host)
      if (!is_host_char(c)) return P::fail("invalid character in host name");
    hp.host = std::string(host);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) {
    if (default_port == 0) return P::fail("missing port (expected HOST:PORT)");
    hp.port = default_port;
  } else {
    auto port = parse_port(rest.substr(1), zero_port_ok);
    if (!port) return P::fail(port.error);
    hp.port = *port;
  }
  P out;
  out.value = std::move(hp);
  return out;
}

}  // namespace

Parsed<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port) {
  return parse_authority(text, default_port, false);
}

Parsed<HostPort> parse_listen_address(std::string_view text, std::uint16_t default_port) {
  return parse_authority(text, default_port, true);
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  out.reserve(host.size() + 8);
  const bool bracket = host.find(':') != std::string_view::npos && host.front() != '[';
  if (bracket) out += '[';
  out += host;
  if (bracket) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string format_url_authority(std::string_view host, std::uint16_t port,
                                 std::uint16_t scheme_port) {
  if (port != scheme_port) return format_host_port(host, port);
  const bool bracket = host.find(':') != std::string_view::npos && host.front() != '[';
  if (!bracket) return std::string(host);
  std::string out = "[";  // appended: GCC 12's -Wrestrict misfires on `"[" + std::string&&`
  out += host;
  out += ']';
  return out;
}

std::optional<IpBytes> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  // A zone id names an interface, not a different address: ignore it for comparisons.
  if (auto pct = text.find('%'); pct != std::string_view::npos && text.find(':') < pct)
    text = text.substr(0, pct);
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpBytes out{};
  if (text.find(':') == std::string_view::npos) {
    in_addr a4{};
    if (inet_pton(AF_INET, buf, &a4) != 1) return std::nullopt;
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    return out;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, buf, &a6) != 1) return std::nullopt;
  std::memcpy(out.data(), &a6, 16);
  return out;
}

Parsed<Cidr> parse_cidr(std::string_view text) {
  using P = Parsed<Cidr>;
  Cidr c;
  c.text = std::string(text);
  std::string_view addr = text;
  std::optional<int> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    int v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || v < 0)
      return P::fail("prefix length is not a number");
    prefix = v;
  }
  auto ip = parse_ip(addr);
  if (!ip) return P::fail("not an IP address (expected e.g. 10.0.0.0/8 or fd00::/8)");
  c.v4 = addr.find(':') == std::string_view::npos;
  int max = c.v4 ? 32 : 128;
  if (prefix && *prefix > max)
    return P::fail(c.v4 ? "prefix length above 32" : "prefix length above 128");
  c.prefix = (c.v4 ? 96 : 0) + prefix.value_or(max);
  c.network = *ip;
  for (int bit = c.prefix; bit < 128; ++bit)
    c.network[static_cast<std::size_t>(bit / 8)] &=
        static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  P out;
  out.value = std::move(c);
  return out;
}

bool cidr_contains(const Cidr& cidr, std::string_view address) {
  auto ip = parse_ip(address);
  return ip && cidr_contains(cidr, *ip);
}

bool cidr_contains(const Cidr& cidr, const IpBytes& address) {
  for (int bit = 0; bit < cidr.prefix; ++bit) {
    auto i = static_cast<std::size_t>(bit / 8);
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((address[i] & mask) != (cidr.network[i] & mask)) return false;
  }
  return true;
}

bool is_loopback(std::string_view address) {
  if (address == "localhost") return true;
  auto ip = parse_ip(address);
  return ip && is_loopback(*ip);
}

bool is_loopback(const IpBytes& ip) {
  static const IpBytes v6_loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (ip == v6_loopback) return true;
  // IPv4 (stored mapped) 127.0.0.0/8.
  for (int i = 0; i < 10; ++i)
    if (ip[static_cast<std::size_t>(i)] != 0) return false;
  return ip[10] == 0xff && ip[11] == 0xff && ip[12] == 127;
}

bool client_allowed(const std::vector<Cidr>& allow, std::string_view address) {
  if (is_loopback(address)) return true;
  auto ip = parse_ip(address);
  return ip && client_allowed(allow, *ip);
}

bool client_allowed(const std::vector<Cidr>& allow, const IpBytes& address) {
  if (is_loopback(address)) return true;
  for (const auto& c : allow)
    if (cidr_contains(c, address)) return true;
  return false;
}

std::string listen_policy_error(std::string_view listen, const std::vector<std::string>& allow) {
  auto hp = parse_listen_address(listen, 8080);
  if (!hp) return "listen address \"" + std::string(listen) + "\": " + hp.error;
  for (const auto& a : allow)
    if (auto c = parse_cidr(a); !c) return "allow \"" + a + "\": " + c.error;
  if (is_loopback(hp->host) || !allow.empty()) return {};
  return "refusing to listen on non-loopback address " + format_host_port(*hp) +
         " without --allow CIDR (or `allow` in the config): anyone who can reach it could use "
         "the proxy";
}

Parsed<Duration> parse_duration(std::string_view text) {
  using P = Parsed<Duration>;
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (v > 100'000'000'000ull) return P::fail("duration too large");
    ++i;
  }
  if (i == 0) return P::fail("duration must start with a number (e.g. \"10s\", \"500ms\")");
  std::string_view unit = text.substr(i);
  std::uint64_t ms = 0;
  if (unit.empty() || unit == "s")
    ms = v * 1000;
  else if (unit == "ms")
    ms = v;
  else if (unit == "m")
    ms = v * 60'000;
  else if (unit == "h")
    ms = v * 3'600'000;
  else
    return P::fail("unknown duration unit (use ms, s, m or h)");
  P out;
  out.value = Duration(static_cast<Duration::rep>(ms));
  return out;
}

Parsed<Url> parse_url(std::string_view text) {
  using P = Parsed<Url>;
  Url u;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return P::fail("URL must start with https:// or http://");
  std::string scheme(text.substr(0, sep));
  for (auto& ch : scheme) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (scheme != "https" && scheme != "http") return P::fail("URL scheme must be https or http");
  u.scheme = scheme;
  std::string_view rest = text.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos)
    return P::fail("user information in the URL is not supported");
  auto hp = parse_host_port(authority, scheme == "https" ? 443 : 80);
  if (!hp) return P::fail("URL authority: " + hp.error);
  u.authority = *hp;
  P out;
  out.value = std::move(u);
  return out;
}

}  // namespace tlsprobe::config
