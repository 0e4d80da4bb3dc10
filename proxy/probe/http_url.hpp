// A plain http:// URL as certificates name them (AIA caIssuers, OCSP responders, CRL
// distribution points), and where a redirect from one leads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

// An http:// URL split into what a request needs. nullopt + error for anything else.
struct HttpUrl {
  std::string host;  // name or IP literal, without brackets
  std::uint16_t port = 80;
  std::string target;  // "/path?query" (never empty)
  std::string text() const;
};
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string& error);
// Where a Location header sends a request for `base`: absolute http(s) URL, "//host/path",
// "/path" or a relative path. Returns the absolute URL text (may be https: callers refuse it).
std::string resolve_location(const HttpUrl& base, std::string_view location);

}  // namespace tlsprobe::proxy
