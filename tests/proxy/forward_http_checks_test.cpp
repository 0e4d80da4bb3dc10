// http.no_https_redirect and http.redirect_not_permanent on plain-HTTP requests through the
// forward proxy (absolute-form): curl -x against a loopback origin that sends canned
// responses byte for byte. The findings must be in the connection's log line, only for a
// GET of a page (HTML 2xx, or a 3xx with Location), and the client must get exactly what
// the origin sent.
#include "proxy_fixture.hpp"
#include "support/loopback_server.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;

namespace {

constexpr const char* kNoRedirect = "http.no_https_redirect";
constexpr const char* kNotPermanent = "http.redirect_not_permanent";

// One canned answer: the status line and header lines as sent, then the body.
struct Canned {
  std::string head;  // "HTTP/1.1 200 OK\r\nContent-Type: …\r\n" (no blank line, no length)
  std::string body;
  std::string raw(bool with_body) const {
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           (with_body ? body : "");
  }
};

// A keep-alive HTTP/1.1 origin that answers each request target with its canned response,
// written in one piece exactly as given (404 for unknown targets). Request bodies (by
// Content-Length) are read and dropped.
class CannedOrigin : public testsupport::LoopbackServer {
 public:
  explicit CannedOrigin(std::map<std::string, Canned> answers)
      : LoopbackServer([this](int fd) { serve(fd); }, 4, Deferred{}), answers_(std::move(answers)) {
    start();
  }
  ~CannedOrigin() override { stop(); }

  std::vector<std::string> request_lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  bool fill(int fd, std::string& buf, std::size_t want) const {
    char tmp[16384];
    while (buf.size() < want) {
      if (!wait_readable(fd, std::chrono::seconds(5))) return false;
      const auto r = ::recv(fd, tmp, sizeof tmp, 0);
      if (r <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(r));
    }
    return true;
  }

  static bool send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const auto w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += static_cast<std::size_t>(w);
    }
    return true;
  }

  static std::size_t content_length(const std::string& head) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto at = lower.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::stoull(lower.substr(at + 17));
  }

  void serve(int fd) {
    std::string buf;
    for (int n = 0; n < 100 && !stopping(); ++n) {
      std::size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos)
        if (buf.size() > 65536 || !fill(fd, buf, buf.size() + 1)) return;
      const std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      const auto body_bytes = content_length(head);
      if (!fill(fd, buf, body_bytes)) return;
      buf.erase(0, body_bytes);
      const std::string line = head.substr(0, head.find("\r\n"));
      {
        std::lock_guard lock(mutex_);
        lines_.push_back(line);
      }
      const auto sp1 = line.find(' ');
      const auto sp2 = line.find(' ', sp1 + 1);
      const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      const auto it = answers_.find(target);
      const Canned answer =
          it != answers_.end()
              ? it->second
              : Canned{"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n", "<p>not here</p>"};
      if (!send_all(fd, answer.raw(line.rfind("HEAD ", 0) != 0))) return;
    }
  }

  std::map<std::string, Canned> answers_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

std::string html_page(std::size_t bytes) {
  std::string page = "<!doctype html><html><body><img src=\"http://cdn.test/a.png\">";
  while (page.size() + 15 < bytes) page += "<p>plain</p>\n";
  return page + "</body></html>";
}

// The proxy (resolving site.test to 127.0.0.1) and the origin behind it.
struct Setup {
  CannedOrigin origin;
  RunningProxy proxy;
  explicit Setup(std::map<std::string, Canned> answers)
      : origin(std::move(answers)), proxy(settings()) {}
  static config::Config settings() {
    auto s = test_config();
    s.resolve["site.test"] = "127.0.0.1";
    return s;
  }
  std::string url(const std::string& path) const {
    return "http://site.test:" + std::to_string(origin.port()) + path;
  }
  // The one log line (after stopping the proxy).
  boost::json::object record() {
    proxy.stop();
    const auto recs = proxy.log_records();
    REQUIRE(recs.size() == 1);
    return recs[0];
  }
};

// What curl received: status, header lines (lower-case names) and body, split from -i output.
struct Received {
  int status = 0;
  std::string head, body;
  std::string header(const std::string& name) const {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return {};
    auto v = head.substr(at + 3 + name.size());
    v = v.substr(0, v.find("\r\n"));
    v.erase(0, v.find_first_not_of(' '));
    return v;
  }
};

Received fetch(const Setup& st, std::vector<std::string> args) {
  std::vector<std::string> all{"-i", "-x", st.proxy.url()};
  all.insert(all.end(), args.begin(), args.end());
  const auto r = curl(all);
  REQUIRE(r.exit_code == 0);
  Received got;
  const auto end = r.out.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  got.head = r.out.substr(0, end);
  got.body = r.out.substr(end + 4);
  got.status = status_of(got.head);
  return got;
}

bool has(const boost::json::object& rec, const char* code) {
  const auto codes = finding_codes(rec);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// The finding object with `code` in the record; REQUIREs that it is there.
const boost::json::object& finding(const boost::json::object& rec, const char* code) {
  const auto* fs = find_path(rec, "tlsprobe.findings");
  REQUIRE(fs);
  for (const auto& f : fs->as_array())
    if (f.as_object().at("code").as_string() == code) return f.as_object();
  FAIL("no " << code << " in the log line");
  throw std::logic_error("unreachable");
}

std::string evidence(const boost::json::object& f, const char* key) {
  // Evidence is typed (numbers and booleans as JSON): compare everything as text.
  const auto* e = f.at("evidence").as_object().if_contains(key);
  if (!e) return std::string();
  return e->is_string() ? std::string(e->as_string()) : boost::json::serialize(*e);
}

Canned redirect(int status, const std::string& reason, const std::string& location) {
  return {"HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nLocation: " + location +
              "\r\nContent-Type: text/html\r\n",
          "<a href=\"" + location + "\">moved</a>"};
}

}  // namespace

TEST_CASE("forward http: a plain page answered with content -> http.no_https_redirect") {
  // Larger than the inspector's html bound: the page must stream through whole.
  const Canned page{"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n",
                    html_page(3 * 1024 * 1024)};
  Setup st({{"/", page}});
  const auto got = fetch(st, {st.url("/")});
  CHECK(got.status == 200);
  CHECK(got.body.size() == page.body.size());
  CHECK(sha256_hex(got.body) == sha256_hex(page.body));
  CHECK(got.header("content-type") == "text/html; charset=utf-8");

  const auto rec = st.record();
  CHECK(find_path(rec, "tlsprobe.mode")->as_string() == "forward");
  CHECK_FALSE(has(rec, kNotPermanent));
  const auto& f = finding(rec, kNoRedirect);
  CHECK(f.at("severity").as_string() == "warning");
  CHECK(evidence(f, "url") == "http://site.test:" + std::to_string(st.origin.port()) + "/");
  CHECK(evidence(f, "status") == "200");
  CHECK(evidence(f, "location").empty());
  // A warning: the exchange itself succeeded (event.outcome is for errors and refusals).
  CHECK(find_path(rec, "event.outcome")->as_string() == "success");
}

TEST_CASE("forward http: a temporary redirect to https -> http.redirect_not_permanent") {
  for (const auto& [status, reason] : std::vector<std::pair<int, std::string>>{
           {302, "Found"}, {303, "See Other"}, {307, "Temporary Redirect"}}) {
    DYNAMIC_SECTION("status " << status) {
      const auto answer = redirect(status, reason, "https://site.test/login");
      Setup st({{"/login", answer}});
      const auto got = fetch(st, {st.url("/login")});
      CHECK(got.status == status);
      CHECK(got.header("location") == "https://site.test/login");
      CHECK(got.body == answer.body);
      const auto rec = st.record();
      CHECK_FALSE(has(rec, kNoRedirect));
      const auto& f = finding(rec, kNotPermanent);
      CHECK(f.at("severity").as_string() == "info");
      CHECK(evidence(f, "location") == "https://site.test/login");
      CHECK(evidence(f, "status") == std::to_string(status));
    }
  }
}

TEST_CASE("forward http: a permanent redirect to https on the same host -> neither finding") {
  for (const auto& [status, reason] : std::vector<std::pair<int, std::string>>{
           {301, "Moved Permanently"}, {308, "Permanent Redirect"}}) {
    DYNAMIC_SECTION("status " << status) {
      // Another port on the same host counts as the same site (check_http ignores ports).
      const auto answer = redirect(status, reason, "https://SITE.test:8443/");
      Setup st({{"/", answer}});
      const auto got = fetch(st, {st.url("/")});
      CHECK(got.status == status);
      CHECK(got.header("location") == "https://SITE.test:8443/");
      CHECK(got.body == answer.body);
      const auto rec = st.record();
      CHECK_FALSE(has(rec, kNoRedirect));
      CHECK_FALSE(has(rec, kNotPermanent));
    }
  }
}

TEST_CASE("forward http: a redirect to another http:// URL keeps http.no_https_redirect") {
  const auto answer = redirect(301, "Moved Permanently", "http://site.test/home/");
  Setup st({{"/home", answer}});
  const auto got = fetch(st, {st.url("/home")});
  CHECK(got.status == 301);
  CHECK(got.header("location") == "http://site.test/home/");
  CHECK(got.body == answer.body);
  const auto rec = st.record();
  CHECK_FALSE(has(rec, kNotPermanent));
  const auto& f = finding(rec, kNoRedirect);
  CHECK(evidence(f, "location") == "http://site.test/home/");
  CHECK(evidence(f, "status") == "301");
}

TEST_CASE("forward http: POST, images, errors and HEAD are not judged as pages") {
  const Canned page{"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "<p>thanks</p>"};
  const Canned image{"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n",
                     std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(5000, 'x')};
  const Canned notype{"HTTP/1.1 200 OK\r\n", "??"};
  const Canned missing{"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n", "<p>gone</p>"};
  const Canned not_modified{"HTTP/1.1 304 Not Modified\r\n", ""};
  const std::map<std::string, Canned> answers{{"/form", page},
                                              {"/logo.png", image},
                                              {"/blob", notype},
                                              {"/gone", missing},
                                              {"/cached", not_modified}};

  struct Case {
    const char* name;
    std::vector<std::string> args;
    const char* path;
  };
  const std::vector<Case> cases{
      {"POST answered with an HTML page", {"--data-binary", "a=1"}, "/form"},
      {"an image", {}, "/logo.png"},
      {"a 2xx without Content-Type", {}, "/blob"},
      {"a 404 page", {}, "/gone"},
      {"a 304 revalidation", {}, "/cached"},
      {"HEAD of an HTML page", {"-I"}, "/form"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      Setup st(answers);
      auto args = c.args;
      args.push_back(st.url(c.path));
      const auto got = fetch(st, args);
      const auto& sent = answers.at(c.path);
      CHECK(got.status == status_of(sent.head));
      if (c.args.empty() || c.args[0] != "-I") CHECK(got.body == sent.body);
      const auto rec = st.record();
      CHECK_FALSE(has(rec, kNoRedirect));
      CHECK_FALSE(has(rec, kNotPermanent));
      CHECK(find_path(rec, "http.request.method") != nullptr);
    }
  }
}

TEST_CASE("forward http: keep-alive exchanges add each page's finding once to the one line") {
  const Canned page{"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "<p>a</p>"};
  const Canned other{"HTTP/1.1 200 OK\r\nContent-Type: application/xhtml+xml\r\n", "<p>b</p>"};
  const auto temp = redirect(302, "Found", "https://site.test/secure");
  Setup st({{"/a", page}, {"/b", other}, {"/t", temp}});
  const auto r =
      curl({"-x", st.proxy.url(), st.url("/a"), st.url("/a"), st.url("/b"), st.url("/t")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == page.body + page.body + other.body + temp.body);
  CHECK(st.origin.request_lines().size() == 4);
  const auto rec = st.record();
  const auto codes = finding_codes(rec);
  CHECK(std::count(codes.begin(), codes.end(), kNoRedirect) == 2);  // /a once, /b once
  CHECK(std::count(codes.begin(), codes.end(), kNotPermanent) == 1);
  // Worst first: the warnings before the info.
  REQUIRE(codes.size() == 3);
  CHECK(codes.back() == kNotPermanent);
}

TEST_CASE("forward http: two hosts on one keep-alive client connection get a record each") {
  // Issue 13 item 4: `curl -x proxy http://shop.test/ http://good.test/perm` reuses one client
  // connection. shop.test's http.no_https_redirect must be on shop.test's own line, and
  // good.test (a permanent redirect to https: healthy) must have a line without it.
  const Canned page{"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "<p>shop</p>"};
  const auto perm = redirect(301, "Moved Permanently", "https://good.test/perm");
  CannedOrigin origin({{"/", page}, {"/perm", perm}});
  auto settings = test_config();
  settings.resolve["shop.test"] = "127.0.0.1";
  settings.resolve["good.test"] = "127.0.0.1";
  RunningProxy proxy(settings);
  const auto port = std::to_string(origin.port());
  const auto r = curl(
      {"-x", proxy.url(), "http://shop.test:" + port + "/", "http://good.test:" + port + "/perm"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == page.body + perm.body);
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 2);
  std::map<std::string, boost::json::object> by_host;
  for (const auto& rec : recs)
    by_host[std::string(find_path(rec, "destination.domain")->as_string())] = rec;
  REQUIRE(by_host.count("shop.test") == 1);
  REQUIRE(by_host.count("good.test") == 1);
  CHECK(has(by_host["shop.test"], kNoRedirect));
  CHECK_FALSE(has(by_host["good.test"], kNoRedirect));
  CHECK_FALSE(has(by_host["good.test"], kNotPermanent));
  // Both records describe the same client connection (same client port).
  CHECK(find_path(by_host["shop.test"], "client.port")->as_int64() ==
        find_path(by_host["good.test"], "client.port")->as_int64());
}
