// HTTP and client findings of intercepted connections in their log line (issue 4 item 5):
// http.mixed_content (each http:// subresource listed, plain, gzip and chunked pages),
// http.hsts_missing (absent with a usable Strict-Transport-Security), client.sni_host_mismatch
// (Host header vs SNI), and a healthy page with none of them.
#include "http_peers.hpp"
#include "intercept_fixture.hpp"
#include "support/nginx_server.hpp"

#include <boost/json/serialize.hpp>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

constexpr const char* kHsts = "Strict-Transport-Security: max-age=31536000\r\n";

// Every insecure subresource kind the scan knows, plus things that are not mixed content
// (a link, an https image, a relative script).
const std::string kMixedPage = R"(<!DOCTYPE html>
<html><head>
<script src="http://cdn.test/app.js"></script>
<link rel="stylesheet" href="http://cdn.test/site.css">
<script src="/local.js"></script>
</head><body>
<img src="http://img.test/a.png">
<img src="https://img.test/secure.png">
<iframe src="http://frame.test/embed"></iframe>
<audio src="http://media.test/a.mp3"></audio>
<video src="http://media.test/v.mp4"><source src="http://media.test/v.webm"></video>
<form action="http://forms.test/post" method="post"></form>
<a href="http://link.test/">a link is not a subresource</a>
</body></html>
)";

const std::vector<std::string> kInsecure = {
    "http://cdn.test/app.js",   "http://cdn.test/site.css", "http://img.test/a.png",
    "http://frame.test/embed",  "http://media.test/a.mp3",  "http://media.test/v.mp4",
    "http://media.test/v.webm", "http://forms.test/post",
};

const std::string kCleanPage =
    "<!DOCTYPE html><html><head><script src=\"https://cdn.test/app.js\"></script></head>"
    "<body><img src=\"/logo.png\"><p>all secure</p></body></html>";

// One page per path; the head extras per path (HSTS or not, encodings).
struct Page {
  std::string head_extra;
  std::string body;  // as sent (already encoded)
  bool chunked = false;
};

std::string render(const Page& p) {
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" + p.head_extra;
  if (!p.chunked)
    return out + "Content-Length: " + std::to_string(p.body.size()) + "\r\n\r\n" + p.body;
  out += "Transfer-Encoding: chunked\r\n\r\n";
  for (std::size_t off = 0; off < p.body.size(); off += 100)
    out += chunk(std::string_view(p.body).substr(off, 100));  // many small chunks
  return out + "0\r\n\r\n";
}

std::unique_ptr<ScriptedUpstream> site(const GoodSiteLab& lab, std::map<std::string, Page> pages) {
  return std::make_unique<ScriptedUpstream>(
      ServedChain::of(lab.good), [pages = std::move(pages)](TlsIo& io) {
        for (int i = 0; i < 20; ++i) {
          const auto req = io.read_message(false, 5s);
          if (!req.complete) return;
          const auto it = pages.find(req.head.target());
          const auto res =
              it == pages.end() ? http_response(404, "Not Found", "no", kHsts) : render(it->second);
          if (!io.write(res)) return;
        }
      });
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "\n") + s;
  return out;
}

// One GET on its own intercepted connection; returns the response.
Message get(const InterceptingProxy& proxy, std::uint16_t port, const std::string& path,
            const std::string& host_header = "good.test", const std::string& sni = "good.test") {
  ProxyClient c(proxy.port(), "good.test", port, proxy.ca_path(), sni);
  return c.request("GET", path, host_header, "Accept-Encoding: gzip\r\n");
}

}  // namespace

TEST_CASE("intercept findings: http.mixed_content lists every http:// subresource") {
  GoodSiteLab lab;
  const auto [name, page] = GENERATE(table<const char*, Page>({
      {"identity", Page{kHsts, kMixedPage, false}},
      {"gzip", Page{std::string(kHsts) + "Content-Encoding: gzip\r\n", gzip(kMixedPage), false}},
      {"gzip+chunked",
       Page{std::string(kHsts) + "Content-Encoding: gzip\r\n", gzip(kMixedPage), true}},
      {"deflate (zlib)",
       Page{std::string(kHsts) + "Content-Encoding: deflate\r\n", compress(kMixedPage, 15)}},
      {"deflate (raw)",
       Page{std::string(kHsts) + "Content-Encoding: deflate\r\n", compress(kMixedPage, -15)}},
  }));
  INFO(name);
  auto up = site(lab, {{"/page", page}});
  InterceptingProxy proxy(lab.proxy_options());
  const auto r = get(proxy, up->port(), "/page");
  REQUIRE(r.complete);
  CHECK(r.head.status() == 200);
  CHECK(r.body == page.body);  // the client gets the page byte for byte (still encoded)
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto* f = finding(lines[0], "http.mixed_content");
  REQUIRE(f);
  CHECK(evidence(*f, "resources") == joined(kInsecure));
  CHECK(evidence(*f, "count") == std::to_string(kInsecure.size()));
  CHECK(evidence(*f, "url") == "https://good.test/page");
  CHECK(evidence(*f, "body_partial").empty());
  CHECK(finding(lines[0], "http.hsts_missing") == nullptr);
}

TEST_CASE("intercept findings: a non-html response is not scanned for mixed content") {
  GoodSiteLab lab;
  auto up = std::make_unique<ScriptedUpstream>(ServedChain::of(lab.good), [&](TlsIo& io) {
    if (!io.read_message(false, 5s).complete) return;
    io.write(http_response(200, "OK", kMixedPage, kHsts, "text/plain"));
  });
  InterceptingProxy proxy(lab.proxy_options());
  CHECK(get(proxy, up->port(), "/x").body == kMixedPage);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(finding(lines[0], "http.mixed_content") == nullptr);
}

TEST_CASE("intercept findings: http.hsts_missing without a usable Strict-Transport-Security") {
  GoodSiteLab lab;
  auto up = site(lab, {{"/with", Page{kHsts, kCleanPage}},
                       {"/without", Page{"", kCleanPage}},
                       {"/zero", Page{"Strict-Transport-Security: max-age=0\r\n", kCleanPage}}});
  InterceptingProxy proxy(lab.proxy_options());
  for (const char* path : {"/with", "/without", "/zero"})
    CHECK(get(proxy, up->port(), path).complete);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 3);
  std::map<std::string, const boost::json::object*> by_path;
  for (const auto& l : lines) {
    const auto u = str_at(l, {"url", "full"});
    by_path[u.substr(u.rfind('/'))] = &l;
  }
  REQUIRE(by_path.size() == 3);
  CHECK(finding(*by_path["/with"], "http.hsts_missing") == nullptr);
  const auto* without = finding(*by_path["/without"], "http.hsts_missing");
  REQUIRE(without);
  CHECK(evidence(*without, "url") == "https://good.test/without");
  CHECK(evidence(*without, "hsts").empty());
  const auto* zero = finding(*by_path["/zero"], "http.hsts_missing");
  REQUIRE(zero);
  CHECK(evidence(*zero, "hsts") == "max-age=0");
}

TEST_CASE("intercept findings: client.sni_host_mismatch when the Host header differs from SNI") {
  GoodSiteLab lab;
  auto up = site(lab, {{"/", Page{kHsts, kCleanPage}}});
  InterceptingProxy proxy(lab.proxy_options());
  SECTION("raw client: SNI good.test, Host other.test") {
    CHECK(get(proxy, up->port(), "/", "other.test").head.status() == 200);
    const auto lines = proxy.log_lines();
    REQUIRE(lines.size() == 1);
    const auto* f = finding(lines[0], "client.sni_host_mismatch");
    REQUIRE(f);
    CHECK(evidence(*f, "sni") == "good.test");
    CHECK(evidence(*f, "http_host") == "other.test");
  }
  SECTION("curl with a Host header of its own") {
    const auto r = curl(proxy, "https://good.test:" + std::to_string(up->port()) + "/",
                        proxy.ca_path(), {"-H", "Host: elsewhere.test"});
    INFO(r.err);
    CHECK(r.http_code == 200);
    const auto lines = proxy.log_lines();
    REQUIRE(lines.size() == 1);
    const auto* f = finding(lines[0], "client.sni_host_mismatch");
    REQUIRE(f);
    CHECK(evidence(*f, "http_host") == "elsewhere.test");
  }
  SECTION("the same name with a port is no mismatch") {
    CHECK(get(proxy, up->port(), "/", "GOOD.test:" + std::to_string(up->port())).complete);
    const auto lines = proxy.log_lines();
    REQUIRE(lines.size() == 1);
    CHECK(finding(lines[0], "client.sni_host_mismatch") == nullptr);
  }
}

TEST_CASE("intercept findings: a healthy page has no HTTP or client finding") {
  GoodSiteLab lab;
  auto up = site(
      lab,
      {{"/", Page{kHsts, kCleanPage}},
       {"/gz", Page{std::string(kHsts) + "Content-Encoding: gzip\r\n", gzip(kCleanPage), true}}});
  InterceptingProxy proxy(lab.proxy_options());
  {
    ProxyClient c(proxy.port(), "good.test", up->port(), proxy.ca_path(), "good.test");
    const auto a = c.request("GET", "/", "good.test");
    CHECK(a.body == kCleanPage);
    const auto b = c.request("GET", "/gz", "good.test", "Accept-Encoding: gzip\r\n");
    CHECK(b.body == gzip(kCleanPage));
  }
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  INFO(boost::json::serialize(lines[0]));
  CHECK(finding_codes(lines[0]).empty());
  CHECK(str_at(lines[0], {"event", "outcome"}) == "success");
}

TEST_CASE("intercept findings: a page past the inspection bound is scanned as far as it came") {
  // The proxy copies at most 1 MiB of a page for the scan (proxy/http/http_inspector.hpp); the
  // client still gets every byte. Resources early in the page are found, deflate decoded.
  GoodSiteLab lab;
  std::string page = "<html><body><script src=\"http://early.test/a.js\"></script>";
  page += std::string(2 * 1024 * 1024, ' ');
  page += "<img src=\"http://late.test/b.png\"></body></html>";
  auto up = site(lab, {{"/big", Page{kHsts, page, true}}});
  InterceptingProxy proxy(lab.proxy_options());
  const auto r = get(proxy, up->port(), "/big");
  CHECK(r.body == page);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto* f = finding(lines[0], "http.mixed_content");
  REQUIRE(f);
  CHECK(evidence(*f, "resources") == "http://early.test/a.js");
  CHECK(evidence(*f, "body_partial") == "true");
}

TEST_CASE("intercept findings: a long keep-alive connection keeps its log line bounded") {
  // 200 pages on one connection, none with HSTS, each with its own http:// image. HSTS is a
  // host's policy: one http.hsts_missing says it. Mixed content is listed per page, capped.
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [](TlsIo& io) {
    for (int i = 0; i < 300; ++i) {
      const auto req = io.read_message(false, 5s);
      if (!req.complete) return;
      const auto page = "<html><img src=\"http://img.test" + req.head.target() + ".png\"></html>";
      if (!io.write(http_response(200, "OK", page, "", "text/html"))) return;
    }
  });
  InterceptingProxy proxy(lab.proxy_options());
  {
    ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
    for (int i = 0; i < 200; ++i)
      REQUIRE(c.request("GET", "/p" + std::to_string(i), "good.test").head.status() == 200);
  }
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto codes = finding_codes(lines[0]);
  CHECK(std::count(codes.begin(), codes.end(), "http.hsts_missing") == 1);
  CHECK(std::count(codes.begin(), codes.end(), "http.mixed_content") == 16);
  // The overflow is counted on the last listed one: 200 pages, 16 listed.
  std::string not_listed;
  for (const auto& v : lines[0].at("tlsprobe").as_object().at("findings").as_array())
    if (v.as_object().at("code").as_string() == "http.mixed_content" &&
        !evidence(v.as_object(), "not_listed").empty())
      not_listed = evidence(v.as_object(), "not_listed");
  CHECK(not_listed == "184");
  CHECK(boost::json::serialize(lines[0]).size() < 64 * 1024);
}

TEST_CASE("intercept findings: a real nginx with gzip on, through curl --compressed") {
  // nginx compresses on the fly (gzip, chunked): the scan decodes what a real server sends.
  GoodSiteLab lab;
  const std::string http_block = R"(
  server {
    listen 127.0.0.1:@PORT@ ssl default_server;
    server_name good.test;
    ssl_certificate @DIR@/site.crt;
    ssl_certificate_key @DIR@/site.key;
    gzip on;
    gzip_min_length 1;
    # The proxy's request carries Via (RFC 9110 section 7.6.3), and nginx compresses nothing
    # for a request with Via unless gzip_proxied says so.
    gzip_proxied any;
    root @DIR@;
    location = /clean.html { add_header Strict-Transport-Security "max-age=600" always; }
  }
)";
  std::string padded = kMixedPage;
  padded.insert(padded.find("</body>"), std::string(4000, ' '));  // worth compressing
  testsupport::NginxServer nginx(
      http_block, {{"site.crt", lab.good.leaf.cert_pem() + lab.good.intermediate.cert_pem()},
                   {"site.key", lab.good.leaf.key_pem()},
                   {"mixed.html", padded},
                   {"clean.html", kCleanPage}});
  InterceptingProxy proxy(lab.proxy_options());
  const auto base = "https://good.test:" + std::to_string(nginx.port());
  // Two URLs, one connection: the mixed page (no HSTS) and the clean page (HSTS).
  const auto r = testsupport::run_process(
      {"curl", "-sS", "--max-time", "20", "--proxy", proxy.url(), "--cacert", proxy.ca_path(),
       "--compressed", "-w", "|%{http_code}|%{size_download}\n", base + "/mixed.html",
       base + "/clean.html"},
      30s);
  INFO(r.err << nginx.error_log());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(padded + "|200|") == 0);
  CHECK(r.out.find(kCleanPage + "|200|") != std::string::npos);
  // It really came gzip-encoded: fewer bytes on the wire than the page.
  const auto wire_bytes = std::strtoull(r.out.c_str() + padded.size() + 5, nullptr, 10);
  CHECK(wire_bytes > 0);
  CHECK(wire_bytes < padded.size() / 2);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  const auto* f = finding(lines[0], "http.mixed_content");
  REQUIRE(f);
  CHECK(evidence(*f, "resources") == joined(kInsecure));
  const auto* h = finding(lines[0], "http.hsts_missing");
  REQUIRE(h);
  CHECK(evidence(*h, "url") == "https://good.test:" + std::to_string(nginx.port()) + "/mixed.html");
}
