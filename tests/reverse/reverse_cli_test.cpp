// Reverse mode through the real command line (`tlsprobe proxy --mode reverse ...`) and in
// front of a real nginx whose default_server block answers names it has no vhost for.
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "reverse/reverse_fixture.hpp"
#include "reverse/reverse_origin.hpp"
#include "support/curl.hpp"
#include "support/loopback_server.hpp"
#include "support/nginx_server.hpp"
#include "support/proxy_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::reverse_test;
using testsupport::ServedChain;

namespace {

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

using tlsprobe::testsupport::TempDir;

// The CDN's request for www.example.test, verifying the proxy's certificate against `cacert`
// (strictly: not curl -k).
testsupport::CurlResult strict_get(std::uint16_t proxy_port, const std::string& cacert) {
  const auto port = std::to_string(proxy_port);
  return testsupport::run_curl(
      {"-s", "--cacert", cacert, "--resolve", "www.example.test:" + port + ":127.0.0.1"},
      {"https://www.example.test:" + port + "/"}, std::chrono::seconds(15));
}

}  // namespace

TEST_CASE("reverse CLI: --tls-cert is served to the CDN, the origin is verified with --ca-file",
          "[reverse][cli]") {
  const auto www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  OriginOptions oo;
  oo.default_chain = ServedChain::of(www);
  HttpsOrigin origin(oo);
  TempDir dir{"revcli"};
  const auto cert = write_file(dir.str(), "cert.pem",
                               www.leaf.cert_pem() + certs::write_pem(www.intermediate.cert));
  const auto key = write_file(dir.str(), "key.pem", www.leaf.key_pem());
  const auto root = write_file(dir.str(), "root.pem", certs::write_pem(www.root.cert));
  testsupport::ProxyProcess p(
      {.extra = {"--mode", "reverse", "--upstream", "https://" + origin.address(), "--tls-cert",
                 cert, "--tls-key", key, "--ca-file", root, "--state-dir", dir.str(),
                 "--allow-host", "www.example.test"}});
  // The configured certificate, not a minted one: it verifies against the site's root.
  CHECK(strict_get(p.port(), root).http_code == 200);
  CHECK(p.stop().code == 0);  // SIGTERM: a clean exit flushes the log
  const auto recs = p.log_records();
  REQUIRE(recs.size() >= 1);
  const auto& rec = recs.back();
  CHECK(str_at(rec, "tlsprobe.mode") == "reverse");
  CHECK(str_at(rec, "tls.server.hash.sha256") == www.leaf.cert.sha256_hex());
  CHECK(find_path(rec, "tlsprobe.verify.ok")->as_bool());
}

TEST_CASE("reverse CLI: without --tls-cert the CDN gets a leaf minted by the tlsprobe CA",
          "[reverse][cli]") {
  const auto www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  OriginOptions oo;
  oo.default_chain = ServedChain::of(www);
  HttpsOrigin origin(oo);
  TempDir dir{"revcli"};
  const auto root = write_file(dir.str(), "root.pem", certs::write_pem(www.root.cert));
  testsupport::ProxyProcess p(
      {.extra = {"--mode", "reverse", "--upstream", "https://" + origin.address(), "--ca-file",
                 root, "--state-dir", dir.str(), "--allow-host", "www.example.test"}});
  // A leaf minted by the CA that this start created in --state-dir.
  CHECK(strict_get(p.port(), dir.str() + "/ca.pem").http_code == 200);
}

TEST_CASE("reverse CLI: a bad --upstream is a usage error", "[reverse][cli]") {
  auto r = testsupport::run_tlsprobe(
      {"proxy", "--mode", "reverse", "--upstream", "http://plain.example", "--admin", "off"},
      std::chrono::seconds(10));
  CHECK(r.exit_code == 64);
  auto none = testsupport::run_tlsprobe({"proxy", "--mode", "reverse", "--admin", "off"},
                                        std::chrono::seconds(10));
  CHECK(none.exit_code == 64);
}

TEST_CASE(
    "reverse: nginx origin with a default_server block: vhost 200, unknown name "
    "sni.default_cert 502",
    "[reverse][nginx]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  const auto fallback =
      testpki::issue(www.intermediate, {.common_name = "default.example.test",
                                        .dns_names = {"default.example.test"},
                                        .not_before = testpki::now() - std::chrono::days(1),
                                        .not_after = testpki::now() + std::chrono::days(90)});
  const std::string inter = certs::write_pem(www.intermediate.cert);
  testsupport::NginxTlsSite def;
  def.default_server = true;
  def.cert_pem = fallback.cert_pem() + inter;
  def.key_pem = fallback.key_pem();
  def.body = "default\\n";
  testsupport::NginxTlsSite vhost;
  vhost.server_name = "www.example.test";
  vhost.cert_pem = www.leaf.cert_pem() + inter;
  vhost.key_pem = www.leaf.key_pem();
  vhost.body = "www\\n";
  testsupport::NginxServer nginx({def, vhost});
  auto options = test_config(nginx.address(), {www.root.cert});
  options.cfg.allow_hosts.push_back("shop.example.test");  // a site the CDN serves, no vhost yet
  ReverseProxy proxy(std::move(options));
  const auto port = std::to_string(proxy.port());

  const auto ok = curl({"--resolve", "www.example.test:" + port + ":127.0.0.1",
                        "https://www.example.test:" + port + "/"});
  CHECK(ok.http_code == 200);
  CHECK(ok.body.rfind("www", 0) == 0);
  // The CDN pulls a name nginx has no TLS vhost for: nginx answers with its default_server
  // certificate, which the no-SNI probe proves.
  const auto bad = curl({"--resolve", "shop.example.test:" + port + ":127.0.0.1",
                         "https://shop.example.test:" + port + "/"});
  CHECK(bad.http_code == 502);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 2);
  std::vector<std::string> all;
  for (const auto& r : recs)
    for (const auto& c : codes(r)) all.push_back(c);
  CHECK(has(all, "sni.default_cert"));
  CHECK_FALSE(has(all, "name.mismatch"));
}
