// Headless Chromium that trusts the tlsprobe CA (an NSS db in a temporary HOME) loads an
// HTTPS page through the intercepting proxy (issue 4 item 6). Skipped with a warning when
// chromium or certutil is not installed.
#include "http_peers.hpp"
#include "intercept_fixture.hpp"

#include <cstdlib>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

bool installed(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// A HOME whose NSS db (~/.pki/nssdb, what Chromium on Linux reads) trusts `ca_pem` for TLS.
// Removed with the object.
class BrowserHome {
 public:
  explicit BrowserHome(const std::string& ca_pem) : dir_("chromium") {
    const auto db = dir_.path / ".pki" / "nssdb";
    fs::create_directories(db);
    const std::string nss = "sql:" + db.string();
    auto r = testsupport::run_process({"certutil", "-d", nss, "-N", "--empty-password"}, 20s);
    REQUIRE(r.exit_code == 0);
    r = testsupport::run_process(
        {"certutil", "-d", nss, "-A", "-t", "C,,", "-n", "tlsprobe-ca", "-i", ca_pem}, 20s);
    REQUIRE(r.exit_code == 0);
  }
  const fs::path& path() const { return dir_.path; }

 private:
  testsupport::TempDir dir_;
};

testsupport::ProcessResult chromium_dump_dom(const BrowserHome& home, const std::string& proxy,
                                             const std::string& url) {
  return testsupport::run_process(
      {"env", "HOME=" + home.path().string(), "chromium", "--headless", "--no-sandbox",
       "--disable-gpu", "--disable-background-networking", "--disable-component-update",
       "--disable-sync", "--no-first-run", "--user-data-dir=" + (home.path() / "profile").string(),
       "--proxy-server=" + proxy,
       // Nothing is resolved by the browser itself: the proxy resolves good.test.
       "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--dump-dom", url},
      30s);
}

}  // namespace

TEST_CASE("intercept browser: headless Chromium trusting the tlsprobe CA loads a page") {
  if (!installed("chromium") || !installed("certutil")) {
    WARN("chromium or certutil not installed: intercepting browser test skipped");
    return;
  }
  auto good = testpki::make_hierarchy({"good.test"}, testpki::now());
  const std::string page =
      "<!DOCTYPE html><html><head><title>t</title></head><body>"
      "<p id=\"marker\">served through tlsprobe intercept</p></body></html>";
  std::atomic<int> pages{0};
  ScriptedUpstream up(ServedChain::of(good), [&](TlsIo& io) {
    for (int i = 0; i < 20; ++i) {
      const auto req = io.read_message(false, 5s);
      if (!req.complete) return;
      const bool root = req.head.target() == "/";
      if (root) ++pages;
      const auto res =
          root ? http_response(200, "OK", page, "Strict-Transport-Security: max-age=300\r\n",
                               "text/html; charset=utf-8")
               : http_response(404, "Not Found", "no");
      if (!io.write(res)) return;
    }
  });
  InterceptingProxy proxy({.anchors = {good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  BrowserHome home(proxy.ca_path());
  const auto url = "https://good.test:" + std::to_string(up.port()) + "/";
  const auto r = chromium_dump_dom(home, proxy.url(), url);
  INFO("stderr: " << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out.find("served through tlsprobe intercept") != std::string::npos);
  CHECK(pages >= 1);
  CHECK(proxy.interceptor().counters.relayed >= 1);
  CHECK(proxy.interceptor().counters.client_rejected == 0);  // Chromium accepted our leaf
  const auto lines = proxy.log_lines();
  REQUIRE_FALSE(lines.empty());
  bool page_line = false;
  for (const auto& l : lines)
    if (str_at(l, {"url", "full"}).rfind(url, 0) == 0 &&
        str_at(l, {"tlsprobe", "mode"}) == "intercept")
      page_line = true;
  CHECK(page_line);
}
