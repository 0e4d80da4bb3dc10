#include "certs/leaf_minter.hpp"
#include "ca/ca_test_util.hpp"
#include "pki/test_pki.hpp"

#include <openssl/err.h>
#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe;
using namespace std::chrono_literals;
using catest::verify_for_host;
using certs::Authority;
using certs::LeafMinter;
using certs::MintError;
using Clock = std::chrono::system_clock;

namespace {

const LeafMinter& minter() { return catest::throwaway_minter(); }

const certs::Certificate& ca() { return minter().authority().certificate(); }

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A typical upstream leaf (names, IP SAN) from an unrelated test hierarchy, valid now.
testpki::Issued upstream_leaf(std::vector<std::string> dns, std::vector<std::string> ips = {}) {
  static const testpki::Issued root =
      testpki::make_root({.common_name = "Upstream Root",
                          .not_before = testpki::now() - std::chrono::days(100),
                          .not_after = testpki::now() + std::chrono::days(1000)});
  testpki::CertSpec spec;
  spec.common_name = dns.empty() ? "ip" : dns.front();
  spec.dns_names = std::move(dns);
  spec.ip_names = std::move(ips);
  spec.not_before = testpki::now() - std::chrono::days(10);
  spec.not_after = testpki::now() + std::chrono::days(80);
  return testpki::issue(root, spec);
}

std::string extension_text(X509* x, int nid) {
  const int i = X509_get_ext_by_NID(x, nid, -1);
  if (i < 0) return {};
  certs::BioPtr bio{BIO_new(BIO_s_mem())};
  X509V3_EXT_print(bio.get(), X509_get_ext(x, i), 0, 0);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

bool is_critical(X509* x, int nid) {
  const int i = X509_get_ext_by_NID(x, nid, -1);
  return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i)) != 0;
}

}  // namespace

TEST_CASE("a minted leaf verifies against the CA for the requested name", "[minter]") {
  const auto up = upstream_leaf({"www.example.test", "example.test", "*.cdn.example.test"});
  const auto now = Clock::now();
  const auto r = minter().mint(&up.cert, "www.example.test", now);
  REQUIRE(r);
  CHECK(r.error == MintError::none);
  const certs::MintedLeaf& m = *r.leaf;
  REQUIRE(m.chain.size() == 2);
  CHECK(m.chain[0] == m.leaf);
  CHECK(m.chain[1] == ca());

  CHECK(verify_for_host(m.chain, ca(), "www.example.test", now) == X509_V_OK);
  CHECK(verify_for_host(m.chain, ca(), "example.test", now) == X509_V_OK);
  CHECK(verify_for_host(m.chain, ca(), "img.cdn.example.test", now) == X509_V_OK);
  CHECK(verify_for_host(m.chain, ca(), "other.test", now) == X509_V_ERR_HOSTNAME_MISMATCH);
  // Another anchor (the upstream's root) does not verify it: it is ours, not a copy.
  CHECK(verify_for_host(m.chain, up.cert, "www.example.test", now) != X509_V_OK);

  const certs::Certificate& leaf = m.leaf;
  CHECK(leaf.common_name() == "www.example.test");
  CHECK(leaf.dns_names().front() == "www.example.test");  // the requested name first
  CHECK(contains(leaf.dns_names(), "example.test"));
  CHECK(contains(leaf.dns_names(), "*.cdn.example.test"));
  CHECK(leaf.dns_names().size() == 3);  // no duplicates
  CHECK(leaf.issuer() == ca().subject());
  CHECK_FALSE(leaf.is_ca());
  CHECK(leaf.key().type == "EC");
  CHECK(leaf.key().curve == "prime256v1");
  CHECK(leaf.signature_algorithm() == "ecdsa-with-SHA256");
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(leaf.x509()), minter().leaf_key()) == 1);
  CHECK(m.key.get() == minter().leaf_key());
}

TEST_CASE("a minted leaf has the server profile: EKU, key usage, CA:FALSE, AKI/SKI", "[minter]") {
  const auto r = minter().mint(nullptr, "plain.example.test");
  REQUIRE(r);
  X509* x = r.leaf->leaf.x509();
  CHECK((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0);
  CHECK(X509_get_extended_key_usage(x) == XKU_SSL_SERVER);
  CHECK(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
  CHECK(is_critical(x, NID_key_usage));
  CHECK(is_critical(x, NID_basic_constraints));
  CHECK(extension_text(x, NID_basic_constraints) == "CA:FALSE");
  CHECK(X509_check_ca(x) == 0);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(x);
  const ASN1_OCTET_STRING* ca_ski = X509_get0_subject_key_id(ca().x509());
  REQUIRE(aki);
  REQUIRE(ca_ski);
  CHECK(ASN1_OCTET_STRING_cmp(aki, ca_ski) == 0);
  CHECK(X509_get0_subject_key_id(x) != nullptr);
  CHECK(X509_get_version(x) == X509_VERSION_3);
  // Random 16-octet positive serials: two leaves for one name differ.
  const auto again = minter().mint(nullptr, "plain.example.test");
  REQUIRE(again);
  CHECK(r.leaf->leaf.serial_hex().size() == 32);
  CHECK(r.leaf->leaf.serial_hex() != again.leaf->leaf.serial_hex());
}

TEST_CASE("minted validity: one hour back, thirty days ahead", "[minter]") {
  const auto now = std::chrono::floor<std::chrono::seconds>(Clock::now());
  const auto r = minter().mint(nullptr, "dates.example.test", now);
  REQUIRE(r);
  CHECK(r.leaf->leaf.not_before() == now - 1h);
  CHECK(r.leaf->leaf.not_after() == now + std::chrono::days(30));
}

TEST_CASE("an upstream's dates, key and signature are never copied", "[minter]") {
  // An expired, SHA-1 signed, RSA-1024 upstream leaf: what the proxy does with it is policy,
  // but a minted leaf never inherits those properties.
  const auto root = testpki::make_root({.common_name = "Old Root"});
  testpki::CertSpec spec;
  spec.common_name = "old.example.test";
  spec.dns_names = {"old.example.test"};
  spec.not_before = testpki::now() - std::chrono::days(800);
  spec.not_after = testpki::now() - std::chrono::days(10);
  spec.key = testpki::KeyKind::rsa_1024;
  spec.hash = testpki::SigHash::sha1;
  const auto old = testpki::issue(root, spec);
  const auto now = Clock::now();
  const auto r = minter().mint(&old.cert, "old.example.test", now);
  REQUIRE(r);
  CHECK(r.leaf->leaf.not_after() > now + std::chrono::days(29));
  CHECK(r.leaf->leaf.signature_algorithm() == "ecdsa-with-SHA256");
  CHECK(r.leaf->leaf.key().type == "EC");
}

TEST_CASE("an IP host is an iPAddress SAN, never a dNSName", "[minter]") {
  const auto now = Clock::now();
  SECTION("IPv4") {
    const auto up = upstream_leaf({"svc.example.test"}, {"192.0.2.10"});
    const auto r = minter().mint(&up.cert, "192.0.2.7", now);
    REQUIRE(r);
    const auto& leaf = r.leaf->leaf;
    CHECK(leaf.ip_names().front() == "192.0.2.7");
    CHECK(contains(leaf.ip_names(), "192.0.2.10"));  // upstream IP SAN kept
    CHECK(leaf.dns_names() == std::vector<std::string>{"svc.example.test"});
    CHECK(leaf.common_name() == "192.0.2.7");
    CHECK(verify_for_host(r.leaf->chain, ca(), "192.0.2.7", now) == X509_V_OK);
    CHECK(verify_for_host(r.leaf->chain, ca(), "192.0.2.10", now) == X509_V_OK);
  }
  SECTION("IPv6 in brackets") {
    const auto r = minter().mint(nullptr, "[2001:DB8::1]", now);
    REQUIRE(r);
    CHECK(r.leaf->leaf.dns_names().empty());
    REQUIRE(r.leaf->leaf.ip_names().size() == 1);
    CHECK(verify_for_host(r.leaf->chain, ca(), "2001:db8::1", now) == X509_V_OK);
  }
  SECTION("not quite an IP is a DNS name or refused") {
    const auto r = minter().mint(nullptr, "1.2.3.4junk", now);
    REQUIRE(r);
    CHECK(r.leaf->leaf.ip_names().empty());
    CHECK(r.leaf->leaf.dns_names() == std::vector<std::string>{"1.2.3.4junk"});
  }
}

TEST_CASE("requested names are normalized: case, trailing dot", "[minter]") {
  CHECK(certs::normalize_host("WWW.Example.TEST.") == "www.example.test");
  CHECK(certs::normalize_host("[::1]") == "::1");
  const auto r = minter().mint(nullptr, "WWW.Example.TEST.");
  REQUIRE(r);
  CHECK(r.leaf->leaf.dns_names() == std::vector<std::string>{"www.example.test"});
}

TEST_CASE("without a requested host the first upstream SAN is the CN", "[minter]") {
  const auto up = upstream_leaf({"first.example.test", "second.example.test"});
  const auto r = minter().mint(&up.cert, "");
  REQUIRE(r);
  CHECK(r.leaf->leaf.common_name() == "first.example.test");
  CHECK(r.leaf->leaf.dns_names().size() == 2);
}

TEST_CASE("a name too long for a CN is still a SAN", "[minter]") {
  const std::string host = std::string(60, 'a') + ".example.test";  // 73 characters
  const auto r = minter().mint(nullptr, host);
  REQUIRE(r);
  CHECK(r.leaf->leaf.common_name().empty());
  CHECK(r.leaf->leaf.dns_names() == std::vector<std::string>{host});
  CHECK(verify_for_host(r.leaf->chain, ca(), host, Clock::now()) == X509_V_OK);
}

TEST_CASE("minting refuses bad names and having no name", "[minter]") {
  for (const char* bad :
       {"foo bar", "*.example.test", "a..b", "-x.test", "evil\n.test", "caf\xc3\xa9.test", "x/y"}) {
    CAPTURE(bad);
    const auto r = minter().mint(nullptr, bad);
    CHECK_FALSE(r);
    CHECK(r.error == MintError::bad_host);
    CHECK(r.detail.find('\n') == std::string::npos);
  }
  const auto none = minter().mint(nullptr, "");
  CHECK_FALSE(none);
  CHECK(none.error == MintError::no_name);
}

TEST_CASE("a minted leaf never outlives its CA", "[minter]") {
  const auto now = std::chrono::floor<std::chrono::seconds>(Clock::now());
  const auto short_root = testpki::make_root({.common_name = "Short-lived CA",
                                              .not_before = now - std::chrono::days(300),
                                              .not_after = now + std::chrono::days(2)});
  const LeafMinter short_minter(Authority::from_parts(short_root.cert, short_root.key));
  const auto r = short_minter.mint(nullptr, "brief.example.test", now);
  REQUIRE(r);
  CHECK(r.leaf->leaf.not_after() == short_root.cert.not_after());
  CHECK(verify_for_host(r.leaf->chain, short_root.cert, "brief.example.test", now) == X509_V_OK);

  const auto late = short_minter.mint(nullptr, "brief.example.test", now + std::chrono::days(3));
  CHECK_FALSE(late);
  CHECK(late.error == MintError::ca_expired);
}

TEST_CASE("a minted leaf serves a real TLS handshake from one shared SSL_CTX", "[minter]") {
  const auto r = minter().mint(nullptr, "tls.example.test");
  REQUIRE(r);
  // One server SSL_CTX without any certificate; the leaf is set per connection.
  certs::SslCtxPtr server_ctx{SSL_CTX_new(TLS_server_method())};
  certs::SslCtxPtr client_ctx{SSL_CTX_new(TLS_client_method())};
  REQUIRE(server_ctx);
  REQUIRE(client_ctx);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), ca().x509());
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);

  auto handshake = [&](SSL_CTX* sctx, bool per_connection_leaf) {
    certs::SslPtr server{SSL_new(sctx)};
    certs::SslPtr client{SSL_new(client_ctx.get())};
    if (per_connection_leaf) REQUIRE(certs::use_minted_leaf(server.get(), *r.leaf));
    SSL_set_tlsext_host_name(client.get(), "tls.example.test");
    SSL_set1_host(client.get(), "tls.example.test");
    BIO* cb = nullptr;
    BIO* sb = nullptr;
    REQUIRE(BIO_new_bio_pair(&cb, 0, &sb, 0) == 1);
    SSL_set_bio(client.get(), cb, cb);  // each SSL owns its end of the pair now
    SSL_set_bio(server.get(), sb, sb);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());
    bool client_done = false, server_done = false;
    for (int i = 0; i < 20 && !(client_done && server_done); ++i) {
      if (!client_done) client_done = SSL_do_handshake(client.get()) == 1;
      if (!server_done) server_done = SSL_do_handshake(server.get()) == 1;
    }
    ERR_clear_error();
    CHECK(client_done);
    CHECK(server_done);
    CHECK(SSL_get_verify_result(client.get()) == X509_V_OK);
    STACK_OF(X509)* sent = SSL_get_peer_cert_chain(client.get());  // borrowed
    REQUIRE(sent);
    CHECK(sk_X509_num(sent) == 2);  // leaf + CA
  };
  SECTION("use_minted_leaf on each SSL") { handshake(server_ctx.get(), true); }
  SECTION("make_server_ctx") {
    const auto ctx = certs::make_server_ctx(*r.leaf);
    REQUIRE(ctx);
    handshake(ctx.get(), false);
  }
}
