#include "proxy/probe/http_url.hpp"

#include "certs/ascii.hpp"
#include "config/address.hpp"
#include "proxy/probe/probe_target.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

std::string HttpUrl::text() const {
  return "http://" + config::format_host_port(host, port) + target;
}

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string& error) {
  const std::string scheme =
      certs::ascii_lower(url.substr(0, std::min<std::size_t>(url.size(), 8)));
  if (scheme.rfind("http://", 0) != 0) {
    error = "not fetched: only http:// caIssuers URLs are fetched (as Chrome does)";
    return std::nullopt;
  }
  std::string_view rest = url.substr(7);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  std::string target(end == std::string_view::npos ? std::string_view("/") : rest.substr(end));
  if (target.front() == '?') target.insert(target.begin(), '/');
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    error = "not a usable http URL (no host, or user info in it)";
    return std::nullopt;
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      error = "not a usable http URL (control character or space in the path)";
      return std::nullopt;
    }
  }
  // host[:port] or [v6][:port]; the port defaults to 80.
  const auto parsed = parse_target(authority, 80);
  if (!parsed.value) {
    error = "not a usable http URL: " + parsed.error;
    return std::nullopt;
  }
  HttpUrl u;
  u.host = parsed.value->host;
  u.port = parsed.value->port;
  u.target = std::move(target);
  return u;
}

std::string resolve_location(const HttpUrl& base, std::string_view location) {
  const std::string l =
      certs::ascii_lower(location.substr(0, std::min<std::size_t>(location.size(), 8)));
  if (l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0) return std::string(location);
  if (location.rfind("//", 0) == 0) return "http:" + std::string(location);
  HttpUrl next = base;
  if (!location.empty() && location.front() == '/') {
    next.target = std::string(location);
  } else {
    std::string dir = base.target.substr(0, base.target.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    next.target = dir + std::string(location);
  }
  return next.text();
}

}  // namespace tlsprobe::proxy
