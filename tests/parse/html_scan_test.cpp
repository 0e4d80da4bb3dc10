#include "inspect/html_scan.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace tlsprobe::inspect;

namespace {

std::vector<std::string> scan(std::string_view html) {
  return find_insecure_subresources(html, HtmlScanOptions{}).insecure;
}

}  // namespace

TEST_CASE("every loading element with an http:// URL is found") {
  const char* html = R"(<html><head>
<script src="http://a.example/s.js"></script>
<link rel="stylesheet" href="http://a.example/s.css">
<link rel="icon" href="http://a.example/favicon.ico">
<link rel="preload" as="font" href="http://a.example/f.woff2">
</head><body>
<img src="http://a.example/i.png" srcset="http://a.example/i2.png 2x, /ok.png 3x">
<iframe src="http://a.example/frame"></iframe>
<audio src="http://a.example/a.mp3"></audio>
<video src="http://a.example/v.mp4" poster="http://a.example/poster.jpg">
<source src="http://a.example/v.webm"><track src="http://a.example/sub.vtt"></video>
<form action="http://a.example/post"></form>
<object data="http://a.example/o.swf"></object>
<embed src="http://a.example/e.swf">
</body></html>)";
  CHECK(scan(html) ==
        std::vector<std::string>{
            "http://a.example/s.js", "http://a.example/s.css", "http://a.example/favicon.ico",
            "http://a.example/f.woff2", "http://a.example/i.png", "http://a.example/i2.png",
            "http://a.example/frame", "http://a.example/a.mp3", "http://a.example/v.mp4",
            "http://a.example/poster.jpg", "http://a.example/v.webm", "http://a.example/sub.vtt",
            "http://a.example/post", "http://a.example/o.swf", "http://a.example/e.swf"});
}

TEST_CASE("links, https, relative URLs and other link rels are not mixed content") {
  CHECK(scan(R"(<a href="http://a.example/">x</a>
<img src="https://a.example/i.png"><img src="/i.png"><img src="//cdn.example/i.png">
<link rel="canonical" href="http://a.example/"><link rel=alternate href=http://a.example/feed>
<p>http://a.example/text</p>)")
            .empty());
}

TEST_CASE("case, quoting, whitespace and entities are handled") {
  CHECK(scan(R"(<IMG SRC=HTTP://a.example/u.png>)") ==
        std::vector<std::string>{"HTTP://a.example/u.png"});
  CHECK(scan("<img src='http://a.example/q.png'>") ==
        std::vector<std::string>{"http://a.example/q.png"});
  CHECK(scan("<img\n  src =\n \"  http://a.example/w.png  \" >") ==
        std::vector<std::string>{"http://a.example/w.png"});
  CHECK(scan(R"(<script src="http://a.example/x?a=1&amp;b=2"></script>)") ==
        std::vector<std::string>{"http://a.example/x?a=1&b=2"});
  CHECK(scan(R"(<img src="&#104;ttp://a.example/e.png">)") ==
        std::vector<std::string>{"http://a.example/e.png"});
  CHECK(scan(R"(<img src="&#x68;ttp://a.example/h.png">)") ==
        std::vector<std::string>{"http://a.example/h.png"});
  CHECK(scan(R"(<LINK REL="Shortcut Icon" HREF="http://a.example/i.ico">)") ==
        std::vector<std::string>{"http://a.example/i.ico"});
}

TEST_CASE("comments and script bodies are skipped") {
  CHECK(scan(R"(<!-- <img src="http://a.example/c.png"> -->
<script>var s = '<img src="http://a.example/js.png">';</script>
<style>.x{} /* <img src="http://a.example/css.png"> */</style>
<img src="http://a.example/real.png">)") == std::vector<std::string>{"http://a.example/real.png"});
}

TEST_CASE("duplicates are listed once and the list is bounded") {
  std::string html;
  for (int i = 0; i < 3; ++i) html += "<img src=\"http://a.example/same.png\">";
  CHECK(scan(html).size() == 1);
  for (int i = 0; i < 200; ++i) html += "<img src=\"http://a.example/" + std::to_string(i) + "\">";
  HtmlScanOptions o;
  o.max_resources = 10;
  auto r = find_insecure_subresources(html, o);
  CHECK(r.insecure.size() == 10);
  CHECK(r.count == 201);
}

TEST_CASE("input beyond max_input is not scanned") {
  std::string html(1000, ' ');
  html += "<img src=\"http://a.example/late.png\">";
  HtmlScanOptions o;
  o.max_input = 500;
  auto r = find_insecure_subresources(html, o);
  CHECK(r.count == 0);
  CHECK(r.input_truncated);
}

TEST_CASE("hostile HTML never crashes") {
  CHECK(scan("<img src=\"http://a.example/unterminated").empty());
  CHECK(scan("<img src=http://a.example/cut").empty());  // tag cut off: not loaded
  CHECK(scan("<!-- never closed <img src=http://a.example/x>").empty());
  CHECK(scan("<script>never closed <img src=http://a.example/x>").empty());
  CHECK(scan("<<<<>>>>< img src=http://a/x><=><img =x src=http://a.example/ok>") ==
        std::vector<std::string>{"http://a.example/ok"});
  std::string huge = "<img alt=\"" + std::string(1 << 20, 'A') + "\" src=\"http://a.example/h\">";
  CHECK(scan(huge) == std::vector<std::string>{"http://a.example/h"});
  std::string many_lt(200000, '<');
  CHECK(scan(many_lt).empty());
  std::string many_attrs = "<img";
  for (int i = 0; i < 20000; ++i) many_attrs += " a" + std::to_string(i) + "=1";
  many_attrs += " src=http://a.example/m>";
  CHECK(scan(many_attrs).size() == 1);
  std::string entities(100000, '&');
  CHECK(scan("<img src=\"" + entities + "\">").empty());
  // Every prefix of a page with tricky constructs.
  std::string page =
      R"(<!doctype html><!--c--><script src='http://a/x'></script><img srcset=" http://a/1 1x ,, http://a/2 2x" src=x>)";
  for (std::size_t n = 0; n <= page.size(); ++n) (void)scan(std::string_view(page).substr(0, n));
}
