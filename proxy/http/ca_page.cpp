#include "proxy/http/ca_page.hpp"

#include "proxy/http/error_page.hpp"

#include "certs/authority.hpp"

namespace tlsprobe::proxy {
namespace {

// &, <, >, " and ' as entities: the one escaper the error page uses too.
std::string escape(std::string_view text) { return html_escape(text); }

// Fixed text of the page; only the certificate facts are substituted (escaped).
constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}"
    "code,pre{font-family:ui-monospace,monospace;background:#f3f3f3;border-radius:4px}"
    "pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}"
    "code{padding:0 .2rem}.fp{word-break:break-all}"
    "a.dl{display:inline-block;margin:.2rem .6rem .2rem 0;padding:.4rem .8rem;"
    "border:1px solid #36c;border-radius:4px;text-decoration:none}"
    "h2{margin-top:2rem;border-bottom:1px solid #ddd}";

}  // namespace

std::string render_ca_install_page(const certs::Certificate& ca) {
  const std::string name = escape(ca.common_name().empty() ? ca.subject() : ca.common_name());
  const std::string fp = escape(certs::colon_fingerprint(ca));
  const std::string not_after = escape(certs::format_rfc3339(ca.not_after()));
  const std::string pem(kCaPemPath);
  const std::string der(kCaDerPath);

  std::string h;
  h.reserve(8192);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  h += "<title>Install the tlsprobe CA</title>\n<style>";
  h += kStyle;
  h += "</style></head><body>\n";
  h += "<h1>Install the tlsprobe CA</h1>\n";
  h += "<p>This connection goes through <b>tlsprobe</b>, which intercepts HTTPS with "
       "certificates it signs itself. Trust its CA only on devices you control, and only "
       "while you use this proxy: anyone holding its key can impersonate any site to this "
       "device.</p>\n";
  h += "<p>CA: <b>" + name + "</b>, valid until " + not_after + "</p>\n";
  h += "<p>SHA-256 fingerprint (compare it with the output of <code>tlsprobe ca init</code> on "
       "the proxy host before you trust the file):<br><code class=\"fp\" id=\"fingerprint\">" +
       fp + "</code></p>\n";
  h += "<p><a class=\"dl\" href=\"" + pem + "\" download=\"tlsprobe-ca.pem\">" + pem +
       "</a> PEM (Linux, curl, Python, Node, Firefox)<br>";
  h += "<a class=\"dl\" href=\"" + der + "\" download=\"tlsprobe-ca.crt\">" + der +
       "</a> DER (macOS, Windows, Android, iOS)</p>\n";

  h += "<h2>Debian / Ubuntu</h2>\n<pre>sudo cp tlsprobe-ca.pem "
       "/usr/local/share/ca-certificates/tlsprobe.crt\nsudo update-ca-certificates</pre>\n"
       "<p>Undo: <code>sudo rm /usr/local/share/ca-certificates/tlsprobe.crt &amp;&amp; sudo "
       "update-ca-certificates --fresh</code></p>\n";

  // Chrome and Chromium on Linux read neither the Debian store nor Firefox's: they use the
  // user's NSS database (what the intercept tests do with a temporary HOME).
  h += "<h2>Chrome / Chromium on Linux</h2>\n<p>They use your NSS database, not the system "
       "store (package <code>libnss3-tools</code>):</p>\n"
       "<pre>certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n tlsprobe -i tlsprobe-ca.pem</pre>\n"
       "<p>Undo: <code>certutil -d sql:$HOME/.pki/nssdb -D -n tlsprobe</code>. Restart the "
       "browser after either.</p>\n";

  h += "<h2>macOS</h2>\n<pre>sudo security add-trusted-cert -d -r trustRoot -k "
       "/Library/Keychains/System.keychain tlsprobe-ca.crt</pre>\n"
       "<p>Undo: remove it in Keychain Access, System keychain, Certificates.</p>\n";

  h += "<h2>Windows</h2>\n<p>In an administrator command prompt:</p>\n"
       "<pre>certutil -addstore root tlsprobe-ca.crt</pre>\n"
       "<p>Undo: <code>certutil -delstore root \"" +
       name + "\"</code></p>\n";

  h += "<h2>Firefox</h2>\n<p>Firefox has its own store: Settings &rarr; Privacy &amp; Security "
       "&rarr; Certificates &rarr; View Certificates &rarr; Authorities &rarr; Import, choose "
       "<code>tlsprobe-ca.pem</code>, tick &ldquo;Trust this CA to identify websites&rdquo;. "
       "Managed installs: in <code>policies.json</code> set "
       "<code>\"Certificates\": {\"ImportEnterpriseRoots\": true}</code> (use the system store "
       "configured above) or <code>\"Certificates\": {\"Install\": "
       "[\"/path/to/tlsprobe-ca.pem\"]}</code>.</p>\n";

  h += "<h2>curl, Python, Node.js</h2>\n<pre>curl --cacert tlsprobe-ca.pem https://example.com/\n"
       "export CURL_CA_BUNDLE=/path/to/tlsprobe-ca.pem\n"
       "export REQUESTS_CA_BUNDLE=/path/to/tlsprobe-ca.pem   # Python requests\n"
       "export SSL_CERT_FILE=/path/to/tlsprobe-ca.pem        # Python ssl, OpenSSL-based tools\n"
       "export NODE_EXTRA_CA_CERTS=/path/to/tlsprobe-ca.pem  # Node.js</pre>\n"
       "<p><code>--cacert</code>, <code>CURL_CA_BUNDLE</code>, <code>REQUESTS_CA_BUNDLE</code> "
       "and <code>SSL_CERT_FILE</code> replace the default trust store for that program; "
       "<code>NODE_EXTRA_CA_CERTS</code> adds to it. To add rather than replace, install the CA "
       "system-wide as above.</p>\n";

  h += "</body></html>\n";
  return h;
}

}  // namespace tlsprobe::proxy
