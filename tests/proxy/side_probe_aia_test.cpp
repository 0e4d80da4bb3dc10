// The real `tlsprobe proxy` binary: a CONNECT tunnel to a server that sends its leaf without
// the intermediate gets a side probe that fetches the issuer from the leaf's caIssuers URL
// (a local HTTP server) and says in the log line that serving it fixes the chain. A second
// connection is answered from the cache: the URL is asked once (issue 11 item 4).
#include "proxy_fixture.hpp"
#include "support/http_test_server.hpp"
#include "support/proxy_process.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <sstream>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace std::chrono_literals;

using testsupport::ProxyProcess;

TEST_CASE("proxy side probe: the missing issuer is fetched from AIA once, and the fix named",
          "[aia][side_probe]") {
  testsupport::HttpTestServer http;
  testpki::CertSpec r;
  r.common_name = "Side Probe AIA Root";
  auto root = testpki::make_root(r);
  testpki::CertSpec i = r;
  i.common_name = "Side Probe AIA Issuing CA";
  i.is_ca = true;
  auto inter = testpki::issue(root, i);
  testpki::CertSpec l;
  l.common_name = "127.0.0.1";
  l.ip_names = {"127.0.0.1"};
  l.not_before = testpki::now() - std::chrono::days(1);
  l.not_after = testpki::now() + std::chrono::days(90);
  l.aia_issuer_url = http.url("/issuing.der");
  auto leaf = testpki::issue(inter, l);
  http.route("/issuing.der",
             testsupport::HttpResponse::ok(inter.cert.der(), "application/pkix-cert"));

  testsupport::TlsServerOptions so;
  so.default_chain = testsupport::ServedChain::of(leaf);  // no intermediate
  so.reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  testsupport::TlsTestServer upstream(so);

  testpki::TempPemFile ca(root.cert_pem());
  ProxyProcess proxy({.extra = {"--ca-file", ca.path()}});
  INFO("stderr: " << proxy.stderr_text());
  for (int n = 0; n < 2; ++n) {
    const auto c =
        curl({"-sk", "--max-time", "10", "-x", proxy.url(), "https://" + upstream.address() + "/"});
    INFO(c.err);
    CHECK(c.exit_code == 0);
    CHECK(c.out == "ok\n");
  }
  // SIGTERM drains, waits for the probe lines and flushes the log.
  REQUIRE(proxy.stop(SIGTERM, 30s).code == 0);

  const auto log = proxy.log_text();
  int records = 0, completed = 0;
  for (const auto& rec : proxy.log_records()) {
    ++records;
    const auto* findings = find_path(rec, "tlsprobe.findings");
    REQUIRE(findings);
    for (const auto& f : findings->as_array()) {
      if (f.at("code").as_string() != "chain.incomplete") continue;
      INFO(boost::json::serialize(f));
      CHECK(f.at("evidence").at("aia_result").as_string() == "completes");
      CHECK(std::string(f.at("message").as_string())
                .find("the chain completes with CN=Side Probe AIA Issuing CA from " +
                      http.url("/issuing.der") + "; serving it fixes this") != std::string::npos);
      ++completed;
    }
  }
  INFO(log);
  CHECK(records == 2);
  CHECK(completed == 2);
  CHECK(http.requests("/issuing.der") == 1);
}
