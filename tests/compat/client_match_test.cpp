// The client matcher (inspect/client_match.hpp) on hand-made enumerations: which profile
// connects, with which version and suite, and why not. Pure: no sockets.
#include "inspect/client_match.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::inspect;

namespace {

ProtocolScan proto(std::string version, std::vector<std::string> suites, bool server_order) {
  ProtocolScan p;
  p.version = std::move(version);
  p.accepted = !suites.empty();
  p.suites = std::move(suites);
  p.server_order = server_order;
  return p;
}

TlsScan scan_of(std::vector<ProtocolScan> protocols) {
  TlsScan s;
  s.protocols = std::move(protocols);
  return s;
}

ClientVerdict verdict(const TlsScan& scan, const std::string& id) {
  const auto* p = find_client_profile(id);
  REQUIRE(p);
  return match_client(*p, scan);
}

}  // namespace

TEST_CASE("the profile table: every profile has versions, suites, groups, sigalgs, a source",
          "[compat][profiles]") {
  const auto& all = client_profiles();
  REQUIRE(all.size() == 7);
  for (const auto& p : all) {
    INFO(p.id);
    CHECK(!p.versions.empty());
    CHECK(!p.suites.empty());
    CHECK(!p.groups.empty());
    CHECK(!p.sigalgs.empty());
    CHECK(!p.source.empty());
    // Every listed suite has its IANA name in the table.
    for (auto s : p.suites) CHECK(suite_iana_name(s).rfind("TLS_", 0) == 0);
  }
  for (const char* id : {"chrome", "firefox", "safari"}) CHECK(find_client_profile(id)->browser);
  CHECK_FALSE(find_client_profile("curl")->browser);
  CHECK(suite_iana_name("ECDHE-RSA-AES128-GCM-SHA256") == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

TEST_CASE("suite traits from OpenSSL names", "[compat][profiles]") {
  CHECK(suite_traits("TLS_AES_128_GCM_SHA256").tls13);
  CHECK(suite_traits("TLS_AES_128_GCM_SHA256").aead);
  CHECK(suite_traits("ECDHE-RSA-AES128-SHA").forward_secret);
  CHECK_FALSE(suite_traits("ECDHE-RSA-AES128-SHA").aead);
  CHECK_FALSE(suite_traits("AES128-GCM-SHA256").forward_secret);
  CHECK(suite_traits("DHE-RSA-AES128-GCM-SHA256").finite_field_dh);
  CHECK(suite_traits("ADH-AES128-GCM-SHA256").anonymous);
  CHECK(suite_traits("NULL-SHA256").null_cipher);
  CHECK_FALSE(suite_traits("ECDHE-RSA-CHACHA20-POLY1305").null_cipher);
  CHECK(suite_traits("ECDHE-RSA-CHACHA20-POLY1305").aead);
}

TEST_CASE("matcher: a DHE-only server is out of reach of the browsers, not of curl or Java",
          "[compat][match]") {
  auto scan = scan_of({proto("1.2", {"DHE-RSA-AES128-GCM-SHA256"}, false)});
  scan.dh_group = "ffdhe2048";
  scan.dh_bits = 2048;
  for (const char* id : {"chrome", "firefox", "safari", "android7"}) {
    INFO(id);
    const auto v = verdict(scan, id);
    CHECK_FALSE(v.connects);
    CHECK(v.reason.find("no cipher suite in common at TLS 1.2") != std::string::npos);
  }
  for (const char* id : {"curl", "java17", "python3"}) {
    INFO(id);
    const auto v = verdict(scan, id);
    CHECK(v.connects);
    CHECK(v.version == "1.2");
    CHECK(v.suite == "DHE-RSA-AES128-GCM-SHA256");
    CHECK(v.suite_iana == "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
    CHECK(v.group == "ffdhe2048 (2048 bits)");
  }
}

TEST_CASE("matcher: a 1024-bit DH group keeps OpenSSL clients out, Java (>= 1024) in",
          "[compat][match]") {
  auto scan = scan_of({proto("1.2", {"DHE-RSA-AES128-GCM-SHA256"}, false)});
  scan.dh_group = "DH";
  scan.dh_bits = 1024;
  const auto curl = verdict(scan, "curl");
  CHECK_FALSE(curl.connects);
  CHECK(curl.reason.find("1024 bits") != std::string::npos);
  CHECK(curl.reason.find("at least 2048") != std::string::npos);
  CHECK(verdict(scan, "java17").connects);
}

TEST_CASE("matcher: RSA key exchange only: Chrome 131+ cannot, Firefox and Safari can",
          "[compat][match]") {
  const auto scan = scan_of({proto("1.2", {"AES128-GCM-SHA256"}, false)});
  CHECK_FALSE(verdict(scan, "chrome").connects);
  CHECK(verdict(scan, "firefox").connects);
  CHECK(verdict(scan, "safari").connects);
  CHECK(verdict(scan, "android7").connects);
  CHECK_FALSE(verdict(scan, "python3").connects);  // Python's cipher string has no kRSA
}

TEST_CASE("matcher: the highest common version decides; no fallback to a lower one",
          "[compat][match]") {
  // TLS 1.3 accepted but with CCM only: TLS 1.3 clients fail there rather than use 1.2.
  const auto scan = scan_of({proto("1.3", {"TLS_AES_128_CCM_SHA256"}, false),
                             proto("1.2", {"ECDHE-RSA-AES128-GCM-SHA256"}, false)});
  const auto chrome = verdict(scan, "chrome");
  CHECK_FALSE(chrome.connects);
  CHECK(chrome.reason.find("TLS 1.3") != std::string::npos);
  // Android 7 speaks TLS 1.2 at most: it connects there.
  const auto android = verdict(scan, "android7");
  CHECK(android.connects);
  CHECK(android.version == "1.2");
}

TEST_CASE("matcher: no protocol version in common", "[compat][match]") {
  const auto scan = scan_of({proto("1.0", {"ECDHE-RSA-AES128-SHA"}, false)});
  const auto chrome = verdict(scan, "chrome");
  CHECK_FALSE(chrome.connects);
  CHECK(chrome.reason.find("no protocol version in common") != std::string::npos);
  const auto android = verdict(scan, "android7");
  CHECK(android.connects);
  CHECK(android.version == "1.0");
}

TEST_CASE("matcher: server order vs client order picks the suite", "[compat][match]") {
  // The server lists CBC first. Enforcing its order, Chrome gets CBC; following the
  // client's order, Chrome's first (AES-GCM) wins.
  auto server_first =
      scan_of({proto("1.2", {"ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256"}, true)});
  CHECK(verdict(server_first, "chrome").suite == "ECDHE-RSA-AES128-SHA");
  auto client_first =
      scan_of({proto("1.2", {"ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256"}, false)});
  CHECK(verdict(client_first, "chrome").suite == "ECDHE-RSA-AES128-GCM-SHA256");
}

TEST_CASE("matcher: an ECDHE group in common is needed when groups were tried", "[compat][match]") {
  auto scan = scan_of({proto("1.3", {"TLS_AES_128_GCM_SHA256"}, false)});
  scan.groups_version = "1.3";
  scan.groups = {"P-521"};
  const auto chrome = verdict(scan, "chrome");
  CHECK_FALSE(chrome.connects);
  CHECK(chrome.reason.find("no key-exchange group in common") != std::string::npos);
  const auto firefox = verdict(scan, "firefox");
  CHECK(firefox.connects);
  CHECK(firefox.group == "P-521");
  // Groups not tried: not held against anyone.
  scan.groups_version.clear();
  scan.groups.clear();
  CHECK(verdict(scan, "chrome").connects);
}
