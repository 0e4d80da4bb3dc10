// `tlsprobe proxy` as a child process: metrics on the admin listener, the watcher for sites
// with edges, edge/origin comparison via [resolve] + [[site]], event.outcome of failures.
// Everything on 127.0.0.1, every wait bounded.
#include "proxy_fixture.hpp"
#include "support/loopback_server.hpp"
#include "support/proxy_origin.hpp"
#include "support/proxy_process.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testsupport::ProxyProcess;

namespace {

// Polls `pred` every 50 ms for at most `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

std::string scrape(std::uint16_t admin_port) {
  const auto r =
      testsupport::run_process({"curl", "-s", "--noproxy", "*", "--max-time", "5",
                                "http://127.0.0.1:" + std::to_string(admin_port) + "/metrics"},
                               std::chrono::milliseconds(10000));
  return r.out;
}

// The value of the first sample line starting with `prefix` ("name{labels}"), -1 if none.
double sample(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return std::atof(line.c_str() + line.rfind(' ') + 1);
  return -1;
}

bool has_code(const boost::json::object& rec, const std::string& code) {
  const auto codes = finding_codes(rec);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// A site "www.site.test" whose edge serves an older certificate than its origin, both
// issued by one test root.
testpki::Issued make_test_root() {
  const auto now = testpki::now();
  testpki::CertSpec r;
  r.common_name = "tlsprobe wiring test root";
  r.is_ca = true;
  r.not_before = now - std::chrono::days(400);
  r.not_after = now + std::chrono::days(3000);
  return testpki::make_root(r);
}

// A leaf for www.site.test issued `age_days` ago, valid for `left_days` more.
testpki::Issued make_site_leaf(const testpki::Issued& root, int age_days, int left_days) {
  const auto now = testpki::now();
  testpki::CertSpec l;
  l.common_name = "www.site.test";
  l.dns_names = {"www.site.test"};
  l.not_before = now - std::chrono::days(age_days);
  l.not_after = now + std::chrono::days(left_days);
  return testpki::issue(root, l);
}

struct EdgeAndOrigin {
  testpki::Issued root = make_test_root();
  testpki::Issued old_leaf = make_site_leaf(root, 200, 150);
  testpki::Issued new_leaf = make_site_leaf(root, 2, 300);
  std::unique_ptr<testsupport::TlsTestServer> edge, origin;
  std::unique_ptr<testpki::TempPemFile> root_pem;

  EdgeAndOrigin() {
    root_pem = std::make_unique<testpki::TempPemFile>(root.cert_pem());
    const std::string body = "<html><body>site ok</body></html>";
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    testsupport::TlsServerOptions eo;
    eo.default_chain = testsupport::ServedChain::of(old_leaf);
    eo.reply = reply;
    edge = std::make_unique<testsupport::TlsTestServer>(eo);
    testsupport::TlsServerOptions oo;
    oo.default_chain = testsupport::ServedChain::of(new_leaf);
    oo.reply = reply;
    origin = std::make_unique<testsupport::TlsTestServer>(oo);
  }
  std::string edge_port() const { return std::to_string(edge->port()); }
  std::string origin_addr() const { return "127.0.0.1:" + std::to_string(origin->port()); }
};

}  // namespace

TEST_CASE("proxy binary: /metrics counts tunnels, forwards, bytes, findings and notAfter") {
  testsupport::ProxyOrigin http_origin;
  auto pki = testpki::make_hierarchy({"test.example"}, testpki::now());
  testpki::TempPemFile root_pem(pki.root.cert_pem());
  testsupport::TlsServerOptions o;
  o.default_chain = testsupport::ServedChain::of(pki);
  o.reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  testsupport::TlsTestServer tls(o);
  const auto tls_port = std::to_string(tls.port());
  // No --ca-file: the proxy does not trust the test root, so the tunnel's line has
  // chain.untrusted_root, and cert_not_after_seconds is kept anyway.
  ProxyProcess proxy(
      {.config_toml = "[resolve]\n\"test.example:" + tls_port + "\" = \"127.0.0.1\"\n",
       .admin = "127.0.0.1:0"});
  const auto admin = proxy.admin_port();
  REQUIRE(admin != 0);

  auto r = curl({"-x", proxy.url(), "http://" + http_origin.address() + "/bytes/1000"});
  REQUIRE(r.exit_code == 0);
  r = curl(
      {"-x", proxy.url(), "--cacert", root_pem.path(), "https://test.example:" + tls_port + "/"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "ok\n");

  std::string text;
  const bool seen = eventually([&] {
    text = scrape(admin);
    return sample(text, "tlsprobe_findings_total{code=\"chain.untrusted_root\"") >= 1;
  });
  INFO(text);
  CHECK(seen);
  CHECK(sample(text, "tlsprobe_connections_total{mode=\"tunnel\"}") >= 1);
  CHECK(sample(text, "tlsprobe_connections_total{mode=\"forward\"}") >= 1);
  CHECK(sample(text, "tlsprobe_bytes_total{mode=\"tunnel\",direction=\"client_to_server\"}") > 0);
  CHECK(sample(text, "tlsprobe_bytes_total{mode=\"tunnel\",direction=\"server_to_client\"}") > 0);
  CHECK(sample(text, "tlsprobe_bytes_total{mode=\"forward\",direction=\"server_to_client\"}") >=
        1000);
  CHECK(sample(text, "tlsprobe_probes_total{outcome=\"ok\"}") >= 1);
  CHECK(sample(text, "tlsprobe_open_connections") == 0);
  const auto not_after = sample(text, "tlsprobe_cert_not_after_seconds{host=\"test.example\"");
  CHECK(not_after == Approx(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                                    pki.leaf.cert.not_after().time_since_epoch())
                                                    .count()))
                         .epsilon(0));
  CHECK(text.find("tlsprobe_log_lines_dropped_total 0") != std::string::npos);

  // promtool, when installed, agrees the exposition is valid.
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    testpki::TempPemFile scraped(text);
    const auto p =
        testsupport::run_process({"sh", "-c", "promtool check metrics < " + scraped.path()},
                                 std::chrono::milliseconds(20000));
    INFO(p.out << p.err);
    CHECK(p.exit_code == 0);
  } else {
    WARN("promtool not installed: exposition format not checked by promtool");
  }
  proxy.stop();
}

TEST_CASE("proxy binary: a busy admin port is a warning, not a failure") {
  testsupport::LoopbackServer busy([](int) {}, 1);
  ProxyProcess proxy({.admin = "127.0.0.1:" + std::to_string(busy.port())});
  CHECK(proxy.stderr_text().find("warning: admin listener") != std::string::npos);
  testsupport::ProxyOrigin http_origin;
  const auto r = curl({"-x", proxy.url(), "http://" + http_origin.address() + "/bytes/10"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("proxy binary: sites with edges are watched, records go to the proxy's log") {
  EdgeAndOrigin s;
  const std::string toml =
      "watch_interval = \"1h\"\n[[site]]\nhost = \"www.site.test\"\n"
      "edges = [\"127.0.0.1:" +
      s.edge_port() + "\"]\norigin = \"" + s.origin_addr() + "\"\n";
  ProxyProcess proxy({.config_toml = toml, .extra = {"--ca-file", s.root_pem->path()}});
  const bool seen = eventually([&] {
    const auto log = proxy.log_text();
    return log.find("\"mode\":\"watch\"") != std::string::npos &&
           log.find("edge.stale") != std::string::npos;
  });
  INFO(proxy.log_text() << proxy.stderr_text());
  CHECK(seen);
  proxy.stop();
  bool edge = false, origin = false;
  for (const auto& rec : proxy.log_records()) {
    const auto* mode = find_path(rec, "tlsprobe.mode");
    if (!mode || mode->as_string() != "watch") continue;
    const auto* port = find_path(rec, "destination.port");
    REQUIRE(port);
    if (port->to_number<int>() == s.edge->port()) {
      edge = true;
      CHECK(has_code(rec, "edge.stale"));
    }
    if (port->to_number<int>() == s.origin->port()) origin = true;
  }
  CHECK(edge);
  CHECK(origin);
}

TEST_CASE("proxy binary: [resolve] + [[site]]: a tunnel to a stale edge logs edge.stale") {
  EdgeAndOrigin s;
  // The client asks for www.site.test:EDGE; [resolve] sends it to the edge on 127.0.0.1, the
  // site's origin is probed beside it and compared.
  const std::string toml = "[resolve]\n\"www.site.test:" + s.edge_port() +
                           "\" = \"127.0.0.1\"\n[[site]]\nhost = \"www.site.test\"\norigin = \"" +
                           s.origin_addr() + "\"\n";
  ProxyProcess proxy({.config_toml = toml, .extra = {"--ca-file", s.root_pem->path()}});
  const auto r = curl({"-x", proxy.url(), "--cacert", s.root_pem->path(),
                       "https://www.site.test:" + s.edge_port() + "/"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("site ok") != std::string::npos);
  proxy.stop();
  const auto recs = proxy.log_records();
  INFO(proxy.log_text() << proxy.stderr_text());
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tlsprobe.mode")->as_string() == "tunnel");
  CHECK(find_path(recs[0], "tls.client.server_name")->as_string() == "www.site.test");
  CHECK(has_code(recs[0], "edge.stale"));
}

TEST_CASE("proxy binary: a refused upstream connection logs event.outcome failure") {
  ProxyProcess proxy;
  const auto dead = std::to_string(testsupport::unused_port());
  // CONNECT to a closed port (502) and a plain GET to one (502).
  auto r = curl({"-x", proxy.url(), "-k", "https://127.0.0.1:" + dead + "/"});
  CHECK(r.exit_code != 0);
  r = curl({"-x", proxy.url(), "-o", "/dev/null", "-w", "%{http_code}",
            "http://127.0.0.1:" + dead + "/"});
  CHECK(r.out == "502");
  proxy.stop();
  const auto recs = proxy.log_records();
  INFO(proxy.log_text());
  REQUIRE(recs.size() == 2);
  for (const auto& rec : recs) {
    REQUIRE(find_path(rec, "event.outcome"));
    CHECK(find_path(rec, "event.outcome")->as_string() == "failure");
  }
}

TEST_CASE("headless Chromium loads http:// and https:// pages through the proxy binary") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0 ||
      std::system("command -v certutil >/dev/null 2>&1") != 0) {
    WARN("chromium or certutil not installed: browser test skipped");
    return;
  }
  EdgeAndOrigin s;  // the edge serves https://www.site.test:EDGE/ (old cert, still valid)
  // A plain http:// origin answering one small HTML page to any request.
  testsupport::LoopbackServer http_origin([](int fd) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 5000) <= 0) return;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<std::size_t>(n));
    }
    const std::string body = "<html><body>plain ok</body></html>";
    const std::string res = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    (void)::send(fd, res.data(), res.size(), MSG_NOSIGNAL);
  });
  const testsupport::TempDir home("chromium");
  const auto nssdb = "sql:" + (home / ".pki" / "nssdb").string();
  fs::create_directories(home / ".pki" / "nssdb");
  auto r = testsupport::run_process({"certutil", "-d", nssdb, "-N", "--empty-password"},
                                    std::chrono::milliseconds(20000));
  REQUIRE(r.exit_code == 0);
  r = testsupport::run_process(
      {"certutil", "-d", nssdb, "-A", "-t", "C,,", "-n", "tlsprobe-test", "-i", s.root_pem->path()},
      std::chrono::milliseconds(20000));
  REQUIRE(r.exit_code == 0);
  const std::string toml =
      "[resolve]\n\"www.site.test:" + s.edge_port() +
      "\" = \"127.0.0.1\"\n\"plain.site.test:" + std::to_string(http_origin.port()) +
      "\" = \"127.0.0.1\"\n";
  ProxyProcess proxy({.config_toml = toml, .extra = {"--ca-file", s.root_pem->path()}});
  const auto chromium = [&](const std::string& url) {
    return testsupport::run_process(
        {"env", "HOME=" + home.str(), "chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--user-data-dir=" + (home / "profile").string(),
         "--proxy-server=" + proxy.url(), "--dump-dom", url},
        std::chrono::milliseconds(30000));
  };
  r = chromium("https://www.site.test:" + s.edge_port() + "/");
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out.find("site ok") != std::string::npos);
  r = chromium("http://plain.site.test:" + std::to_string(http_origin.port()) + "/");
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out.find("plain ok") != std::string::npos);
  proxy.stop();
  bool tunnel = false;
  for (const auto& rec : proxy.log_records()) {
    const auto* sni = find_path(rec, "tls.client.server_name");
    if (sni && sni->as_string() == "www.site.test") tunnel = true;
  }
  CHECK(tunnel);
}

TEST_CASE("proxy binary: reverse mode counts its connections, bytes and origin findings") {
  auto pki = testpki::make_hierarchy({"origin.example"}, testpki::now());
  testpki::TempPemFile root_pem(pki.root.cert_pem());
  testsupport::TlsServerOptions o;
  o.default_chain = testsupport::ServedChain::of(pki);
  o.reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  testsupport::TlsTestServer origin(o);
  const auto origin_port = std::to_string(origin.port());
  ProxyProcess proxy(
      {.config_toml = "[resolve]\n\"origin.example:" + origin_port + "\" = \"127.0.0.1\"\n",
       .extra = {"--ca-file", root_pem.path(), "--mode", "reverse", "--upstream",
                 "https://origin.example:" + origin_port, "--state-dir", "{dir}/state"},
       .admin = "127.0.0.1:0"});
  const auto admin = proxy.admin_port();
  REQUIRE(admin != 0);
  // The CDN's side: TLS straight to the proxy (minted leaf: -k), Host = the origin's name.
  const auto proxy_port = proxy.url().substr(proxy.url().rfind(':') + 1);
  auto r = curl({"-k", "--resolve", "origin.example:" + proxy_port + ":127.0.0.1",
                 "https://origin.example:" + proxy_port + "/"});
  INFO(proxy.stderr_text());
  CHECK(r.out == "ok\n");
  std::string text;
  const bool seen = eventually([&] {
    text = scrape(admin);
    return sample(text, "tlsprobe_connections_total{mode=\"reverse\"}") >= 1;
  });
  INFO(text);
  CHECK(seen);
  CHECK(sample(text, "tlsprobe_bytes_total{mode=\"reverse\",direction=\"server_to_client\"}") > 0);
  CHECK(text.find("tlsprobe_cert_not_after_seconds{host=\"origin.example\",role=\"origin\"") !=
        std::string::npos);
  proxy.stop();
}
