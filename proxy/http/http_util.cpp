#include "proxy/http/http_util.hpp"

#include "certs/ascii.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace tlsprobe::proxy {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_reg_name(std::string_view host) {
  // RFC 3986 reg-name characters we accept in a host: letters, digits, '-', '.', '_'.
  return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

// Canonical RFC 4648 base64 only (section 3.5): whole 4-character groups, at most two '='
// and only at the end, and no stray bits in the last character. Anything else is false, so
// "dXNlcjpwYXNz" with trailing characters, extra padding or bits is not the same credentials.
bool base64_decode(std::string_view in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  std::size_t padding = 0;
  while (!in.empty() && in.back() == '=' && padding < 3) {
    in.remove_suffix(1);
    ++padding;
  }
  if (padding > 2) return false;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;  // the padding bits must be zero
}

}  // namespace

std::optional<HostPort> parse_authority(std::string_view text, std::uint16_t default_port) {
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address_v6(out.host, ec);
    if (ec) return std::nullopt;
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) return std::nullopt;  // bare v6
    out.host = certs::ascii_lower(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (!valid_reg_name(out.host)) return std::nullopt;
  }
  if (rest.empty()) {
    if (default_port == 0) return std::nullopt;
    out.port = default_port;
    return out;
  }
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
  unsigned port = 0;
  const auto digits = rest.substr(1);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || port == 0 || port > 65535)
    return std::nullopt;
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

std::optional<AbsoluteTarget> parse_absolute_target(std::string_view target) {
  const auto sep = target.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  AbsoluteTarget out;
  out.scheme = certs::ascii_lower(target.substr(0, sep));
  std::uint16_t default_port = 0;
  if (out.scheme == "http")
    default_port = 80;
  else if (out.scheme == "https")
    default_port = 443;
  else
    return std::nullopt;
  auto rest = target.substr(sep + 3);
  const auto path_start = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  auto parsed = parse_authority(authority, default_port);
  if (!parsed) return std::nullopt;
  out.authority = std::move(*parsed);
  const auto path =
      path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  // "http://h?q" has an empty path: the origin form is then "/?q" (RFC 9112 section 3.2.1).
  if (path.empty() || path.front() != '/') out.origin_form.push_back('/');
  out.origin_form.append(path.data(), path.size());
  if (const auto hash = out.origin_form.find('#'); hash != std::string::npos)
    out.origin_form.erase(hash);  // fragments are never sent (RFC 9110 section 4.2.5)
  return out;
}

bool basic_auth_matches(std::string_view header_value, std::string_view user_colon_password) {
  auto v = trim(header_value);
  const auto space = v.find(' ');
  if (space == std::string_view::npos || certs::ascii_lower(v.substr(0, space)) != "basic")
    return false;
  const auto encoded = trim(v.substr(space + 1));
  std::string decoded;
  if (!base64_decode(encoded, decoded)) return false;
  // Constant-time over the expected length so the answer's timing does not leak a prefix.
  unsigned char diff = decoded.size() == user_colon_password.size() ? 0 : 1;
  for (std::size_t i = 0; i < user_colon_password.size(); ++i) {
    const char got = i < decoded.size() ? decoded[i] : '\0';
    diff |= static_cast<unsigned char>(got ^ user_colon_password[i]);
  }
  return diff == 0;
}

void strip_hop_by_hop(http::fields& fields) {
  // Headers named in Connection are hop-by-hop too (RFC 9110 section 7.6.1).
  std::vector<std::string> named;
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      const auto comma = v.find(',');
      auto token = trim(v.substr(0, comma));
      if (!token.empty()) named.emplace_back(token);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
  }
  for (const auto& n : named) fields.erase(n);
  for (const auto f :
       {http::field::connection, http::field::proxy_connection, http::field::keep_alive,
        http::field::te, http::field::trailer, http::field::transfer_encoding, http::field::upgrade,
        http::field::proxy_authorization, http::field::proxy_authenticate})
    fields.erase(f);
}

bool via_names_us(std::string_view via_value, std::string_view token) {
  // Via: 1.1 tlsprobe-1a2b3c4d, 1.0 other (RFC 9110 section 7.6.3): compare each
  // received-by field exactly, so "tlsprobe-1a2b3c4d0" does not count.
  while (!via_value.empty()) {
    const auto comma = via_value.find(',');
    auto entry = trim(via_value.substr(0, comma));
    const auto space = entry.find(' ');
    if (space != std::string_view::npos) {
      auto by = trim(entry.substr(space + 1));
      by = by.substr(0, by.find_first_of(" \t("));
      if (by == token) return true;
    }
    via_value = comma == std::string_view::npos ? std::string_view{} : via_value.substr(comma + 1);
  }
  return false;
}

std::string error_response(http::status status, std::string_view reason) {
  std::string body(reason);
  body.push_back('\n');
  std::string out = "HTTP/1.1 ";
  out += std::to_string(static_cast<unsigned>(status));
  out += ' ';
  out += std::string(http::obsolete_reason(status));
  out += "\r\nServer: tlsprobe\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nConnection: close\r\n";
  if (status == http::status::proxy_authentication_required)
    out += "Proxy-Authenticate: Basic realm=\"tlsprobe\"\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace tlsprobe::proxy
