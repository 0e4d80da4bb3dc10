#include "certs/certificate.hpp"
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tlsprobe;
using namespace tlsprobe::testpki;
using certs::Certificate;

TEST_CASE("certificate fields are extracted", "[certs][certificate]") {
  auto h = make_hierarchy({"www.example.test", "example.test", "192.0.2.7", "2001:db8::1"});
  const Certificate& leaf = h.leaf.cert;

  CHECK(leaf.subject() == "CN=www.example.test,O=tlsprobe test");
  CHECK(leaf.issuer() == "CN=tlsprobe Test Intermediate CA,O=tlsprobe test");
  CHECK(leaf.issuer() == h.intermediate.cert.subject());
  CHECK(leaf.common_name() == "www.example.test");
  CHECK(leaf.dns_names() == std::vector<std::string>{"www.example.test", "example.test"});
  CHECK(leaf.ip_names() == std::vector<std::string>{"192.0.2.7", "2001:db8::1"});
  CHECK(leaf.names().size() == 4);
  CHECK(leaf.not_before() == fixed_now() - std::chrono::days(30));
  CHECK(leaf.not_after() == fixed_now() + std::chrono::days(90));
  CHECK(leaf.key().type == "EC");
  CHECK(leaf.key().bits == 256);
  CHECK(leaf.key().curve == "prime256v1");
  CHECK(leaf.signature_algorithm() == "ecdsa-with-SHA256");
  CHECK(leaf.aia_issuer_url() ==
        "http://pki.tlsprobe.test/intermediate.crt");  // make_hierarchy sets AIA
  CHECK_FALSE(leaf.is_ca());
  CHECK_FALSE(leaf.is_self_signed());
  CHECK(h.intermediate.cert.is_ca());
  CHECK_FALSE(h.intermediate.cert.is_self_signed());
  CHECK(h.root.cert.is_ca());
  CHECK(h.root.cert.is_self_signed());

  CHECK(leaf.sha256_hex().size() == 64);
  CHECK(leaf.sha256_hex().find_first_not_of("0123456789ABCDEF") == std::string::npos);
  CHECK_FALSE(leaf.serial_hex().empty());
  CHECK(leaf.serial_hex().find_first_not_of("0123456789ABCDEF") == std::string::npos);
}

TEST_CASE("serials are distinct and fixed serials are kept", "[certs][certificate]") {
  auto root = make_root({.common_name = "R"});
  std::set<std::string> serials;
  for (int i = 0; i < 20; ++i) serials.insert(issue(root, {.common_name = "x"}).cert.serial_hex());
  CHECK(serials.size() == 20);
  auto fixed = issue(root, {.common_name = "y", .serial = 0x1234ABCD});
  CHECK(fixed.cert.serial_hex() == "1234ABCD");
}

TEST_CASE("key types, sizes and signature algorithms", "[certs][certificate]") {
  auto rsa_root = make_root({.common_name = "RSA Root", .key = KeyKind::rsa_2048});
  CHECK(rsa_root.cert.key().type == "RSA");
  CHECK(rsa_root.cert.key().bits == 2048);
  CHECK(rsa_root.cert.signature_algorithm() == "sha256WithRSAEncryption");

  auto sha1 =
      issue(rsa_root, {.common_name = "a", .key = KeyKind::rsa_1024, .hash = SigHash::sha1});
  CHECK(sha1.cert.key().bits == 1024);
  CHECK(sha1.cert.signature_algorithm() == "sha1WithRSAEncryption");
  auto md5 = issue(rsa_root, {.common_name = "b", .hash = SigHash::md5});
  CHECK(md5.cert.signature_algorithm() == "md5WithRSAEncryption");

  auto p384 = make_root({.common_name = "P384", .key = KeyKind::ec_p384, .hash = SigHash::sha384});
  CHECK(p384.cert.key().curve == "secp384r1");
  CHECK(p384.cert.key().bits == 384);
  CHECK(p384.cert.signature_algorithm() == "ecdsa-with-SHA384");
  auto p224 = issue(p384, {.common_name = "c", .key = KeyKind::ec_p224});
  CHECK(p224.cert.key().curve == "secp224r1");
  CHECK(p224.cert.key().bits == 224);

  auto ed = make_root({.common_name = "Ed", .key = KeyKind::ed25519});
  CHECK(ed.cert.key().type == "Ed25519");
  CHECK(ed.cert.signature_algorithm() == "ED25519");
  CHECK(ed.cert.is_self_signed());
  CHECK_THROWS(issue(p384, {.common_name = "d", .hash = SigHash::md5}));  // MD5 needs RSA
}

TEST_CASE("AIA, no CN, self-signed leaf", "[certs][certificate]") {
  auto root = make_root({.common_name = "R"});
  auto leaf = issue(root, {.common_name = "",
                           .dns_names = {"a.test"},
                           .aia_issuer_url = "http://ca.example.test/int.der"});
  CHECK(leaf.cert.common_name().empty());
  CHECK(leaf.cert.subject() == "O=tlsprobe test");
  CHECK(leaf.cert.aia_issuer_url() == "http://ca.example.test/int.der");
  auto ss = make_self_signed({.common_name = "self.test", .dns_names = {"self.test"}});
  CHECK(ss.cert.is_self_signed());
  CHECK_FALSE(ss.cert.is_ca());
}

TEST_CASE("from_der round trip and garbage", "[certs][certificate]") {
  auto root = make_root({.common_name = "R"});
  auto again = Certificate::from_der(root.cert.der());
  REQUIRE(again);
  CHECK(*again == root.cert);
  CHECK(again->subject() == root.cert.subject());
  CHECK_FALSE(Certificate::from_der(""));
  CHECK_FALSE(Certificate::from_der("not a certificate"));
  CHECK_FALSE(Certificate::from_der(root.cert.der() + "x"));
  CHECK_FALSE(Certificate::from_der(root.cert.der().substr(0, 100)));
  CHECK_THROWS_AS(Certificate::from_x509(nullptr), std::invalid_argument);
}

TEST_CASE("dates far in the future use GeneralizedTime", "[certs][certificate]") {
  using namespace std::chrono;
  TimePoint far = sys_days{year{2099} / December / 31} + hours{23};
  auto root = make_root({.common_name = "R", .not_after = far});
  CHECK(root.cert.not_after() == far);
  CHECK(certs::format_rfc3339(root.cert.not_after()) == "2099-12-31T23:00:00Z");
}

TEST_CASE("rfc3339 format and parse", "[certs][time]") {
  using certs::format_rfc3339;
  using certs::parse_rfc3339;
  CHECK(format_rfc3339(fixed_now()) == "2026-06-01T00:00:00Z");
  CHECK(format_rfc3339(fixed_now()) == testpki::kFixedNowText);
  CHECK(parse_rfc3339("2026-06-01T00:00:00Z") == fixed_now());
  CHECK(parse_rfc3339("2026-06-01t00:00:00z") == fixed_now());
  CHECK(parse_rfc3339("2026-06-01T02:30:00+02:30") == fixed_now());
  CHECK(parse_rfc3339("2026-05-31T22:00:00-02:00") == fixed_now());
  CHECK(parse_rfc3339("2026-06-01T00:00:00.123456Z") == fixed_now());
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == certs::TimePoint{});
  auto t = parse_rfc3339("2026-11-24T05:45:00Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-11-24T05:45:00Z");

  for (const char* bad :
       {"", "2026-06-01", "2026-06-01T00:00:00", "2026-06-01 00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-06-01T24:00:00Z", "2026-06-01T00:60:00Z",
        "2026-06-01T00:00:00.Z", "2026-06-01T00:00:00+0200", "2026-06-01T00:00:00Zjunk",
        "2026-6-01T00:00:00Z", "x026-06-01T00:00:00Z", "2026-06-01T00:00:00+25:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}

TEST_CASE("escape_for_display neutralises hostile text", "[certs][escape]") {
  using certs::escape_for_display;
  CHECK(escape_for_display("www.example.com") == "www.example.com");
  CHECK(escape_for_display("caf\xC3\xA9.example") == "caf\xC3\xA9.example");  // é kept
  CHECK(escape_for_display("\xE4\xBE\x8B.\xE6\xB5\x8B\xE8\xAF\x95") ==
        "\xE4\xBE\x8B.\xE6\xB5\x8B\xE8\xAF\x95");                       // CJK kept
  CHECK(escape_for_display("\xF0\x9F\x94\x92") == "\xF0\x9F\x94\x92");  // emoji kept
  CHECK(escape_for_display("a\x1b[31mred") == "a\\x1b[31mred");
  CHECK(escape_for_display("a\nb\rc\td") == "a\\x0ab\\x0dc\\x09d");
  CHECK(escape_for_display(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_for_display("\x7f") == "\\x7f");
  CHECK(escape_for_display("\xC2\x9B") == "\\u009B");                      // C1 CSI
  CHECK(escape_for_display("moc.\xE2\x80\xAEgood") == "moc.\\u202Egood");  // RLO
  CHECK(escape_for_display("\xE2\x80\xAA\xE2\x80\xAD") == "\\u202A\\u202D");
  CHECK(escape_for_display("\xE2\x81\xA6x\xE2\x81\xA9") == "\\u2066x\\u2069");
  CHECK(escape_for_display("\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C") == "\\u200E\\u200F\\u061C");
  // Invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF.
  CHECK(escape_for_display("\x80") == "\\x80");
  CHECK(escape_for_display("a\xE2\x80") == "a\\xe2\\x80");
  CHECK(escape_for_display("\xC0\xAF") == "\\xc0\\xaf");
  CHECK(escape_for_display("\xED\xA0\x80") == "\\xed\\xa0\\x80");
  CHECK(escape_for_display("\xF4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(escape_for_display("\xFF") == "\\xff");
}

TEST_CASE("hostile subject text never reaches a terminal raw", "[certs][escape]") {
  auto root = make_root({.common_name = "R"});
  std::string cn = "evil\x1b[2J\xE2\x80\xAEmoc.\n";
  auto leaf = issue(root, {.common_name = cn, .organization = "O, with \"quotes\"+plus"});
  // The DN is RFC 4514: special characters escaped, the most specific RDN first.
  CHECK(leaf.cert.subject().rfind("CN=evil", 0) == 0);
  CHECK(leaf.cert.subject().find(",O=O\\, with \\\"quotes\\\"\\+plus") != std::string::npos);
  CHECK(leaf.cert.common_name() == cn);  // the raw value, for matching and JSON
  for (const std::string& s : {leaf.cert.subject(), leaf.cert.common_name()}) {
    std::string shown = certs::escape_for_display(s);
    CHECK(shown.find('\x1b') == std::string::npos);
    CHECK(shown.find('\n') == std::string::npos);
    CHECK(shown.find("\xE2\x80\xAE") == std::string::npos);
  }
  // Non-ASCII stays readable UTF-8 in the DN (not "\C3\A9").
  auto utf = issue(root, {.common_name = "caf\xC3\xA9.test"});
  CHECK(utf.cert.subject() == "CN=caf\xC3\xA9.test,O=tlsprobe test");
}

TEST_CASE("system roots parse with sensible facts", "[certs][certificate]") {
  auto roots = certs::read_pem_file("/etc/ssl/certs/ca-certificates.crt");
  REQUIRE(roots.size() > 50);
  for (const auto& r : roots) {
    INFO(r.subject());
    CHECK_FALSE(r.subject().empty());
    CHECK(r.sha256_hex().size() == 64);
    CHECK(r.not_before() < r.not_after());
    CHECK((r.key().type == "RSA" || r.key().type == "EC"));
    CHECK(r.key().bits >= 2048 / (r.key().type == "EC" ? 8 : 1));
  }
}
