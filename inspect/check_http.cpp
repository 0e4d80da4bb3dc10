#include "inspect/check_http.hpp"

#include "certs/ascii.hpp"
#include "inspect/codes.hpp"
#include "inspect/url_query.hpp"

#include <zlib.h>

#include <cstdlib>
#include <vector>

namespace tlsprobe::inspect {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The host part of a Host header or URL authority, lower case, without port and trailing dot;
// IPv6 brackets kept.
std::string host_only(std::string_view authority) {
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view h = authority;
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    h = h.substr(0, close == std::string_view::npos ? h.size() : close + 1);
  } else {
    h = h.substr(0, h.find(':'));
  }
  std::string out = certs::ascii_lower(h);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// The authority of an absolute URL after "scheme://" (up to '/', '?' or '#').
std::string_view url_authority(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  url.remove_prefix(sep + 3);
  return url.substr(0, url.find_first_of("/?#"));
}

// One inflate pass (windowBits selects gzip / zlib / raw); appends to out up to max_bytes.
bool inflate_into(std::string_view in, int window_bits, std::size_t max_bytes, DecodedBody& out) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));  // zlib never writes it
  zs.avail_in = static_cast<uInt>(in.size());
  std::vector<char> chunk(16384);
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    std::size_t produced = chunk.size() - zs.avail_out;
    std::size_t room = max_bytes - out.text.size();
    out.text.append(chunk.data(), std::min(produced, room));
    if (produced > room) {
      out.truncated = true;
      break;
    }
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (RFC 1952 §2.2) are legal; decode them too.
      if (zs.avail_in > 0 && window_bits == 15 + 16 && inflateReset(&zs) == Z_OK) continue;
      break;
    }
    if (rc != Z_OK) {  // Z_BUF_ERROR: input ended early (truncated body); others: corrupt
      out.corrupt = true;
      break;
    }
  }
  inflateEnd(&zs);
  return true;
}

std::string page_path(const HttpExchange& ex, const HttpCheckOptions& opt) {
  return shown_url(ex.path, opt.keep_query);
}

std::string page_url(const HttpExchange& ex, const HttpCheckOptions& opt) {
  return (ex.https ? "https://" : "http://") + ex.host + page_path(ex, opt);
}

Finding make(std::string_view code, Severity sev, const HttpExchange& ex,
             const HttpCheckOptions& opt) {
  Finding f;
  f.code = std::string(code);
  f.severity = sev;
  f.role = Role::direct;
  f.subject = ex.host;
  f.evidence["url"] = page_url(ex, opt);
  f.evidence["status"] = std::to_string(ex.status);
  return f;
}

bool is_html(const HttpExchange& ex) {
  auto ct = ex.header("Content-Type");
  if (!ct) return false;
  std::string type = certs::ascii_lower(trim(ct->substr(0, ct->find(';'))));
  return type == "text/html" || type == "application/xhtml+xml";
}

// True when a Content-Security-Policy response header (any of them; -Report-Only never
// enforces) says upgrade-insecure-requests: the browser upgrades every http:// subresource.
bool csp_header_upgrades(const HttpExchange& ex) {
  for (const auto& [name, value] : ex.response_headers)
    if (certs::ascii_lower(name) == "content-security-policy" &&
        csp_upgrades_insecure_requests(value))
      return true;
  return false;
}

std::string listed(const HtmlScanResult& found, MixedKind kind) {
  std::string out;
  for (std::size_t i = 0; i < found.insecure.size(); ++i) {
    if (found.kinds[i] != kind) continue;
    if (!out.empty()) out += "\n";
    out += found.elements[i] + " " + found.insecure[i];
  }
  return out;
}

void check_mixed_content(const HttpExchange& ex, const HttpCheckOptions& opt, Findings& out) {
  if (!is_html(ex)) return;
  if (csp_header_upgrades(ex)) return;  // every subresource is fetched over https://
  auto decoded =
      decode_body(ex.body, ex.header("Content-Encoding").value_or(""), opt.max_decoded_bytes);
  if (!decoded) return;  // a coding we cannot read: say nothing rather than guess
  HtmlScanOptions scan;
  scan.max_input = opt.max_decoded_bytes;
  scan.max_resources = opt.max_resources;
  // HSTS: the page's own header covers its host (and subdomains with includeSubDomains);
  // policies seen earlier in the session cover theirs.
  const std::string page_host = hsts_host(ex.host);
  std::optional<HstsPolicy> page_hsts;
  if (auto sts = ex.header("Strict-Transport-Security")) page_hsts = parse_hsts(*sts);
  if (page_hsts && page_hsts->max_age == 0) page_hsts.reset();
  scan.upgraded_host = [&](std::string_view host) {
    if (page_hsts && !page_host.empty()) {
      if (host == page_host) return true;
      if (page_hsts->include_subdomains && host.size() > page_host.size() &&
          host.ends_with(page_host) && host[host.size() - page_host.size() - 1] == '.')
        return true;
    }
    return opt.hsts_memory && opt.hsts_memory->covers(host);
  };
  auto found = find_insecure_subresources(decoded->text, scan);
  if (found.count == 0) return;
  Finding f = make(codes::http_mixed_content, Severity::warning, ex, opt);
  for (auto& r : found.insecure) r = shown_url(r, opt.keep_query);
  std::string list;
  for (const auto& r : found.insecure) list += (list.empty() ? "" : "\n") + r;
  f.evidence["resources"] = list;
  f.evidence["count"] = std::to_string(found.count);
  f.evidence["blocked_count"] = std::to_string(found.blocked);
  f.evidence["auto_upgraded_count"] = std::to_string(found.auto_upgraded);
  f.evidence["form_count"] = std::to_string(found.forms);
  if (found.blocked) f.evidence["blocked"] = listed(found, MixedKind::blocked);
  if (found.auto_upgraded) f.evidence["auto_upgraded"] = listed(found, MixedKind::auto_upgraded);
  if (found.forms) f.evidence["forms"] = listed(found, MixedKind::form);
  if (found.upgraded_by_csp)
    f.evidence["upgraded_by_meta_csp"] = std::to_string(found.upgraded_by_csp);
  if (found.upgraded_by_hsts)
    f.evidence["upgraded_by_hsts"] = std::to_string(found.upgraded_by_hsts);
  if (ex.body_truncated || decoded->truncated || decoded->corrupt || found.input_truncated)
    f.evidence["body_partial"] = "true";
  std::string how;
  auto part = [&](std::size_t n, const std::string& text) {
    if (n == 0) return;
    if (!how.empty()) how += "; ";
    how += std::to_string(n) + " " + text;
  };
  part(found.blocked,
       "blocked by Chrome and Firefox (scripts, frames, stylesheets, objects: the page breaks)");
  part(found.auto_upgraded,
       "auto-upgraded to https:// by Chrome (images, audio, video: they fail to load where "
       "https:// is not served)");
  part(found.forms, "form(s) posting to http:// (Chrome warns before sending)");
  f.message = "The HTTPS page " + page_url(ex, opt) + " loads " + std::to_string(found.count) +
              " resource(s) over plain http:// (first: " + found.insecure.front() + "): " + how +
              ".";
  f.remedy =
      "Serve the listed resources over https:// and change their URLs to https:// or to "
      "relative URLs (\"/js/app.js\", or \"//host/path\"); as a stopgap send the header "
      "`Content-Security-Policy: upgrade-insecure-requests` (nginx: add_header "
      "Content-Security-Policy \"upgrade-insecure-requests\" always; Apache: Header always set "
      "Content-Security-Policy \"upgrade-insecure-requests\"), which makes browsers fetch them "
      "over https://.";
  f.equivalents["chrome"] = "Mixed Content: The page at '" + page_url(ex, opt) +
                            "' was loaded over HTTPS, but requested an insecure resource '" +
                            found.insecure.front() +
                            "'. This request has been blocked; the content must be served over "
                            "HTTPS.";
  f.equivalents["firefox"] =
      "Blocked loading mixed active content \"" + found.insecure.front() + "\"";
  out.push_back(std::move(f));
}

// A subresource fetch (not a page navigation): by Sec-Fetch-Dest when the client sent it,
// else by a path that names a static file.
bool is_subresource(const HttpExchange& ex) {
  const std::string dest = certs::ascii_lower(trim(ex.fetch_dest));
  if (!dest.empty()) return dest != "document";
  std::string path = certs::ascii_lower(ex.path.substr(0, ex.path.find_first_of("?#")));
  if (path.ends_with("/favicon.ico")) return true;
  for (std::string_view ext : {".js", ".mjs", ".css", ".png", ".jpg", ".jpeg", ".gif", ".svg",
                               ".webp", ".ico", ".woff", ".woff2", ".ttf", ".mp4", ".webm", ".mp3"})
    if (path.ends_with(ext)) return true;
  return false;
}

void check_insecure_redirect(const HttpExchange& ex, const HttpCheckOptions& opt, Findings& out) {
  if (ex.status < 300 || ex.status >= 400) return;
  auto location = ex.header("Location");
  if (!location || !certs::ascii_istarts_with(trim(*location), "http://")) return;
  if (!is_subresource(ex)) return;  // a page redirected to http:// is a downgrade, not this
  Finding f = make(codes::http_mixed_content, Severity::warning, ex, opt);
  const std::string target = shown_url(trim(*location), opt.keep_query);
  f.evidence["redirect"] = "true";
  f.evidence["location"] = target;
  f.evidence["resources"] = target;
  f.evidence["count"] = "1";
  if (!ex.fetch_dest.empty()) f.evidence["fetch_dest"] = ex.fetch_dest;
  f.message = "The HTTPS subresource " + page_url(ex, opt) + " redirects (" +
              std::to_string(ex.status) + ") to plain http:// (" + target +
              "): browsers treat the redirect target as mixed content (blocked, or for images, "
              "audio and video requested over https:// instead, which fails where that is not "
              "served) and the page no longer shows as fully secure.";
  f.remedy =
      "Make the redirect point to https:// (nginx: return 301 https://$host$request_uri; on "
      "the target, or fix the Location the application builds behind a TLS-terminating proxy: "
      "X-Forwarded-Proto / nginx proxy_redirect), or serve the resource directly over "
      "https:// without the redirect.";
  f.equivalents["chrome"] =
      "Mixed Content: The page was loaded over HTTPS, but requested an "
      "insecure resource '" +
      target + "' (after a redirect).";
  f.equivalents["firefox"] = "Blocked loading mixed content \"" + target + "\"";
  out.push_back(std::move(f));
}

// max-age value of a Strict-Transport-Security header (RFC 6797 §6.1), nullopt if absent.
std::optional<long long> hsts_max_age(std::string_view header) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view d = trim(header.substr(0, semi));
    if (certs::ascii_istarts_with(d, "max-age")) {
      auto eq = d.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      std::string_view v = trim(d.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (v.empty() || v.size() > 15) return std::nullopt;
      long long n = 0;
      for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
      }
      return n;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

void check_hsts(const HttpExchange& ex, const HttpCheckOptions& opt, Findings& out) {
  if (ex.status < 200) return;
  auto sts = ex.header("Strict-Transport-Security");
  std::optional<long long> max_age;
  if (sts) {
    max_age = hsts_max_age(*sts);
    if (max_age && *max_age > 0) return;
  }
  Finding f = make(codes::http_hsts_missing, Severity::info, ex, opt);
  if (sts) f.evidence["hsts"] = std::string(*sts);
  f.message = sts ? "The HTTPS response from " + ex.host +
                        " has a Strict-Transport-Security header without a usable max-age, so "
                        "browsers keep no HTTPS-only policy for it."
                  : "The HTTPS response from " + ex.host +
                        " has no Strict-Transport-Security header: a browser that is sent to "
                        "http:// later (typed name, old link, attacker) will use plain HTTP.";
  f.remedy =
      "Send HSTS on every HTTPS response once the whole site (and its subdomains, with "
      "includeSubDomains) works over HTTPS. nginx: add_header Strict-Transport-Security "
      "\"max-age=31536000; includeSubDomains\" always; Apache (mod_headers): Header always set "
      "Strict-Transport-Security \"max-age=31536000; includeSubDomains\". Start with a short "
      "max-age (300) if unsure.";
  out.push_back(std::move(f));
}

void check_redirect(const HttpExchange& ex, const HttpCheckOptions& opt, Findings& out) {
  if (ex.status < 200) return;
  auto location = ex.header("Location");
  const bool is_redirect = ex.status >= 300 && ex.status < 400 && location;
  if (is_redirect) {
    std::string_view loc = trim(*location);
    if (certs::ascii_istarts_with(loc, "https://") &&
        host_only(url_authority(loc)) == host_only(ex.host)) {
      if (ex.status == 301 || ex.status == 308) return;  // permanent: what we want
      Finding f = make(codes::http_redirect_not_permanent, Severity::info, ex, opt);
      f.evidence["location"] = shown_url(loc, opt.keep_query);
      f.message = "http://" + ex.host + " redirects to HTTPS with a temporary " +
                  std::to_string(ex.status) +
                  ": browsers and search engines keep asking the http:// URL first.";
      f.remedy =
          "Make the redirect permanent (301, or 308 to keep the method). nginx: return 301 "
          "https://$host$request_uri; Apache: Redirect permanent / https://" +
          host_only(ex.host) + "/ (or RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [R=301,L]).";
      out.push_back(std::move(f));
      return;
    }
  }
  Finding f = make(codes::http_no_https_redirect, Severity::warning, ex, opt);
  if (location) f.evidence["location"] = shown_url(trim(*location), opt.keep_query);
  f.message = "The plain-HTTP request for http://" + ex.host + page_path(ex, opt) +
              " was answered with " + std::to_string(ex.status) +
              (is_redirect ? " to " + shown_url(trim(*location), opt.keep_query) +
                                 ", not a redirect to https:// on the same host"
                           : " instead of a redirect to https://") +
              ": visitors who type the name or follow an old link stay on an unencrypted page.";
  f.remedy =
      "Redirect every plain-HTTP request to the same host over HTTPS. nginx (in the port 80 "
      "server block): return 301 https://$host$request_uri; Apache (port 80 VirtualHost): "
      "Redirect permanent / https://" +
      host_only(ex.host) + "/ ; then add HSTS so browsers skip the http:// request altogether.";
  out.push_back(std::move(f));
}

}  // namespace

std::optional<DecodedBody> decode_body(std::string_view body, std::string_view content_encoding,
                                       std::size_t max_bytes) {
  // Codings in the order they were applied (RFC 9110 §8.4); decode from the last one.
  std::vector<std::string> codings;
  std::string_view ce = content_encoding;
  while (!ce.empty()) {
    auto comma = ce.find(',');
    std::string c = certs::ascii_lower(trim(ce.substr(0, comma)));
    if (!c.empty() && c != "identity") codings.push_back(c);
    if (comma == std::string_view::npos) break;
    ce.remove_prefix(comma + 1);
  }
  if (codings.size() > 3) return std::nullopt;  // nobody stacks codings like that
  DecodedBody cur;
  cur.text =
      std::string(body.substr(0, codings.empty() ? std::min(body.size(), max_bytes) : body.size()));
  cur.truncated = codings.empty() && body.size() > max_bytes;
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    DecodedBody next;
    int window_bits = 0;
    if (*it == "gzip" || *it == "x-gzip") {
      window_bits = 15 + 16;  // gzip wrapper only
    } else if (*it == "deflate") {
      // "deflate" means the zlib format (RFC 9110 §8.4.1.2), but some servers send raw
      // deflate: a zlib header is 0x78 xx with (b0*256+b1) % 31 == 0.
      const auto* p = reinterpret_cast<const unsigned char*>(cur.text.data());
      bool zlib_wrapped =
          cur.text.size() >= 2 && (p[0] & 0x0f) == 8 && ((p[0] << 8) | p[1]) % 31 == 0;
      window_bits = zlib_wrapped ? 15 : -15;
    } else {
      return std::nullopt;
    }
    if (!inflate_into(cur.text, window_bits, max_bytes, next)) return std::nullopt;
    next.truncated = next.truncated || cur.truncated;
    next.corrupt = next.corrupt || cur.corrupt;
    cur = std::move(next);
  }
  return cur;
}

Findings check_http(const HttpExchange& exchange, const HttpCheckOptions& options) {
  Findings out;
  if (exchange.status == 0) return out;  // no response: nothing to judge
  if (exchange.https) {
    check_mixed_content(exchange, options, out);
    check_insecure_redirect(exchange, options, out);
    check_hsts(exchange, options, out);
  } else {
    check_redirect(exchange, options, out);
  }
  return out;
}

}  // namespace tlsprobe::inspect
