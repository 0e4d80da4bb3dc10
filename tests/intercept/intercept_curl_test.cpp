// curl through the intercepting proxy to in-process TLS servers: the healthy case, every
// failure scenario of the probe issue under explain / mirror / pass, SNI rules, pinned and
// no_intercept hosts, the CA page.
#include "intercept_fixture.hpp"
#include "support/nginx_server.hpp"
#include "support/tls_test_server.hpp"

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

const std::string kUpstreamBody = "UPSTREAM-BODY\n";
const std::string kReply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(kUpstreamBody.size()) + "\r\nConnection: close\r\n\r\n" +
                           kUpstreamBody;

std::string url_for(const std::string& host, std::uint16_t port) {
  return "https://" + host + ":" + std::to_string(port) + "/";
}

// One upstream server whose default chain is `chain` (and, optionally, per-SNI chains).
std::unique_ptr<TlsTestServer> server_with(ServedChain chain,
                                           std::map<std::string, ServedChain> by_sni = {}) {
  TlsServerOptions o;
  o.default_chain = std::move(chain);
  o.by_sni = std::move(by_sni);
  o.reply = kReply;
  return std::make_unique<TlsTestServer>(o);
}

struct Scenario {
  const char* name;
  const char* code;
};

// The upstream for each failure scenario of the probe issue, all named bad.test.
std::unique_ptr<TlsTestServer> failing_server(const std::string& name, const GoodRootFileLab& lab) {
  const auto now = testpki::now();
  if (name == "self_signed") {
    auto leaf = testpki::make_self_signed({.common_name = "bad.test",
                                           .dns_names = {"bad.test"},
                                           .not_before = now - std::chrono::days(1),
                                           .not_after = now + std::chrono::days(30)});
    return server_with(ServedChain::of(leaf));
  }
  if (name == "untrusted_root") {
    auto other = testpki::make_hierarchy({"bad.test"}, now);
    return server_with(ServedChain::of(other));
  }
  if (name == "incomplete") {
    // The intermediate is not sent; its AIA URL says what is missing.
    auto leaf = testpki::issue(lab.good.intermediate,
                               {.common_name = "bad.test",
                                .dns_names = {"bad.test"},
                                .not_before = now - std::chrono::days(1),
                                .not_after = now + std::chrono::days(30),
                                .aia_issuer_url = "http://ca.test/intermediate.crt"});
    return server_with(ServedChain::of(leaf));
  }
  if (name == "expired") {
    auto leaf = testpki::issue(lab.good.intermediate, {.common_name = "bad.test",
                                                       .dns_names = {"bad.test"},
                                                       .not_before = now - std::chrono::days(60),
                                                       .not_after = now - std::chrono::days(2)});
    return server_with(ServedChain::of(leaf, {lab.good.intermediate.cert}));
  }
  if (name == "wrong_name") {
    // bad.test has its own (wrong) certificate; the default one differs.
    auto wrong = testpki::issue(lab.good.intermediate, {.common_name = "other.test",
                                                        .dns_names = {"other.test"},
                                                        .not_before = now - std::chrono::days(1),
                                                        .not_after = now + std::chrono::days(30)});
    auto deflt = testpki::issue(lab.good.intermediate, {.common_name = "default.test",
                                                        .dns_names = {"default.test"},
                                                        .not_before = now - std::chrono::days(1),
                                                        .not_after = now + std::chrono::days(30)});
    return server_with(ServedChain::of(deflt, {lab.good.intermediate.cert}),
                       {{"bad.test", ServedChain::of(wrong, {lab.good.intermediate.cert})}});
  }
  // default_cert: no virtual host for bad.test, the default certificate answers.
  auto deflt = testpki::issue(lab.good.intermediate, {.common_name = "default.test",
                                                      .dns_names = {"default.test"},
                                                      .not_before = now - std::chrono::days(1),
                                                      .not_after = now + std::chrono::days(30)});
  return server_with(ServedChain::of(deflt, {lab.good.intermediate.cert}));
}

const Scenario kScenarios[] = {
    {"self_signed", "cert.self_signed"}, {"untrusted_root", "chain.untrusted_root"},
    {"incomplete", "chain.incomplete"},  {"expired", "cert.expired"},
    {"wrong_name", "name.mismatch"},     {"default_cert", "sni.default_cert"},
};

}  // namespace

TEST_CASE("intercept: healthy upstream through curl with --cacert of our CA") {
  GoodRootFileLab lab;
  auto up = server_with(ServedChain::of(lab.good));
  InterceptingProxy proxy(
      {.anchors = {lab.good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url_for("good.test", up->port()), proxy.ca_path());
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.http_code == 200);
  CHECK(r.body == kUpstreamBody);
  // Upstream SNI exactly as the client sent it.
  const auto sni = up->sni_seen();
  REQUIRE_FALSE(sni.empty());
  CHECK(sni.front() == std::optional<std::string>("good.test"));
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(str_at(lines[0], {"tlsprobe", "mode"}) == "intercept");
  CHECK(str_at(lines[0], {"tls", "client", "server_name"}) == "good.test");
  for (const auto& c : finding_codes(lines[0])) CHECK(c.rfind("cert.", 0) != 0);
  CHECK(proxy.interceptor().counters.relayed == 1);
}

TEST_CASE("intercept: every failure scenario is explained (502 naming the cause), never relayed") {
  GoodRootFileLab lab;
  for (const auto& sc : kScenarios) {
    DYNAMIC_SECTION(sc.name) {
      auto up = failing_server(sc.name, lab);
      InterceptingProxy proxy(
          {.anchors = {lab.good.root.cert}, .resolve = {{"bad.test", "127.0.0.1"}}});
      const auto r = curl(proxy, url_for("bad.test", up->port()), proxy.ca_path());
      INFO(r.err << r.body);
      CHECK(r.exit_code == 0);  // our trusted leaf: the client connects and reads the page
      CHECK(r.http_code == 502);
      CHECK(r.body.find(sc.code) != std::string::npos);
      CHECK(r.body.find("UPSTREAM-BODY") == std::string::npos);
      // Browsers get HTML.
      const auto h = curl(proxy, url_for("bad.test", up->port()), proxy.ca_path(),
                          {"-H", "Accept: text/html,*/*;q=0.8"});
      CHECK(h.http_code == 502);
      CHECK(h.body.rfind("<!DOCTYPE html>", 0) == 0);
      CHECK(h.body.find(sc.code) != std::string::npos);
      const auto lines = proxy.log_lines();
      REQUIRE(lines.size() == 2);
      CHECK(has_code(finding_codes(lines[0]), sc.code));
      CHECK(proxy.interceptor().counters.explained == 2);
    }
  }
}

TEST_CASE("intercept: mirror makes the client see its own certificate error") {
  GoodRootFileLab lab;
  auto up = failing_server("self_signed", lab);
  InterceptingProxy proxy({.anchors = {lab.good.root.cert},
                           .policy = config::UpstreamErrorPolicy::mirror,
                           .resolve = {{"bad.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url_for("bad.test", up->port()), proxy.ca_path());
  CHECK(r.exit_code == 60);  // CURLE_PEER_FAILED_VERIFICATION
  CHECK(r.body.find("UPSTREAM-BODY") == std::string::npos);
  // A healthy upstream is still relayed under mirror.
  auto good = server_with(ServedChain::of(lab.good));
  InterceptingProxy proxy2({.anchors = {lab.good.root.cert},
                            .policy = config::UpstreamErrorPolicy::mirror,
                            .resolve = {{"good.test", "127.0.0.1"}}});
  CHECK(curl(proxy2, url_for("good.test", good->port()), proxy2.ca_path()).http_code == 200);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(has_code(finding_codes(lines[0]), "cert.self_signed"));
  CHECK(proxy.interceptor().counters.mirrored == 1);
  CHECK(proxy.interceptor().policy().pinned_count() == 0);  // a mirror rejection pins nothing
}

TEST_CASE("intercept: pass forwards a failed upstream and logs its findings") {
  GoodRootFileLab lab;
  auto up = failing_server("expired", lab);
  InterceptingProxy proxy({.anchors = {lab.good.root.cert},
                           .policy = config::UpstreamErrorPolicy::pass,
                           .resolve = {{"bad.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url_for("bad.test", up->port()), proxy.ca_path());
  CHECK(r.http_code == 200);
  CHECK(r.body == kUpstreamBody);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(has_code(finding_codes(lines[0]), "cert.expired"));
  CHECK(proxy.interceptor().counters.passed == 1);
}

TEST_CASE("intercept: a client that rejects our CA gets the host tunnelled from then on") {
  GoodRootFileLab lab;
  auto up = server_with(ServedChain::of(lab.good));
  InterceptingProxy proxy(
      {.anchors = {lab.good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  // The client trusts only the real root (a pinned app): it refuses our leaf (unknown_ca).
  const auto first = curl(proxy, url_for("good.test", up->port()), lab.root_pem.path());
  CHECK(first.exit_code == 60);
  // curl exits as soon as it has sent its alert; the proxy reads that alert and remembers the
  // host a moment later, so wait (bounded) for it before the second attempt.
  for (int i = 0; i < 200 && proxy.interceptor().counters.pinned == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(proxy.interceptor().counters.pinned == 1);
  const auto second = curl(proxy, url_for("good.test", up->port()), lab.root_pem.path());
  INFO(second.err);
  CHECK(second.http_code == 200);
  CHECK(second.body == kUpstreamBody);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 2);
  CHECK(str_at(lines[0], {"tlsprobe", "mode"}) == "intercept");
  CHECK(str_at(lines[0], {"event", "reason"}).find("tunnelled for this client") !=
        std::string::npos);
  CHECK(str_at(lines[1], {"tlsprobe", "mode"}) == "tunnel");
}

TEST_CASE("intercept: no_intercept hosts are tunnelled untouched") {
  GoodRootFileLab lab;
  auto up = server_with(ServedChain::of(lab.good));
  InterceptingProxy proxy({.anchors = {lab.good.root.cert},
                           .no_intercept = {"*.test"},
                           .resolve = {{"good.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url_for("good.test", up->port()), lab.root_pem.path());
  CHECK(r.http_code == 200);
  CHECK(proxy.interceptor().counters.tunnelled == 1);
  CHECK(proxy.interceptor().counters.intercepted == 0);
}

TEST_CASE("intercept: an IP literal host is never sent as SNI; the minted leaf has the IP SAN") {
  GoodRootFileLab lab;
  auto leaf =
      testpki::issue(lab.good.intermediate, {.common_name = "ip",
                                             .ip_names = {"127.0.0.1"},
                                             .not_before = testpki::now() - std::chrono::days(1),
                                             .not_after = testpki::now() + std::chrono::days(30)});
  auto up = server_with(ServedChain::of(leaf, {lab.good.intermediate.cert}));
  InterceptingProxy proxy({.anchors = {lab.good.root.cert}});
  const auto r = curl(proxy, url_for("127.0.0.1", up->port()), proxy.ca_path());
  INFO(r.err);
  CHECK(r.http_code == 200);
  const auto sni = up->sni_seen();
  REQUIRE_FALSE(sni.empty());
  CHECK_FALSE(sni.front().has_value());
}

TEST_CASE("intercept: a failed upstream handshake is explained") {
  GoodRootFileLab lab;
  TlsServerOptions o;
  o.default_chain = ServedChain::of(lab.good);
  o.versions = testsupport::TlsVersions::legacy_only;  // we never go below TLS 1.2
  o.reply = kReply;
  TlsTestServer up(o);
  InterceptingProxy proxy(
      {.anchors = {lab.good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url_for("good.test", up.port()), proxy.ca_path());
  CHECK(r.http_code == 502);
  INFO(r.body);
  CHECK(r.body.find("tls.handshake_failed") != std::string::npos);
  CHECK(r.body.find("UPSTREAM-BODY") == std::string::npos);
}

TEST_CASE("intercept: http://tlsprobe.ca/ serves the install page and the CA, never leaving") {
  GoodRootFileLab lab;
  InterceptingProxy proxy({.anchors = {lab.good.root.cert}});
  const auto page = curl(proxy, "http://tlsprobe.ca/", "");
  CHECK(page.http_code == 200);
  CHECK(page.body.find("<html") != std::string::npos);
  const auto pem = curl(proxy, "http://tlsprobe.ca/tlsprobe-ca.pem", "");
  CHECK(pem.http_code == 200);
  std::ifstream in(proxy.ca_path());
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(pem.body == ss.str());
  CHECK(curl(proxy, "http://tlsprobe.ca/nothing", "").http_code == 404);
}

TEST_CASE("intercept: a real nginx upstream answers a GET (the request head reaches it)") {
  // Regression: a bodyless request was held back by buffer_body's more=true, so a server
  // that waits for the request (every real one) never answered: 504 after the deadline.
  GoodRootFileLab lab;
  testsupport::NginxTlsSite site;
  site.server_name = "good.test";
  site.default_server = true;
  site.cert_pem = lab.good.leaf.cert_pem() + lab.good.intermediate.cert_pem();
  site.key_pem = lab.good.leaf.key_pem();
  site.body = "hello from nginx";
  testsupport::NginxServer nginx({site});
  InterceptingProxy proxy(
      {.anchors = {lab.good.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url_for("good.test", nginx.port()), proxy.ca_path());
  INFO(r.err << nginx.error_log());
  CHECK(r.exit_code == 0);
  CHECK(r.http_code == 200);
  CHECK(r.body.find("hello from nginx") != std::string::npos);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(str_at(lines[0], {"tlsprobe", "mode"}) == "intercept");
}
