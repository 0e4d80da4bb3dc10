// `tlsprobe proxy --listen 127.0.0.1:0`: the real binary binds a port the OS picks, names it
// in its startup line on stderr, and serves on it (read back the way a script would); its
// "new finding" lines on stderr follow [log] stderr_findings.
#include "proxy_fixture.hpp"
#include "support/loopback_server.hpp"
#include "support/process.hpp"
#include "support/proxy_origin.hpp"
#include "support/proxy_process.hpp"
#include "watch/watch_fixtures.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testsupport::ProxyProcess;

TEST_CASE("proxy --listen 127.0.0.1:0 announces the bound port and serves on it") {
  testsupport::ProxyOrigin origin;
  // The launcher reads the port from the startup line, as a script would.
  ProxyProcess p;
  INFO("stderr: " << p.stderr_text());
  CHECK(p.port() != 0);
  CHECK(p.url() == "http://127.0.0.1:" + std::to_string(p.port()));

  const auto r = curl({"-x", p.url(), "http://" + origin.address() + "/bytes/1000"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == testsupport::pattern_bytes(1000));
  CHECK(origin.requests().size() == 1);

  // The connection went through this proxy: its line is in the log after a clean stop.
  CHECK(p.stop(SIGTERM, 20s).code == 0);
  const auto log = p.log_text();
  REQUIRE_FALSE(log.empty());
  const auto rec = boost::json::parse(log.substr(0, log.find('\n'))).as_object();
  CHECK(find_path(rec, "tlsprobe.mode")->as_string() == "forward");
  CHECK(find_path(rec, "destination.port")->to_number<int>() == origin.port());
}

TEST_CASE("two proxies started with --listen 127.0.0.1:0 get different ports") {
  ProxyProcess a;
  ProxyProcess b;
  INFO("stderr a: " << a.stderr_text() << "\nstderr b: " << b.stderr_text());
  CHECK(a.port() != b.port());
  CHECK(a.stop(SIGTERM, 20s).code == 0);
  CHECK(b.stop(SIGTERM, 20s).code == 0);
}

TEST_CASE("SIGTERM right after the announcement is a clean stop (handlers are in place)") {
  // A script reads the port and may stop the proxy at once: the line is only printed once
  // SIGTERM drains and flushes instead of killing the process.
  for (int i = 0; i < 3; ++i) {
    ProxyProcess p;  // returns once the line is there
    CHECK(p.stop(SIGTERM, 20s).code == 0);
    CHECK(p.stderr_text().find("tlsprobe proxy: stopped;") != std::string::npos);
  }
}

TEST_CASE("a proxy child that cannot start: the launcher says so at once, with its stderr") {
  // The launcher must neither wait out its limit nor hand back a proxy that never listened.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(
      ProxyProcess({.extra = {"--auth", "no-colon"}}),
      Catch::Contains("exited at startup") && Catch::Contains("--auth: expected USER:PASS"));
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);
}

TEST_CASE("proxy --listen still refuses ports out of range and non-loopback without --allow") {
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1:", "0.0.0.0:0"}) {
    INFO(bad);
    const auto r = testsupport::run_tlsprobe({"proxy", "--listen", bad, "--admin", "off"},
                                             std::chrono::seconds(20));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("tlsprobe proxy:") != std::string::npos);
  }
}

namespace {

// A plain-HTTP origin that answers every request with one small HTML page (no redirect to
// HTTPS: http.no_https_redirect).
testsupport::LoopbackServer html_origin() {
  return testsupport::LoopbackServer([](int fd) {
    std::string got;
    char buf[4096];
    // The request head only (curl sends no body), bounded by size and a 5 s wait per read.
    while (got.find("\r\n\r\n") == std::string::npos && got.size() < 65536) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      got.append(buf, static_cast<std::size_t>(n));
    }
    const std::string page = "<p>plain</p>";
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                              std::to_string(page.size()) + "\r\nConnection: close\r\n\r\n" + page;
    (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  });
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a plain page's finding is on stderr once; stderr_findings = false keeps it log-only") {
  auto origin = html_origin();
  for (const bool quiet : {false, true}) {
    INFO("stderr_findings = " << (quiet ? "false" : "true"));
    ProxyProcess p({.config_toml = std::string("[log]\nstderr_findings = ") +
                                   (quiet ? "false" : "true") + "\n"});
    for (int i = 0; i < 2; ++i) {
      const auto r = curl({"-x", p.url(), "http://" + origin.address() + "/"});
      CHECK(r.out == "<p>plain</p>");
    }
    CHECK(p.stop(SIGTERM, 20s).code == 0);
    const auto err = p.stderr_text();
    INFO("stderr: " << err);
    // Announced once for the two page loads (a "new finding" line), never when quiet.
    CHECK(count_of(err, "tlsprobe: warning http.no_https_redirect") == (quiet ? 0u : 1u));
    // The log has it on both connections either way.
    CHECK(count_of(p.log_text(), "\"http.no_https_redirect\"") == 2);
  }
}

TEST_CASE(
    "--intercept says intercept mode, prints the new CA's fingerprint and a hint that works") {
  ProxyProcess p({.extra = {"--intercept", "--state-dir", "{dir}/my ca"}});
  const std::string err = p.stderr_text();
  INFO("stderr: " << err);
  CHECK(err.find("(intercept mode)") != std::string::npos);
  CHECK(err.find("(forward mode)") == std::string::npos);
  const std::string ca_dir = (p.dir() / "my ca").string();
  // The hint names the state directory (quoted: it has a space), so it works as printed.
  CHECK(err.find("`tlsprobe ca export --state-dir '" + ca_dir + "' > tlsprobe-ca.pem`") !=
        std::string::npos);
  const auto exported = testsupport::run_tlsprobe({"ca", "export", "--state-dir", ca_dir});
  CHECK(exported.exit_code == 0);
  CHECK(exported.out.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  // The fingerprint printed is the CA's (as `ca init` shows it for the kept CA).
  const auto init = testsupport::run_tlsprobe({"ca", "init", "--state-dir", ca_dir});
  REQUIRE(init.exit_code == 0);
  const auto fp_at = init.out.find("SHA-256 fingerprint: ");
  REQUIRE(fp_at != std::string::npos);
  const std::string fp = init.out.substr(fp_at + 21, 95);
  CHECK(err.find("(SHA-256 " + fp + ")") != std::string::npos);
  CHECK(p.stop(SIGTERM, 20s).code == 0);
}

TEST_CASE("a flag that does not apply to the chosen mode is a usage error with its reason") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--upstream", "https://127.0.0.1:1"}, "--upstream applies to --mode reverse only"},
      {{"--upstream-sni", "origin.example"}, "--upstream-sni applies to --mode reverse only"},
      {{"--tls-cert", "x.pem"}, "--tls-cert applies to --mode reverse only"},
      {{"--mode", "reverse", "--upstream", "https://127.0.0.1:1", "--intercept"},
       "--intercept applies to forward mode only"},
      {{"--no-intercept", "bank.example"}, "--no-intercept applies with --intercept only"},
      {{"--auth", "no-colon"}, "--auth: expected USER:PASS"},
      {{"--auth-file", "/nonexistent/auth"}, "--auth-file /nonexistent/auth: cannot read it"},
  };
  for (const auto& [args, reason] : cases) {
    std::vector<std::string> argv = {"proxy", "--listen", "127.0.0.1:0", "--admin", "off"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testsupport::run_tlsprobe(argv, 20s);
    INFO(reason << "\nstderr: " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(r.err.rfind("tlsprobe proxy: ", 0) == 0);
    CHECK(count_of(r.err, "\n") == 1u);  // one line
    CHECK(r.err.find(reason) != std::string::npos);
  }
}

TEST_CASE("--auth and --auth-file require Basic proxy credentials") {
  testsupport::ProxyOrigin origin;
  const testsupport::TempDir dir("auth");
  const auto auth_file = dir / "auth";
  std::ofstream(auth_file) << "alice:s3cret\n";
  for (const bool from_file : {false, true}) {
    INFO((from_file ? "--auth-file" : "--auth"));
    ProxyProcess p({.extra = {from_file ? "--auth-file" : "--auth",
                              from_file ? auth_file.string() : "alice:s3cret"}});
    const auto proxy_url = p.url();
    const auto url = "http://" + origin.address() + "/bytes/10";
    const auto anonymous =
        curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url, url});
    CHECK(anonymous.out == "407");
    const auto wrong = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url,
                             "--proxy-user", "alice:wrong", url});
    CHECK(wrong.out == "407");
    const auto right = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url,
                             "--proxy-user", "alice:s3cret", url});
    CHECK(right.out == "200");
    CHECK(p.stop(SIGTERM, 20s).code == 0);
  }
}

TEST_CASE("the proxy's watcher announces its findings on stderr, once per subject and code") {
  watchtest::WatchPki pki{testpki::now()};
  auto origin = pki.serve(pki.current);
  auto stale_edge = pki.serve(pki.old_soon);  // within warn_days: edge.stale is an error
  testpki::TempPemFile root_pem{pki.root.cert_pem()};
  ProxyProcess p({.config_toml = "[[site]]\nhost = \"" + std::string(watchtest::site_host) +
                                 "\"\norigin = \"" + origin->address() + "\"\nedges = [\"" +
                                 stale_edge->address() + "\"]\n",
                  .extra = {"--ca-file", root_pem.path()}});
  CHECK(p.wait_for_stderr("tlsprobe: error edge.stale", 30s));
  CHECK(p.stop(SIGTERM, 20s).code == 0);
  const auto err = p.stderr_text();
  INFO("stderr: " << err);
  CHECK(count_of(err, "tlsprobe: error edge.stale") == 1u);
  // The log has the record too.
  CHECK(p.log_text().find("\"edge.stale\"") != std::string::npos);
}

// Issue 12 item 8: no secrets in world-readable logs. Before: url.full kept the query
// (`?code=…&api_key=…`) in a 0644 file in a 0755 directory, and the finding announced on
// stderr quoted the same URL. Now the query is dropped everywhere unless [log] keep_query =
// true, the file is 0640 and its new directory 0750 (less a stricter umask).
TEST_CASE("log.keep_query: URLs are logged without their query by default, in a 0640 file") {
  auto origin = html_origin();
  const mode_t umask_now = ::umask(022);
  ::umask(umask_now);
  for (const bool keep : {false, true}) {
    INFO("keep_query = " << (keep ? "true" : "false"));
    // The log in a directory the proxy makes: its mode is checked too.
    ProxyProcess p(
        {.log = "{dir}/logs/connections.jsonl",
         .config_toml = std::string("[log]\nkeep_query = ") + (keep ? "true" : "false") + "\n"});
    const auto page = "http://" + origin.address() + "/login";
    const auto r = curl({"-x", p.url(), page + "?code=SECRETCODE&api_key=SECRETKEY"});
    CHECK(r.out == "<p>plain</p>");
    CHECK(p.stop(SIGTERM, 20s).code == 0);
    const auto err = p.stderr_text();
    const auto log = p.log_text();
    INFO("stderr: " << err << "\nlog: " << log);
    REQUIRE(count_of(log, "\n") == 1);
    const auto rec = boost::json::parse(log).as_object();
    const auto& url = rec.at("url").as_object();
    CHECK(count_of(err, "tlsprobe: warning http.no_https_redirect") == 1);
    if (!keep) {
      CHECK(url.at("full").as_string() == page);
      CHECK(url.if_contains("query") == nullptr);
      CHECK(count_of(log, "SECRET") == 0);  // not in url.full, not in a finding's evidence
      CHECK(count_of(err, "SECRET") == 0);  // nor in the announcement on stderr
    } else {
      CHECK(url.at("full").as_string() == page + "?code=SECRETCODE&api_key=SECRETKEY");
      CHECK(url.at("query").as_string() == "code=SECRETCODE&api_key=SECRETKEY");
    }
    struct stat st {};
    REQUIRE(::stat((p.dir() / "logs" / "connections.jsonl").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == (0640 & ~umask_now));
    REQUIRE(::stat((p.dir() / "logs").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == (0750 & ~umask_now));
  }
}
