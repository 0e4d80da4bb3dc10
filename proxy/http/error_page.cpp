#include "proxy/http/error_page.hpp"

#include "certs/ascii.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Certificate and finding text for the plain-text page: escape_for_display() turns control
// and bidi characters into visible escapes, so a hostile subject cannot rewrite a terminal.
std::string plain(std::string_view s) { return certs::escape_for_display(s); }

// For HTML: the display escaping first (bidi overrides become visible), then HTML escaping.
std::string safe_html(std::string_view s) { return html_escape(certs::escape_for_display(s)); }

// Evidence keys worth showing to a person, in this order (the rest stays in the log).
constexpr std::string_view kShownEvidence[] = {
    "position",      "not_after", "not_before",     "days_expired", "missing_issuer", "aia_url",
    "root",          "names",     "requested_name", "hint",         "closest_name",   "sni",
    "openssl_error", "alert",     "detail",         "resources",    "subject"};

std::string join_names(const certs::Certificate& c) {
  std::string out;
  for (const auto& n : c.names()) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool accepts_html(std::string_view accept_header) {
  std::string_view rest = accept_header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string type = certs::ascii_lower(trim(item.substr(0, semi)));
    if (type != "text/html" && type != "application/xhtml+xml") continue;
    // "q=0" means "not acceptable" (RFC 9110 section 12.4.2).
    bool refused = false;
    if (semi != std::string_view::npos) {
      std::string params = certs::ascii_lower(item.substr(semi + 1));
      params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
      const auto q = params.find("q=");
      if (q != std::string::npos) {
        const std::string v = params.substr(q + 2, params.find(';', q) - (q + 2));
        refused = !v.empty() &&
                  std::all_of(v.begin(), v.end(), [](char c) { return c == '0' || c == '.'; });
      }
    }
    if (!refused) return true;
  }
  return false;
}

ErrorPage render_error_page(const inspect::Findings& findings, bool html, std::string_view host,
                            const certs::Certificate* leaf) {
  ErrorPage page;
  // Served behind a leaf the browser trusts, for a name an attacker may choose: no script,
  // no loads (only the inline style below), no sniffing the text page into HTML, no caching
  // of the refusal as the site's page, and no Referer that would leak the URL to the CA page.
  page.headers = {{"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"},
                  {"X-Content-Type-Options", "nosniff"},
                  {"Cache-Control", "no-store"},
                  {"Referrer-Policy", "no-referrer"}};
  std::size_t errors = 0;
  for (const auto& f : findings)
    if (f.severity == inspect::Severity::error) ++errors;
  const std::string headline =
      errors > 0 ? "tlsprobe refused to connect you to this site: its TLS setup failed "
                   "verification, so nothing it sent was passed on."
                 : "tlsprobe could not make a verified TLS connection to this site.";
  if (!html) {
    page.content_type = "text/plain; charset=utf-8";
    std::string& b = page.body;
    b += "502 Bad Gateway: " + plain(host) + "\n" + headline + "\n";
    if (leaf) {
      b += "\nCertificate presented by " + plain(host) + ":\n";
      b += "  subject:    " + plain(leaf->subject()) + "\n";
      b += "  issuer:     " + plain(leaf->issuer()) + "\n";
      b += "  names:      " + plain(join_names(*leaf)) + "\n";
      b += "  not before: " + certs::format_rfc3339(leaf->not_before()) + "\n";
      b += "  not after:  " + certs::format_rfc3339(leaf->not_after()) + "\n";
      b += "  sha256:     " + leaf->sha256_hex() + "\n";
    }
    b += "\nFindings:\n";
    for (const auto& f : findings) {
      b += "- [" + std::string(inspect::to_string(f.severity)) + "] " + plain(f.code);
      if (f.browser_shows) b += " (what a browser shows)";
      b += "\n  " + plain(f.message) + "\n";
      for (auto key : kShownEvidence) {
        auto it = f.evidence.find(std::string(key));
        if (it != f.evidence.end() && !it->second.empty())
          b += "  " + std::string(key) + ": " + plain(it->second) + "\n";
      }
      if (!f.remedy.empty()) b += "  remedy: " + plain(f.remedy) + "\n";
    }
    if (findings.empty()) b += "- (none recorded)\n";
    b += "\nThis answer comes from the tlsprobe proxy, not from " + plain(host) + ".\n";
    b += "The tlsprobe CA: " + std::string(kErrorPageCaLink) + "\n";
    return page;
  }

  page.content_type = "text/html; charset=utf-8";
  std::string& b = page.body;
  const std::string h = safe_html(host);
  b += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width\">"
       "<title>tlsprobe: " +
       h +
       " failed TLS verification</title>"
       "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;padding:0 1em;"
       "line-height:1.4}code{background:#f3f3f3;padding:0 .2em}.error{color:#a00}"
       ".warning{color:#a60}.info{color:#555}dt{font-weight:bold}li{margin-bottom:1em}"
       "</style></head><body>\n";
  b += "<h1>502: " + h + "</h1>\n<p>" + html_escape(headline) + "</p>\n";
  if (leaf) {
    b += "<h2>Certificate presented</h2>\n<dl>";
    b += "<dt>Subject</dt><dd>" + safe_html(leaf->subject()) + "</dd>";
    b += "<dt>Issuer</dt><dd>" + safe_html(leaf->issuer()) + "</dd>";
    b += "<dt>Names</dt><dd>" + safe_html(join_names(*leaf)) + "</dd>";
    b += "<dt>Valid from</dt><dd>" + certs::format_rfc3339(leaf->not_before()) + "</dd>";
    b += "<dt>Valid until</dt><dd>" + certs::format_rfc3339(leaf->not_after()) + "</dd>";
    b += "<dt>SHA-256</dt><dd><code>" + leaf->sha256_hex() + "</code></dd></dl>\n";
  }
  b += "<h2>Findings</h2>\n<ul>\n";
  for (const auto& f : findings) {
    const std::string sev(inspect::to_string(f.severity));
    b +=
        "<li><span class=\"" + sev + "\">" + sev + "</span> <code>" + safe_html(f.code) + "</code>";
    if (f.browser_shows) b += " (what a browser shows)";
    b += "<br>" + safe_html(f.message);
    std::string ev;
    for (auto key : kShownEvidence) {
      auto it = f.evidence.find(std::string(key));
      if (it != f.evidence.end() && !it->second.empty())
        ev += "<dt>" + std::string(key) + "</dt><dd>" + safe_html(it->second) + "</dd>";
    }
    if (!ev.empty()) b += "<dl>" + ev + "</dl>";
    if (!f.remedy.empty()) b += "<br><b>Remedy:</b> " + safe_html(f.remedy);
    b += "</li>\n";
  }
  if (findings.empty()) b += "<li>(none recorded)</li>\n";
  b += "</ul>\n<p>This page comes from the tlsprobe proxy, not from " + h +
       ". Nothing the site sent was shown. <a href=\"" + std::string(kErrorPageCaLink) +
       "\">The tlsprobe CA</a> (fetched through the proxy).</p>\n</body></html>\n";
  return page;
}

}  // namespace tlsprobe::proxy
