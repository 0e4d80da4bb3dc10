// Whether a plain-HTTP exchange is a page load: what http.no_https_redirect and
// http.redirect_not_permanent judge (forward mode). check_http judges whatever it is
// given, and DESIGN only says "a plain-HTTP request answered without a redirect to https",
// so the proxy hands it only what a browser's address bar would load, the thing a site
// redirects to HTTPS. Pure.
#pragma once

#include "inspect/http_exchange.hpp"

#include <string_view>

namespace tlsprobe::proxy {

// - GET only: a POST answered 200 is the result of a form or an API call (redirecting it
//   would drop the body), and HEAD/OPTIONS/PUT… come from tools, not from visitors.
// - 2xx only when the body is HTML: images, scripts and JSON are subresources or API
//   answers; the page that loads them is the one judged (and flagged).
// - 3xx only with a Location, whatever its body type: where the name sends the visitor
//   is exactly what both findings are about (a redirect to another http:// URL stays
//   no_https_redirect). A 304 (revalidation) or a 300 without Location is no answer.
// - 1xx/4xx/5xx: an error or a missing page says nothing about the site's HTTPS policy.
// Whether the host serves HTTPS at all is not checked: a site without HTTPS is exactly one
// whose plain pages deserve the warning, and probing it would cost a connection per host.
bool is_page_load(const inspect::HttpExchange& exchange);

// "text/html" or "application/xhtml+xml", parameters, case and spaces aside.
bool is_html_type(std::string_view content_type);

}  // namespace tlsprobe::proxy
