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
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::inspect {

struct HtmlScanOptions {
  std::size_t max_input = 2 * 1024 * 1024;  // bytes of HTML looked at; the rest is ignored
  std::size_t max_resources = 50;           // URLs kept in the result (count goes on)
};

struct HtmlScanResult {
  std::vector<std::string> insecure;  // distinct http:// URLs, in document order, capped
  std::size_t count = 0;              // distinct http:// URLs found (capped at 10000)
  bool input_truncated = false;       // the HTML was longer than max_input
};

HtmlScanResult find_insecure_subresources(std::string_view html, const HtmlScanOptions& options);

}  // namespace tlsprobe::inspect
