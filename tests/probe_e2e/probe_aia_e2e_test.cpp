// `tlsprobe probe` completing a chain from AIA and handing over the fix: a real nginx that
// serves only its leaf, the issuer on a local HTTP server named by the leaf's caIssuers URL,
// `--fullchain-out` writing the repaired chain, nginx reconfigured with that file, and curl
// (which never fetches AIA) accepting it. Also `--no-aia`, and the exit status of a server
// that demands a client certificate after sending its chain (issue 11 items 4 and 9).
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "support/http_test_server.hpp"
#include "support/nginx_server.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::HttpResponse;
using testsupport::HttpTestServer;

namespace {

constexpr const char* kName = "shop.aia.test";

// Valid now: curl checks dates against the real clock.
struct RealPki {
  testpki::Issued root, inter, leaf;
};

RealPki make_pki(const std::string& aia_url) {
  const auto now = testpki::now();
  testpki::CertSpec r;
  r.common_name = "AIA E2E Root CA";
  r.not_before = now - std::chrono::days(10);
  r.not_after = now + std::chrono::days(3650);
  testpki::CertSpec i = r;
  i.common_name = "AIA E2E Issuing CA";
  i.is_ca = true;
  testpki::CertSpec l;
  l.common_name = kName;
  l.dns_names = {kName};
  l.not_before = now - std::chrono::days(1);
  l.not_after = now + std::chrono::days(90);
  l.aia_issuer_url = aia_url;
  auto root = testpki::make_root(r);
  auto inter = testpki::issue(root, i);
  auto lf = testpki::issue(inter, l);
  return RealPki{std::move(root), std::move(inter), std::move(lf)};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempPath {
  std::string path;
  TempPath() {
    char tmpl[] = "/tmp/tlsprobe-fullchain-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = tmpl;
    std::filesystem::remove(path);  // the probe creates it (or not)
  }
  ~TempPath() { std::filesystem::remove(path); }
};

testsupport::ProcessResult curl_get(const testsupport::NginxServer& nginx, const std::string& ca) {
  const std::string port = std::to_string(nginx.port());
  return testsupport::run_process({"curl", "-sS", "--max-time", "10", "--cacert", ca, "--resolve",
                                   std::string(kName) + ":" + port + ":127.0.0.1",
                                   "https://" + std::string(kName) + ":" + port + "/"},
                                  20s);
}

const boost::json::object* finding(const boost::json::value& doc, const std::string& code) {
  for (const auto& f : doc.at("findings").as_array())
    if (f.at("code").as_string() == code) return &f.as_object();
  return nullptr;
}

}  // namespace

TEST_CASE("--fullchain-out: nginx serving only its leaf is repaired from AIA and curl accepts it",
          "[e2e][aia][nginx]") {
  REQUIRE(testsupport::NginxServer::available());
  HttpTestServer http;
  const auto pki = make_pki(http.url("/issuing.der"));
  http.route("/issuing.der", HttpResponse::ok(pki.inter.cert.der(), "application/pkix-cert"));
  testpki::TempPemFile root_pem(pki.root.cert_pem());
  TempPath fullchain;

  testsupport::NginxTlsSite site;
  site.server_name = kName;
  site.default_server = true;
  site.cert_pem = pki.leaf.cert_pem();  // the mistake: no intermediate
  site.key_pem = pki.leaf.key_pem();
  {
    testsupport::NginxServer nginx({site});
    // Before: curl refuses (it never fetches AIA).
    const auto before = curl_get(nginx, root_pem.path());
    INFO(before.err << nginx.error_log());
    CHECK(before.exit_code == 60);

    const auto run = testsupport::run_tlsprobe(
        {"probe", kName, "--connect", nginx.address(), "--ca-file", root_pem.path(),
         "--no-system-trust", "--format", "json", "--fullchain-out", fullchain.path},
        30s);
    INFO(run.err);
    REQUIRE_FALSE(run.timed_out);
    CHECK(run.exit_code == 1);
    const auto doc = boost::json::parse(run.out);
    const auto* f = finding(doc, "chain.incomplete");
    REQUIRE(f);
    CHECK(f->at("evidence").at("aia_result").as_string() == "completes");
    const std::string message(f->at("message").as_string());
    CHECK(message.find("the chain completes with CN=AIA E2E Issuing CA from " +
                       http.url("/issuing.der") + "; serving it fixes this") != std::string::npos);
    CHECK_FALSE(f->at("browser_shows").as_bool());
    const auto& obs = doc.at("observations").at(0);
    REQUIRE(obs.at("aia_fetches").as_array().size() == 1);
    CHECK(obs.at("aia_fetches").at(0).at("ok").as_bool());
    CHECK(obs.at("completed_chain").as_array().size() == 2);
    CHECK(run.err.find("wrote " + fullchain.path +
                       ": the leaf and 1 intermediate (1 fetched via AIA), no root") !=
          std::string::npos);
  }
  const auto chain = certs::read_pem_file(fullchain.path);
  REQUIRE(chain.size() == 2);
  CHECK(chain[0] == pki.leaf.cert);
  CHECK(chain[1] == pki.inter.cert);
  CHECK(http.requests("/issuing.der") == 1);

  // After: nginx serves the written file as is, curl accepts, tlsprobe finds nothing.
  site.cert_pem = read_file(fullchain.path);
  testsupport::NginxServer fixed({site});
  const auto after = curl_get(fixed, root_pem.path());
  INFO(after.err << fixed.error_log());
  CHECK(after.exit_code == 0);
  CHECK(after.out == "ok\n");
  const auto recheck =
      testsupport::run_tlsprobe({"probe", kName, "--connect", fixed.address(), "--ca-file",
                                 root_pem.path(), "--no-system-trust", "--format", "json"},
                                30s);
  CHECK(recheck.exit_code == 0);
  CHECK(boost::json::parse(recheck.out).at("findings").as_array().empty());
}

TEST_CASE("--no-aia fetches nothing; an unrepairable chain writes no file", "[e2e][aia]") {
  HttpTestServer http;
  const auto pki = make_pki(http.url("/issuing.der"));
  http.route("/issuing.der", HttpResponse::ok(pki.inter.cert.der(), "application/pkix-cert"));
  testsupport::TlsServerOptions so;
  so.default_chain = testsupport::ServedChain::of(pki.leaf);
  testsupport::TlsTestServer server(so);
  testpki::TempPemFile root_pem(pki.root.cert_pem());
  TempPath out;

  const auto off = testsupport::run_tlsprobe(
      {"probe", kName, "--connect", server.address(), "--ca-file", root_pem.path(),
       "--no-system-trust", "--format", "json", "--no-aia", "--fullchain-out", out.path},
      30s);
  INFO(off.err);
  CHECK(off.exit_code == 1);
  CHECK(http.requests("/issuing.der") == 0);
  const auto doc = boost::json::parse(off.out);
  CHECK_FALSE(doc.at("observations").at(0).as_object().contains("aia_fetches"));
  CHECK_FALSE(std::filesystem::exists(out.path));
  CHECK(off.err.find("--fullchain-out: not written: the chain reaches no trusted root, and "
                     "nothing was fetched") != std::string::npos);

  SECTION("a dead caIssuers URL: the finding says the fetch failed, and why") {
    http.route("/issuing.der", HttpResponse::ok("garbage", "text/plain"));
    const auto run =
        testsupport::run_tlsprobe({"probe", kName, "--connect", server.address(), "--ca-file",
                                   root_pem.path(), "--no-system-trust", "--format", "json"},
                                  30s);
    CHECK(run.exit_code == 1);
    const auto d = boost::json::parse(run.out);
    const auto* f = finding(d, "chain.incomplete");
    REQUIRE(f);
    CHECK(f->at("evidence").at("aia_result").as_string() == "fetch_failed");
    CHECK(f->at("browser_shows").as_bool());
  }
  SECTION("--fullchain-out with two targets is a usage error") {
    const auto r =
        testsupport::run_tlsprobe({"probe", "a.test", "b.test", "--fullchain-out", out.path}, 10s);
    CHECK(r.exit_code == 64);
    CHECK(r.err == "tlsprobe probe: --fullchain-out takes exactly one target\n");
  }
}

TEST_CASE("client certificate required after the chain: judged, exit 1 not 2",
          "[e2e][clientauth]") {
  const auto h = testpki::make_hierarchy({"auth.test"});
  testpki::TempPemFile root_pem(h.root.cert_pem());
  const auto version =
      GENERATE(testsupport::TlsVersions::tls12_only, testsupport::TlsVersions::tls13_only);
  testsupport::TlsServerOptions so;
  so.default_chain = testsupport::ServedChain::of(h);
  so.require_client_cert = true;
  so.versions = version;
  testsupport::TlsTestServer server(so);
  // At an evaluation time after the leaf expired: the chain has an error of its own.
  const auto expired_at = certs::format_rfc3339(h.leaf.cert.not_after() + std::chrono::days(2));
  const auto run = testsupport::run_tlsprobe(
      {"probe", "auth.test", "--connect", server.address(), "--ca-file", root_pem.path(),
       "--no-system-trust", "--format", "json", "--at", expired_at, "--no-aia"},
      30s);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  const auto doc = boost::json::parse(run.out);
  CHECK(doc.at("observations").at(0).at("chain").as_array().size() == 2);
  REQUIRE(finding(doc, "tls.handshake_failed"));
  CHECK(finding(doc, "tls.handshake_failed")->at("evidence").at("chain_judged").as_string() ==
        "true");
  CHECK(finding(doc, "cert.expired"));
}
