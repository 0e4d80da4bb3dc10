// AIA caIssuers fetching against a local HTTP server on 127.0.0.1: the fetcher's bounds
// (time, size, redirects, content), its per-URL cache, and the prober completing an
// incomplete chain hop by hop (proxy/probe/aia_fetcher.hpp, proxy/probe/aia_complete.hpp).
#include "proxy/probe/aia_complete.hpp"
#include "proxy/probe/aia_fetcher.hpp"
#include "proxy/probe/prober.hpp"
#include "support/http_test_server.hpp"
#include "support/probe_once.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::HttpResponse;
using testsupport::HttpTestServer;

namespace {

using Clock = std::chrono::steady_clock;

testpki::CertSpec ca(std::string cn, std::string aia = {}) {
  testpki::CertSpec s;
  s.common_name = std::move(cn);
  s.is_ca = true;
  s.aia_issuer_url = std::move(aia);
  return s;
}

testpki::CertSpec leaf(std::string name, std::string aia) {
  testpki::CertSpec s;
  s.common_name = name;
  s.dns_names = {name};
  s.aia_issuer_url = std::move(aia);
  return s;
}

struct Fetched {
  proxy::AiaFetcher::ResultPtr result;
  bool from_cache = false;
  double wall_ms = 0;
};

// One fetch on a private io_context, run to completion.
Fetched fetch(const std::shared_ptr<proxy::AiaFetcher>& fetcher, const std::string& url) {
  boost::asio::io_context io;
  Fetched out;
  const auto started = Clock::now();
  fetcher->fetch(io.get_executor(), url, [&](proxy::AiaFetcher::ResultPtr r, bool from_cache) {
    out.result = std::move(r);
    out.from_cache = from_cache;
  });
  io.run();
  out.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  REQUIRE(out.result);
  return out;
}

std::shared_ptr<proxy::AiaFetcher> fetcher_with(std::chrono::milliseconds timeout = 5000ms) {
  proxy::AiaOptions o;
  o.timeout = timeout;
  return std::make_shared<proxy::AiaFetcher>(o);
}

}  // namespace

TEST_CASE("AIA fetch: DER and PKCS#7 issuers", "[aia]") {
  HttpTestServer http;
  const auto root = testpki::make_root(ca("AIA Fetch Root"));
  const auto inter = testpki::issue(root, ca("AIA Fetch Intermediate"));
  http.route("/int.der", HttpResponse::ok(inter.cert.der(), "application/pkix-cert"));
  http.route("/bundle.p7c", HttpResponse::ok(testsupport::pkcs7_certs_only({inter.cert, root.cert}),
                                             "application/pkcs7-mime"));
  auto fetcher = fetcher_with();

  const auto der = fetch(fetcher, http.url("/int.der"));
  CHECK(der.result->ok);
  CHECK(der.result->error.empty());
  REQUIRE(der.result->certs.size() == 1);
  CHECK(der.result->certs[0] == inter.cert);
  CHECK_FALSE(der.from_cache);

  const auto p7 = fetch(fetcher, http.url("/bundle.p7c"));
  CHECK(p7.result->ok);
  REQUIRE(p7.result->certs.size() == 2);
  CHECK(p7.result->certs[0] == inter.cert);
  CHECK(p7.result->certs[1] == root.cert);

  SECTION("cached per URL: the second ask costs no request") {
    const auto again = fetch(fetcher, http.url("/int.der"));
    CHECK(again.from_cache);
    CHECK(again.result->ok);
    CHECK(http.requests("/int.der") == 1);
    CHECK(fetcher->fetches_started() == 2);
  }
  SECTION("a redirect (relative Location) is followed") {
    http.route("/moved", HttpResponse::redirect("int.der", 301));
    const auto moved = fetch(fetcher, http.url("/moved"));
    CHECK(moved.result->ok);
    CHECK(moved.result->final_url == http.url("/int.der"));
  }
}

TEST_CASE("AIA fetch: every failure is one clear line", "[aia]") {
  HttpTestServer http;
  http.route("/garbage", HttpResponse::ok("hello, I am not a certificate", "text/plain"));
  http.route("/pem", HttpResponse::ok("-----BEGIN CERTIFICATE-----\nMIIB\n", "text/plain"));
  http.route("/loop", HttpResponse::redirect("/loop"));
  HttpResponse up;
  up.kind = HttpResponse::Kind::redirect_up;
  http.route("/forever", up);
  http.route("/forever/", up);
  http.route("/to-https", HttpResponse::redirect("https://127.0.0.1/int.der"));
  HttpResponse big;
  big.kind = HttpResponse::Kind::stream_bytes;
  big.stream_bytes = 10 * 1024 * 1024;
  http.route("/big", big);
  big.no_length = true;
  http.route("/big-unframed", big);
  auto fetcher = fetcher_with();

  const auto error_of = [&](const std::string& path) {
    const auto f = fetch(fetcher, http.url(path));
    INFO(path << ": " << f.result->error);
    CHECK_FALSE(f.result->ok);
    CHECK(f.result->certs.empty());
    CHECK(f.result->error.find('\n') == std::string::npos);
    CHECK(f.wall_ms < 5000);
    return f.result->error;
  };
  CHECK(error_of("/garbage").rfind("not a certificate: the body (29 bytes) is neither", 0) == 0);
  CHECK(error_of("/pem").rfind("not a certificate: PEM text", 0) == 0);
  CHECK(error_of("/missing") == "HTTP status 404 Not Found");
  CHECK(error_of("/loop").rfind(
            "redirect loop: " + http.url("/loop") + " -> " + http.url("/loop") + " (seen before)",
            0) == 0);
  CHECK(error_of("/forever").rfind("too many redirects (more than 3;", 0) == 0);
  CHECK(http.requests("/forever/n/n/n") == 1);
  CHECK(http.requests("/forever/n/n/n/n") == 0);
  CHECK(error_of("/to-https")
            .rfind("redirected to https://127.0.0.1/int.der: not fetched: only "
                   "http:// caIssuers URLs",
                   0) == 0);
  CHECK(error_of("/big") == "response larger than 65536 bytes");
  CHECK(error_of("/big-unframed") == "response larger than 65536 bytes");
  // Nothing listens there: refused, at once.
  const auto refused =
      fetch(fetcher, "http://127.0.0.1:" + std::to_string(testsupport::unused_port()) + "/int.der");
  CHECK(refused.result->error.rfind("cannot connect: ", 0) == 0);
  // Link-local (cloud metadata) and unspecified addresses are never dialled.
  for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x",
                          "http://0.0.0.0/x", "http://[::ffff:169.254.1.1]/x"}) {
    const auto f = fetch(fetcher, url);
    INFO(url);
    CHECK(f.result->error.rfind("refused: ", 0) == 0);
    CHECK(f.result->error.find("link-local or non-unicast") != std::string::npos);
  }
  const auto https = fetch(fetcher, "https://127.0.0.1/int.der");
  CHECK(https.result->error ==
        "not fetched: only http:// caIssuers URLs are fetched (as Chrome does)");
}

TEST_CASE("AIA fetch: a URL that never answers times out at 5 s, and the failure is cached",
          "[aia][slow]") {
  HttpTestServer http;
  HttpResponse hang;
  hang.kind = HttpResponse::Kind::hang;
  http.route("/hang", hang);
  proxy::AiaOptions o;  // the defaults: 5 s, failures cached 60 s
  auto fetcher = std::make_shared<proxy::AiaFetcher>(o);
  const auto f = fetch(fetcher, http.url("/hang"));
  CHECK(f.result->error == "timed out after 5000 ms");
  WARN("hanging URL gave up after " << f.wall_ms << " ms");
  CHECK(f.wall_ms >= 4900);
  CHECK(f.wall_ms < 8000);
  const auto again = fetch(fetcher, http.url("/hang"));
  CHECK(again.from_cache);
  CHECK(again.wall_ms < 1000);
  CHECK(http.requests("/hang") == 1);

  SECTION("with no failure TTL the URL is asked again") {
    proxy::AiaOptions quick;
    quick.timeout = 300ms;
    quick.failure_ttl = 0s;
    auto f2 = std::make_shared<proxy::AiaFetcher>(quick);
    CHECK(fetch(f2, http.url("/hang")).result->error == "timed out after 300 ms");
    CHECK_FALSE(fetch(f2, http.url("/hang")).from_cache);
    CHECK(http.requests("/hang") == 3);
  }
}

TEST_CASE("AIA: URL parsing and Location resolution", "[aia]") {
  std::string error;
  auto u = proxy::parse_http_url("HTTP://Ca.Example.test:8080/a/b.crt?x=1#frag", error);
  REQUIRE(u);
  CHECK(u->host == "ca.example.test");
  CHECK(u->port == 8080);
  CHECK(u->target == "/a/b.crt?x=1");
  u = proxy::parse_http_url("http://[::1]/i.der", error);
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == 80);
  CHECK(u->text() == "http://[::1]:80/i.der");
  CHECK_FALSE(proxy::parse_http_url("ldap://ca.test/cn=x", error));
  CHECK_FALSE(proxy::parse_http_url("http://user@ca.test/x", error));
  CHECK_FALSE(proxy::parse_http_url("http:///x", error));
  CHECK_FALSE(proxy::parse_http_url("http://ca.test/a b", error));
  const auto base = *proxy::parse_http_url("http://ca.test/dir/x.crt?q", error);
  CHECK(proxy::resolve_location(base, "y.crt") == "http://ca.test:80/dir/y.crt");
  CHECK(proxy::resolve_location(base, "/z.crt") == "http://ca.test:80/z.crt");
  CHECK(proxy::resolve_location(base, "//other.test/w") == "http://other.test/w");
  CHECK(proxy::resolve_location(base, "https://s.test/") == "https://s.test/");
}

TEST_CASE("prober: an incomplete chain is completed from AIA, at most 3 hops", "[aia][prober]") {
  HttpTestServer http;
  // root -> A -> B -> C -> D -> leaf, each certificate's AIA naming its issuer's URL.
  const auto root = testpki::make_root(ca("Hop Root"));
  const auto a = testpki::issue(root, ca("Hop A"));
  const auto b = testpki::issue(a, ca("Hop B", http.url("/a.der")));
  const auto c = testpki::issue(b, ca("Hop C", http.url("/b.der")));
  const auto d = testpki::issue(c, ca("Hop D", http.url("/c.der")));
  http.route("/a.der", HttpResponse::ok(a.cert.der(), "application/pkix-cert"));
  http.route("/b.der", HttpResponse::ok(b.cert.der(), "application/pkix-cert"));
  http.route("/c.der", HttpResponse::ok(c.cert.der(), "application/pkix-cert"));
  http.route("/d.p7c",
             HttpResponse::ok(testsupport::pkcs7_certs_only({d.cert}), "application/pkcs7-mime"));
  const auto trust = certs::TrustStore::from_anchors({root.cert});

  const auto probe = [&](testsupport::ServedChain served, bool aia = true) {
    testsupport::TlsServerOptions so;
    so.default_chain = std::move(served);
    testsupport::TlsTestServer server(so);
    proxy::ProbeRequest r;
    r.host = "hop.test";
    r.connect = server.address();
    r.sni_checks = proxy::SniChecks::off;
    r.timeout = 10s;
    proxy::ProberOptions po;
    if (aia) po.aia_trust = trust;
    auto obs = testsupport::probe_once(r, po);
    REQUIRE(obs.handshakes.size() == 1);
    return obs.handshakes[0];
  };

  SECTION("three hops complete leaf <- C <- B <- A") {
    const auto lf = testpki::issue(c, leaf("hop.test", http.url("/c.der")));
    const auto h = probe(testsupport::ServedChain::of(lf));
    REQUIRE(h.aia_fetches.size() == 3);
    CHECK(h.aia_fetches[0].url == http.url("/c.der"));
    CHECK(h.aia_fetches[0].for_subject == lf.cert.subject());
    CHECK(h.aia_fetches[1].url == http.url("/b.der"));
    CHECK(h.aia_fetches[2].url == http.url("/a.der"));
    for (const auto& f : h.aia_fetches) CHECK(f.ok);
    REQUIRE(h.completed_chain.size() == 4);
    CHECK(h.completed_chain[0] == lf.cert);
    CHECK(h.completed_chain[1] == c.cert);
    CHECK(h.completed_chain[2] == b.cert);
    CHECK(h.completed_chain[3] == a.cert);
  }
  SECTION("a fourth hop is not made") {
    const auto lf = testpki::issue(d, leaf("hop.test", http.url("/d.p7c")));
    const auto h = probe(testsupport::ServedChain::of(lf));
    REQUIRE(h.aia_fetches.size() == 3);
    CHECK(h.aia_fetches[2].url == http.url("/b.der"));
    CHECK(h.completed_chain.empty());
    CHECK(http.requests("/a.der") == 0);
  }
  SECTION("a complete chain, or fetching off, fetches nothing") {
    const auto lf = testpki::issue(c, leaf("hop.test", http.url("/c.der")));
    CHECK(probe(testsupport::ServedChain::of(lf, {c.cert, b.cert, a.cert})).aia_fetches.empty());
    const auto off = probe(testsupport::ServedChain::of(lf), false);
    CHECK(off.aia_fetches.empty());
    CHECK(off.completed_chain.empty());
    CHECK(http.requests("/c.der") == 0);
  }
}
