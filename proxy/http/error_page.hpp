// The page the intercepting proxy serves (HTTP 502) instead of upstream content when the
// upstream failed verification under the `explain` policy, or no TLS connection could be
// made to it. Pure: findings in, response out; unit-tested (tests/intercept/error_page_test).
//
// It states each finding (code, severity, message, remedy, the evidence a person needs) and
// the upstream leaf's names and validity dates. Every string that came from a certificate,
// a finding or the client is HTML-escaped (HTML) or stripped of control characters (text):
// certificate fields are attacker-controlled.
#pragma once

#include "certs/certificate.hpp"
#include "inspect/finding.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlsprobe::proxy {

struct ErrorPage {
  int status = 502;
  std::string content_type;  // "text/html; charset=utf-8" or "text/plain; charset=utf-8"
  std::string body;
  // Sent with the page, whoever serves it (intercept explain, reverse refusal): the page is
  // served under a name the browser trusts, so it must not run, load or leak anything.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The one link the page carries: the tlsprobe CA page, answered by the proxy itself.
inline constexpr std::string_view kErrorPageCaLink = "http://tlsprobe.ca/";

// True when an Accept header value lists text/html (or application/xhtml+xml) with q > 0.
// Browsers send it; curl ("*/*") and most libraries do not, and get plain text.
bool accepts_html(std::string_view accept_header);

// `host` is the name the client asked for; `leaf` the upstream leaf, null when none was seen
// (handshake failure).
ErrorPage render_error_page(const inspect::Findings& findings, bool html, std::string_view host,
                            const certs::Certificate* leaf = nullptr);

// HTML-escapes & < > " ' (exposed for tests).
std::string html_escape(std::string_view text);

}  // namespace tlsprobe::proxy
