// Finds the http:// subresources of an HTML page: what a browser would fetch insecurely
// from an HTTPS page (mixed content), for http.mixed_content.
//
// Looked at: script src; img src and srcset; iframe/frame src; link href when rel is
// stylesheet, icon, preload, modulepreload or apple-touch-icon; audio/video src and video
// poster; source src and srcset; track src; form action; object data; embed src.
// Not links (<a href>): navigating is not loading. Tags and attributes are matched
// case-insensitively; values may be double-, single- or unquoted; comments and the bodies of
// <script>, <style>, <textarea> and <title> are skipped; &amp;, &quot;, &lt;, &gt;, &apos;
// and ASCII numeric references in values are decoded. A tag cut off by the end of the input
// is ignored (a browser would not load it either).
//
// Not modelled (known gaps): <base href="http://…"> making relative URLs insecure, CSS
// url(...) in style attributes and <style>, scripts that build URLs, meta refresh.
//
// What browsers upgrade themselves is not reported (issue 15 item 4): every URL after a
// `<meta http-equiv="Content-Security-Policy" content="… upgrade-insecure-requests …">` in the
// head (a meta CSP outside the head is ignored, as browsers do; resources before it are
// fetched as written), and URLs whose host options.upgraded_host says HSTS covers. What is
// left is classed as Chrome treats it: images, audio and video (img, source, audio, video,
// icons: the "image"/"audio"/"video" request destinations of Mixed Content Level 2) are
// auto-upgraded to https://; scripts, frames, stylesheets, preloads, objects, embeds and
// tracks are blocked; a form action submits over http:// (Chrome warns before sending).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::inspect {

// How Chrome treats one insecure subresource of an HTTPS page.
enum class MixedKind {
  auto_upgraded,  // img, audio, video: requested over https:// instead (fails if not served)
  blocked,        // script, iframe, stylesheet, object…: not loaded at all
  form,           // a form posting to http://: Chrome warns before submitting
};
std::string_view to_string(MixedKind k);

struct HtmlScanOptions {
  std::size_t max_input = 2 * 1024 * 1024;  // bytes of HTML looked at; the rest is ignored
  std::size_t max_resources = 50;           // URLs kept in the result (count goes on)
  // True for a host (lower case, no port) whose http:// URLs the browser upgrades by HSTS.
  std::function<bool(std::string_view host)> upgraded_host;
};

struct HtmlScanResult {
  std::vector<std::string> insecure;  // distinct http:// URLs, in document order, capped
  std::vector<MixedKind> kinds;       // parallel to `insecure`
  std::vector<std::string> elements;  // parallel: "img", "script", "link rel=stylesheet"…
  std::size_t count = 0;              // distinct http:// URLs found (capped at 10000)
  std::size_t blocked = 0, auto_upgraded = 0, forms = 0;  // `count` by kind
  bool meta_upgrade_insecure_requests = false;  // a meta CSP in the head upgrades the rest
  std::size_t upgraded_by_csp = 0;              // http:// URLs after that meta (not counted)
  std::size_t upgraded_by_hsts = 0;             // http:// URLs of HSTS hosts (not counted)
  bool input_truncated = false;                 // the HTML was longer than max_input
};

HtmlScanResult find_insecure_subresources(std::string_view html, const HtmlScanOptions& options);

// True when a Content-Security-Policy value (one header, or a meta's content; several
// policies may be comma-separated) has the upgrade-insecure-requests directive.
bool csp_upgrades_insecure_requests(std::string_view policy);

}  // namespace tlsprobe::inspect
