// Interception-security checks (Durumeric et al., NDSS 2017; PEERS.md section 3) that the
// intercept tests do not already make: the upstream validation cases beyond the probe
// scenarios (not yet valid, weak key, SHA-1 signature, bad signature, CA:FALSE issuer, a
// clientAuth-only leaf, a name outside the issuer's name constraints), an
// upstream that only speaks TLS 1.0/1.1, HSTS passed through untouched, and a fresh CA per
// installation. Each failing upstream must get the 502 page over our leaf, never upstream
// bytes ("never launder"). Uses the in-process intercepting proxy of tests/intercept.
#include "inspect/client_hello.hpp"
#include "intercept/intercept_fixture.hpp"
#include "proxy/tls/upstream_tls.hpp"
#include "support/loopback_server.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <mutex>
#include <set>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;
using testsupport::TlsVersions;

namespace {

const std::string kBody = "SECRET-UPSTREAM-BODY\n";
const std::string kReply =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nStrict-Transport-Security: max-age=31536000; "
    "includeSubDomains\r\nContent-Length: " +
    std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + kBody;

std::unique_ptr<TlsTestServer> serve(ServedChain chain, TlsVersions v = TlsVersions::modern) {
  TlsServerOptions o;
  o.default_chain = std::move(chain);
  o.reply = kReply;
  o.versions = v;
  return std::make_unique<TlsTestServer>(o);
}

std::string url(std::uint16_t port) { return "https://up.test:" + std::to_string(port) + "/"; }

struct Case {
  const char* name;
  const char* code;  // the finding the 502 page must name ("" = any)
};
const Case kCases[] = {
    {"not_yet_valid", "cert.not_yet_valid"},
    {"weak_key", "key.weak"},
    {"sha1_signature", "sig.weak"},
    {"bad_signature", ""},
    {"ca_false_issuer", ""},
    {"tls10_only", ""},
    {"wrong_eku", ""},
    {"name_constraints", ""},
};

testpki::Issued constrained_intermediate(const testpki::Hierarchy& good) {
  const auto now = testpki::now();
  return testpki::issue(good.root, {.common_name = "Constrained Intermediate",
                                    .not_before = now - std::chrono::days(1),
                                    .not_after = now + std::chrono::days(365),
                                    .is_ca = true,
                                    .name_constraints = "critical,permitted;DNS:.corp.test"});
}

std::unique_ptr<TlsTestServer> upstream_for(const std::string& name,
                                            const testpki::Hierarchy& good) {
  const auto now = testpki::now();
  testpki::CertSpec leaf{.common_name = "up.test",
                         .dns_names = {"up.test"},
                         .not_before = now - std::chrono::days(1),
                         .not_after = now + std::chrono::days(30)};
  if (name == "not_yet_valid") {
    leaf.not_before = now + std::chrono::days(2);
    leaf.not_after = now + std::chrono::days(60);
  } else if (name == "weak_key") {
    leaf.key = testpki::KeyKind::rsa_1024;
  } else if (name == "sha1_signature") {
    leaf.hash = testpki::SigHash::sha1;
  } else if (name == "bad_signature") {
    // An impostor intermediate with the good one's exact subject but its own key: the leaf
    // names the trusted issuer, and only the signature check can tell.
    auto impostor = testpki::make_hierarchy({"up.test"}, now);
    testpki::CertSpec same = {.common_name = good.intermediate.cert.common_name(), .is_ca = true};
    auto fake_int = testpki::issue(impostor.root, same);
    auto forged = testpki::issue(fake_int, leaf);
    return serve(ServedChain::of(forged, {good.intermediate.cert}));
  } else if (name == "ca_false_issuer") {
    // A leaf issued by another leaf (CA:FALSE) of the trusted hierarchy.
    auto not_a_ca = testpki::issue(good.intermediate, {.common_name = "not a CA",
                                                       .dns_names = {"notaca.test"},
                                                       .not_before = now - std::chrono::days(1),
                                                       .not_after = now + std::chrono::days(30)});
    auto issued = testpki::issue(not_a_ca, leaf);
    return serve(ServedChain::of(issued, {not_a_ca.cert, good.intermediate.cert}));
  } else if (name == "wrong_eku") {
    // A client certificate (clientAuth only) presented as a server's: a browser refuses it
    // (ERR_CERT_INVALID), and so must the upstream verification (purpose sslserver).
    leaf.ext_key_usage = "clientAuth";
  } else if (name == "name_constraints") {
    // A trusted intermediate constrained to *.corp.test issues up.test: outside its
    // permitted subtree, so the chain is invalid even though every signature is good.
    auto constrained = constrained_intermediate(good);
    return serve(ServedChain::of(testpki::issue(constrained, leaf), {constrained.cert}));
  } else if (name == "tls10_only") {
    return serve(ServedChain::of(testpki::issue(good.intermediate, leaf), {good.intermediate.cert}),
                 TlsVersions::legacy_only);
  }
  return serve(ServedChain::of(testpki::issue(good.intermediate, leaf), {good.intermediate.cert}));
}

}  // namespace

TEST_CASE("intercept refuses every invalid or weak upstream with the 502 page, never its bytes",
          "[hardening][security]") {
  const auto good = testpki::make_hierarchy({"good.test"}, testpki::now());
  for (const auto& c : kCases) {
    DYNAMIC_SECTION(c.name) {
      auto up = upstream_for(c.name, good);
      InterceptingProxy proxy({.anchors = {good.root.cert}, .resolve = {{"up.test", "127.0.0.1"}}});
      const auto r = curl(proxy, url(up->port()), proxy.ca_path());
      INFO(r.err << r.body);
      CHECK(r.exit_code == 0);  // over our minted leaf: the client reads the page
      CHECK(r.http_code == 502);
      CHECK(r.body.find("SECRET-UPSTREAM-BODY") == std::string::npos);
      if (*c.code) CHECK(r.body.find(c.code) != std::string::npos);
    }
  }
}

// The control for the name_constraints case above: the same constrained intermediate is fine
// for a name inside its subtree, so that case fails for the constraint and nothing else.
TEST_CASE("intercept serves a name inside its issuer's name constraints", "[hardening][security]") {
  const auto good = testpki::make_hierarchy({"good.test"}, testpki::now());
  const auto now = testpki::now();
  auto constrained = constrained_intermediate(good);
  auto leaf = testpki::issue(constrained, {.common_name = "in.corp.test",
                                           .dns_names = {"in.corp.test"},
                                           .not_before = now - std::chrono::days(1),
                                           .not_after = now + std::chrono::days(30)});
  auto up = serve(ServedChain::of(leaf, {constrained.cert}));
  InterceptingProxy proxy(
      {.anchors = {good.root.cert}, .resolve = {{"in.corp.test", "127.0.0.1"}}});
  const auto r =
      curl(proxy, "https://in.corp.test:" + std::to_string(up->port()) + "/", proxy.ca_path());
  INFO(r.err << r.body);
  CHECK(r.http_code == 200);
  CHECK(r.body == kBody);
}

TEST_CASE("intercept passes Strict-Transport-Security through untouched", "[hardening][security]") {
  const auto good = testpki::make_hierarchy({"good.test"}, testpki::now());
  auto up = upstream_for("healthy", good);
  InterceptingProxy proxy({.anchors = {good.root.cert}, .resolve = {{"up.test", "127.0.0.1"}}});
  const auto r = curl(proxy, url(up->port()), proxy.ca_path(), {"-i"});
  INFO(r.err << r.body);
  CHECK(r.http_code == 200);
  CHECK(r.body.find("Strict-Transport-Security: max-age=31536000; includeSubDomains") !=
        std::string::npos);
  CHECK(r.body.find("SECRET-UPSTREAM-BODY") != std::string::npos);
}

TEST_CASE("each installation creates its own CA key", "[hardening][security]") {
  const auto good = testpki::make_hierarchy({"good.test"}, testpki::now());
  InterceptingProxy a({.anchors = {good.root.cert}});
  InterceptingProxy b({.anchors = {good.root.cert}});
  const auto ca_a = certs::read_pem_file(a.ca_path());
  const auto ca_b = certs::read_pem_file(b.ca_path());
  REQUIRE(ca_a.size() == 1);
  REQUIRE(ca_b.size() == 1);
  CHECK(ca_a[0].sha256_hex() != ca_b[0].sha256_hex());
  // Not just a new certificate over a shared key (pre-generated keys grade F).
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(ca_a[0].x509()), X509_get0_pubkey(ca_b[0].x509())) != 1);
}

// ---- what the intercepting proxy offers upstream (the grade of its own ClientHello) ----

namespace {

// Runs UpstreamTls's handshake against a server that records the ClientHello and closes.
inspect::ClientHello upstream_client_hello(bool tls13_only) {
  std::mutex m;
  std::string first_bytes;
  testsupport::LoopbackServer server([&](int fd) {
    std::string got;
    char buf[4096];
    for (int i = 0; i < 20 && server.wait_readable(fd, std::chrono::seconds(5)); ++i) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
      const auto r = inspect::parse_client_hello(
          {reinterpret_cast<const std::uint8_t*>(got.data()), got.size()});
      if (r.status != inspect::ClientHelloStatus::need_more) break;
    }
    std::lock_guard lock(m);
    first_bytes = got;
  });
  proxy::UpstreamTls upstream(
      {.trust = certs::TrustStore::from_anchors({}, certs::SystemTrust::exclude)});
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  proxy::TlsStream stream(sock, upstream.context());
  proxy::UpstreamSpec spec{.host = "up.test",
                           .port = server.port(),
                           .address = server.address(),
                           .sni = "up.test",
                           .tls13_only = tls13_only};
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> { (void)co_await upstream.handshake(stream, spec); },
      boost::asio::detached);
  io.run_for(std::chrono::seconds(10));
  std::lock_guard lock(m);
  const auto r = inspect::parse_client_hello(
      {reinterpret_cast<const std::uint8_t*>(first_bytes.data()), first_bytes.size()});
  REQUIRE(r.status == inspect::ClientHelloStatus::ok);
  return r.hello;
}

// Cipher suites graded F (NULL, anonymous, export, single DES) or C (RC4) by the paper's
// scale (cloudflare/mitmengine fputil/ciphercheck.go), by IANA code.
const std::set<std::uint16_t> kBadSuites = {
    0x0000, 0x0001, 0x0002, 0x002C, 0x002D, 0x002E, 0x003B, 0x00B0, 0x00B1,
    0x00B4, 0x00B5, 0x00B8, 0x00B9, 0xC001, 0xC006, 0xC00B, 0xC010, 0xC015,  // NULL
    0x0018, 0x0019, 0x001A, 0x001B, 0x0034, 0x003A, 0x0046, 0x006C, 0x006D,  // DH_anon
    0x00A6, 0x00A7, 0xC016, 0xC017, 0xC018, 0xC019,                          // anon
    0x0003, 0x0006, 0x0008, 0x000B, 0x000E, 0x0011, 0x0014, 0x0017,          // export
    0x0009, 0x000C, 0x000F, 0x0012, 0x0015, 0x001E, 0x0022,                  // single DES
    0x0004, 0x0005, 0x0018, 0x0020, 0x0024, 0x0028, 0x002B, 0x008A, 0x008E,
    0x0092, 0xC002, 0xC007, 0xC00C, 0xC011, 0xC016, 0xC033,  // RC4
};

}  // namespace

TEST_CASE("intercept upstream ClientHello: TLS 1.2+ only, AEAD+PFS first, no F or C cipher",
          "[hardening][security]") {
  const auto hello = upstream_client_hello(false);
  CHECK(hello.sni == std::optional<std::string>("up.test"));
  REQUIRE_FALSE(hello.versions.empty());
  for (const auto& v : hello.versions) CHECK((v == "1.3" || v == "1.2"));
  CHECK(hello.versions.front() == "1.3");
  REQUIRE_FALSE(hello.cipher_suites.empty());
  // First choice: a TLS 1.3 AEAD suite (always forward secret).
  CHECK(hello.cipher_suites.front() >= 0x1301);
  CHECK(hello.cipher_suites.front() <= 0x1303);
  for (auto s : hello.cipher_suites) {
    INFO("cipher suite 0x" << std::hex << s);
    CHECK(kBadSuites.count(s) == 0);
  }
  CHECK(hello.alpn == std::vector<std::string>{"http/1.1"});
}

TEST_CASE("intercept upstream: a TLS 1.3-only client gets a TLS 1.3-only upstream",
          "[hardening][security]") {
  const auto hello = upstream_client_hello(true);
  CHECK(hello.versions == std::vector<std::string>{"1.3"});
}
