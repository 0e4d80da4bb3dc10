// HTTP-level checks on one exchange seen by the proxy: http.mixed_content, http.hsts_missing,
// http.no_https_redirect, http.redirect_not_permanent (DESIGN.md section 3). Pure.
//
// Decisions:
// - http.hsts_missing is reported for every HTTPS response with a final status (>= 200),
//   redirects to another host and error pages included: browsers honour
//   Strict-Transport-Security on any secure response (RFC 6797 §8.1), the redirecting apex
//   (example.com -> www) is exactly the name users type and where a first-visit downgrade
//   happens, and hstspreload.org requires the header there. A header with max-age=0 (which
//   removes the policy) counts as missing (evidence "hsts" keeps the value).
// - http.no_https_redirect: a plain-HTTP response (status >= 200) that is not a 3xx with a
//   Location of https:// on the same host (ports ignored, names compared case-insensitively).
//   A redirect to http:// (e.g. adding a slash) or to another host's https is reported too,
//   with evidence "location": only one exchange is seen, so a later hop cannot be credited.
// - http.redirect_not_permanent: the same-host https redirect is 302, 303 or 307.
// - http.mixed_content: only HTTPS responses whose Content-Type is text/html or
//   application/xhtml+xml; the body is decoded from gzip/x-gzip/deflate (zlib-wrapped or raw)
//   up to max_decoded_bytes; other codings (br, zstd) are not scanned. Not reported: pages
//   whose Content-Security-Policy header (not -Report-Only) says upgrade-insecure-requests,
//   what a meta CSP upgrades, and http:// URLs of hosts HSTS covers (the page's own header:
//   its host, and its subdomains with includeSubDomains; plus options.hsts_memory). The
//   finding says which of the rest Chrome auto-upgrades (images, audio, video), blocks
//   (scripts, frames, stylesheets…) or warns about (forms); see html_scan.hpp.
// - http.mixed_content also for an HTTPS subresource that redirects to http:// (a favicon
//   moved to a plain-HTTP CDN): a 3xx whose Location is http://, for a request whose
//   Sec-Fetch-Dest is a subresource destination (not "document"), or without that header
//   for a path that names a static file (favicon.ico, .js, .css, images, fonts, media).
#pragma once

#include "inspect/finding.hpp"
#include "inspect/hsts_memory.hpp"
#include "inspect/html_scan.hpp"
#include "inspect/http_exchange.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::inspect {

struct HttpCheckOptions {
  std::size_t max_decoded_bytes = 2 * 1024 * 1024;  // decompression output bound (zip bombs)
  std::size_t max_resources = 50;                   // URLs listed in evidence["resources"]
  // false: every URL a finding shows (page, Location, subresources) loses its query and
  // fragment, which may hold secrets (inspect/url_query.hpp); true: shown as seen.
  bool keep_query = false;
  // HSTS policies seen earlier in this session (the proxy's); http:// subresources of hosts
  // it covers are upgraded by the browser and not reported. nullptr: only the page's own
  // Strict-Transport-Security header counts.
  const HstsMemory* hsts_memory = nullptr;
};

Findings check_http(const HttpExchange& exchange, const HttpCheckOptions& options);

// Decodes a body per a Content-Encoding header value ("gzip", "deflate", "x-gzip",
// "identity", or a comma-separated list applied in order). Output stops at max_bytes
// (`truncated` set). Corrupt or cut-off compressed data yields what decoded before the
// fault. nullopt for a coding it cannot decode (br, zstd, compress…).
struct DecodedBody {
  std::string text;
  bool truncated = false;  // output bound reached
  bool corrupt = false;    // the compressed stream was invalid or ended early
};
std::optional<DecodedBody> decode_body(std::string_view body, std::string_view content_encoding,
                                       std::size_t max_bytes);

}  // namespace tlsprobe::inspect
