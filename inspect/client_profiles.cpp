// The client profile table (client_profiles.hpp). Each profile says where its data comes
// from. None was captured on this machine (no network beyond loopback): they were compiled
// from the public ClientHello records named below, except curl and Python, whose lists are
// what Debian 12's OpenSSL 3.0 expands their cipher strings to (`openssl ciphers`), which
// can be re-checked on any Debian 12 machine. Review them when a browser changes its
// ClientHello (the dates below say which releases they describe).
#include "inspect/client_profiles.hpp"

#include <array>
#include <utility>

namespace tlsprobe::inspect {

namespace {

// OpenSSL name -> IANA name, for every suite a profile lists (and a few more OpenSSL
// servers choose).
constexpr std::array<std::pair<std::string_view, std::string_view>, 43> kSuiteNames = {{
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
    {"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256"},
    {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {"ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {"ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {"ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {"ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {"ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {"ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {"ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {"ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {"ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {"ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {"ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {"ECDHE-ECDSA-DES-CBC3-SHA", "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"},
    {"ECDHE-RSA-DES-CBC3-SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {"DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {"DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {"DHE-RSA-CHACHA20-POLY1305", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {"DHE-DSS-AES128-GCM-SHA256", "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"},
    {"DHE-DSS-AES256-GCM-SHA384", "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"},
    {"DHE-RSA-AES128-SHA256", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {"DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {"DHE-DSS-AES128-SHA256", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"},
    {"DHE-DSS-AES256-SHA256", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"},
    {"DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {"DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {"DHE-DSS-AES128-SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"},
    {"DHE-DSS-AES256-SHA", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"},
    {"AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {"AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {"AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {"AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {"AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {"AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {"DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {"NULL-SHA256", "TLS_RSA_WITH_NULL_SHA256"},
    {"NULL-SHA", "TLS_RSA_WITH_NULL_SHA"},
    {"ADH-AES128-GCM-SHA256", "TLS_DH_anon_WITH_AES_128_GCM_SHA256"},
}};

// The signature algorithms every TLS 1.3 browser sends, in Chrome's order.
const std::vector<std::string_view> kChromeSigalgs = {
    "ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256",
    "ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha384", "rsa_pkcs1_sha384",
    "rsa_pss_rsae_sha512",    "rsa_pkcs1_sha512"};

// OpenSSL 3.0's default signature_algorithms at security level 2 (no SHA-1, no SHA-224).
const std::vector<std::string_view> kOpenSsl3Sigalgs = {"ecdsa_secp256r1_sha256",
                                                        "ecdsa_secp384r1_sha384",
                                                        "ecdsa_secp521r1_sha512",
                                                        "ed25519",
                                                        "ed448",
                                                        "rsa_pss_pss_sha256",
                                                        "rsa_pss_pss_sha384",
                                                        "rsa_pss_pss_sha512",
                                                        "rsa_pss_rsae_sha256",
                                                        "rsa_pss_rsae_sha384",
                                                        "rsa_pss_rsae_sha512",
                                                        "rsa_pkcs1_sha256",
                                                        "rsa_pkcs1_sha384",
                                                        "rsa_pkcs1_sha512"};

// OpenSSL 3.0's default supported_groups.
const std::vector<std::string_view> kOpenSsl3Groups = {
    "X25519",    "P-256",     "X448",      "P-521",     "P-384",
    "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"};

std::vector<ClientProfile> make_profiles() {
  std::vector<ClientProfile> out;

  ClientProfile chrome;
  chrome.id = "chrome";
  chrome.name = "Chrome 131+ / Edge";
  chrome.browser = true;
  chrome.versions = {"1.3", "1.2"};
  // The well-known Chrome ClientHello (JA3/JA4 records of tlsfingerprint.io and
  // ja4db.com; BoringSSL's default list as Chromium configures it in
  // net/socket/ssl_client_socket_impl.cc), minus the four TLS_RSA_* suites (0x009c,
  // 0x009d, 0x002f, 0x0035) that Chrome 131 stopped offering (chromestatus "Remove TLS
  // RSA key exchange"). No DHE since Chrome 53, no 3DES since Chrome 93, no TLS 1.0/1.1
  // since Chrome 84. Edge is Chromium and sends the same.
  chrome.suites = {"TLS_AES_128_GCM_SHA256",       "TLS_AES_256_GCM_SHA384",
                   "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
                   "ECDHE-RSA-AES128-GCM-SHA256",  "ECDHE-ECDSA-AES256-GCM-SHA384",
                   "ECDHE-RSA-AES256-GCM-SHA384",  "ECDHE-ECDSA-CHACHA20-POLY1305",
                   "ECDHE-RSA-CHACHA20-POLY1305",  "ECDHE-RSA-AES128-SHA",
                   "ECDHE-RSA-AES256-SHA"};
  chrome.groups = {"X25519MLKEM768", "X25519", "P-256", "P-384"};
  chrome.sigalgs = kChromeSigalgs;
  chrome.source =
      "published Chrome ClientHello captures (tlsfingerprint.io, ja4db.com) and Chromium's "
      "net/socket/ssl_client_socket_impl.cc; TLS_RSA_* removed as of Chrome 131";
  out.push_back(chrome);

  ClientProfile firefox;
  firefox.id = "firefox";
  firefox.name = "Firefox 128+";
  firefox.browser = true;
  firefox.versions = {"1.3", "1.2"};
  // NSS as Firefox configures it (security/manager/ssl/nsNSSComponent.cpp's cipher
  // table and the security.ssl3.* prefs that default to true); the same list appears in
  // Firefox ClientHello captures (tlsfingerprint.io). DHE suites off since Firefox 78,
  // TLS 1.0/1.1 off since Firefox 78; it still offers four TLS_RSA_* suites.
  firefox.suites = {"TLS_AES_128_GCM_SHA256",
                    "TLS_CHACHA20_POLY1305_SHA256",
                    "TLS_AES_256_GCM_SHA384",
                    "ECDHE-ECDSA-AES128-GCM-SHA256",
                    "ECDHE-RSA-AES128-GCM-SHA256",
                    "ECDHE-ECDSA-CHACHA20-POLY1305",
                    "ECDHE-RSA-CHACHA20-POLY1305",
                    "ECDHE-ECDSA-AES256-GCM-SHA384",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    "ECDHE-ECDSA-AES256-SHA",
                    "ECDHE-ECDSA-AES128-SHA",
                    "ECDHE-RSA-AES128-SHA",
                    "ECDHE-RSA-AES256-SHA",
                    "AES128-GCM-SHA256",
                    "AES256-GCM-SHA384",
                    "AES128-SHA",
                    "AES256-SHA"};
  firefox.groups = {"X25519MLKEM768", "X25519",    "P-256",    "P-384",
                    "P-521",          "ffdhe2048", "ffdhe3072"};
  firefox.sigalgs = {"ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384",
                     "ecdsa_secp521r1_sha512", "rsa_pss_rsae_sha256",
                     "rsa_pss_rsae_sha384",    "rsa_pss_rsae_sha512",
                     "rsa_pkcs1_sha256",       "rsa_pkcs1_sha384",
                     "rsa_pkcs1_sha512",       "ecdsa_sha1",
                     "rsa_pkcs1_sha1"};
  firefox.source =
      "Firefox ClientHello captures (tlsfingerprint.io) and NSS's default-enabled suites in "
      "Firefox's nsNSSComponent.cpp / security.ssl3.* prefs";
  out.push_back(firefox);

  ClientProfile safari;
  safari.id = "safari";
  safari.name = "Safari 17/18 (macOS, iOS)";
  safari.browser = true;
  // Safari 17 ClientHello captures (tlsfingerprint.io, ja4db.com; the same list as SSL
  // Labs' "Safari 17" client simulation): supported_versions still lists TLS 1.0 and 1.1,
  // and the 3DES suites are still offered (Debian 12's OpenSSL cannot serve 3DES, so they
  // never match a server probed here).
  safari.versions = {"1.3", "1.2", "1.1", "1.0"};
  safari.suites = {"TLS_AES_128_GCM_SHA256",
                   "TLS_AES_256_GCM_SHA384",
                   "TLS_CHACHA20_POLY1305_SHA256",
                   "ECDHE-ECDSA-AES256-GCM-SHA384",
                   "ECDHE-ECDSA-AES128-GCM-SHA256",
                   "ECDHE-ECDSA-CHACHA20-POLY1305",
                   "ECDHE-RSA-AES256-GCM-SHA384",
                   "ECDHE-RSA-AES128-GCM-SHA256",
                   "ECDHE-RSA-CHACHA20-POLY1305",
                   "ECDHE-ECDSA-AES256-SHA",
                   "ECDHE-ECDSA-AES128-SHA",
                   "ECDHE-RSA-AES256-SHA",
                   "ECDHE-RSA-AES128-SHA",
                   "AES256-GCM-SHA384",
                   "AES128-GCM-SHA256",
                   "AES256-SHA",
                   "AES128-SHA",
                   "ECDHE-ECDSA-DES-CBC3-SHA",
                   "ECDHE-RSA-DES-CBC3-SHA",
                   "DES-CBC3-SHA"};
  safari.groups = {"X25519", "P-256", "P-384", "P-521"};
  safari.sigalgs = {"ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256",
                    "ecdsa_secp384r1_sha384", "ecdsa_sha1",          "rsa_pss_rsae_sha384",
                    "rsa_pkcs1_sha384",       "rsa_pss_rsae_sha512", "rsa_pkcs1_sha512",
                    "rsa_pkcs1_sha1"};
  safari.source = "Safari 17 ClientHello captures (tlsfingerprint.io, ja4db.com)";
  out.push_back(safari);

  ClientProfile curl;
  curl.id = "curl";
  curl.name = "curl / OpenSSL 3 (security level 2)";
  // Debian 12's OpenSSL 3.0 default: `openssl ciphers -s 'DEFAULT:!PSK:!SRP'` (curl sends
  // no PSK/SRP suites), security level 2 (DH >= 2048 bits, no SHA-1 signatures), which
  // also disables TLS 1.0/1.1.
  curl.versions = {"1.3", "1.2"};
  curl.suites = {"TLS_AES_256_GCM_SHA384",
                 "TLS_CHACHA20_POLY1305_SHA256",
                 "TLS_AES_128_GCM_SHA256",
                 "ECDHE-ECDSA-AES256-GCM-SHA384",
                 "ECDHE-RSA-AES256-GCM-SHA384",
                 "DHE-RSA-AES256-GCM-SHA384",
                 "ECDHE-ECDSA-CHACHA20-POLY1305",
                 "ECDHE-RSA-CHACHA20-POLY1305",
                 "DHE-RSA-CHACHA20-POLY1305",
                 "ECDHE-ECDSA-AES128-GCM-SHA256",
                 "ECDHE-RSA-AES128-GCM-SHA256",
                 "DHE-RSA-AES128-GCM-SHA256",
                 "ECDHE-ECDSA-AES256-SHA384",
                 "ECDHE-RSA-AES256-SHA384",
                 "DHE-RSA-AES256-SHA256",
                 "ECDHE-ECDSA-AES128-SHA256",
                 "ECDHE-RSA-AES128-SHA256",
                 "DHE-RSA-AES128-SHA256",
                 "ECDHE-ECDSA-AES256-SHA",
                 "ECDHE-RSA-AES256-SHA",
                 "DHE-RSA-AES256-SHA",
                 "ECDHE-ECDSA-AES128-SHA",
                 "ECDHE-RSA-AES128-SHA",
                 "DHE-RSA-AES128-SHA",
                 "AES256-GCM-SHA384",
                 "AES128-GCM-SHA256",
                 "AES256-SHA256",
                 "AES128-SHA256",
                 "AES256-SHA",
                 "AES128-SHA"};
  curl.groups = kOpenSsl3Groups;
  curl.sigalgs = kOpenSsl3Sigalgs;
  curl.min_dh_bits = 2048;
  curl.source = "Debian 12 OpenSSL 3.0 defaults: `openssl ciphers -s 'DEFAULT:!PSK:!SRP'`";
  out.push_back(curl);

  ClientProfile java;
  java.id = "java17";
  java.name = "Java 17 (SunJSSE defaults)";
  // JDK 17's default enabled suites in SunJSSE's order (the JDK 17 "Java Security
  // Standard Algorithm Names" / SunJSSE provider documentation, and JDK 17 ClientHello
  // captures), without the static-ECDH suites no OpenSSL server offers. TLS 1.0/1.1 are
  // disabled by jdk.tls.disabledAlgorithms (since 11.0.11 / 8u291), which also holds "DH
  // keySize < 1024".
  java.versions = {"1.3", "1.2"};
  java.suites = {"TLS_AES_256_GCM_SHA384",
                 "TLS_AES_128_GCM_SHA256",
                 "TLS_CHACHA20_POLY1305_SHA256",
                 "ECDHE-ECDSA-AES256-GCM-SHA384",
                 "ECDHE-ECDSA-AES128-GCM-SHA256",
                 "ECDHE-ECDSA-CHACHA20-POLY1305",
                 "ECDHE-RSA-AES256-GCM-SHA384",
                 "ECDHE-RSA-CHACHA20-POLY1305",
                 "ECDHE-RSA-AES128-GCM-SHA256",
                 "DHE-RSA-AES256-GCM-SHA384",
                 "DHE-RSA-CHACHA20-POLY1305",
                 "DHE-DSS-AES256-GCM-SHA384",
                 "DHE-RSA-AES128-GCM-SHA256",
                 "DHE-DSS-AES128-GCM-SHA256",
                 "ECDHE-ECDSA-AES256-SHA384",
                 "ECDHE-RSA-AES256-SHA384",
                 "ECDHE-ECDSA-AES128-SHA256",
                 "ECDHE-RSA-AES128-SHA256",
                 "DHE-RSA-AES256-SHA256",
                 "DHE-DSS-AES256-SHA256",
                 "DHE-RSA-AES128-SHA256",
                 "DHE-DSS-AES128-SHA256",
                 "ECDHE-ECDSA-AES256-SHA",
                 "ECDHE-RSA-AES256-SHA",
                 "DHE-RSA-AES256-SHA",
                 "DHE-DSS-AES256-SHA",
                 "ECDHE-ECDSA-AES128-SHA",
                 "ECDHE-RSA-AES128-SHA",
                 "DHE-RSA-AES128-SHA",
                 "DHE-DSS-AES128-SHA",
                 "AES256-GCM-SHA384",
                 "AES128-GCM-SHA256",
                 "AES256-SHA256",
                 "AES128-SHA256",
                 "AES256-SHA",
                 "AES128-SHA"};
  java.groups = {"X25519",    "P-256",     "P-384",     "P-521",     "X448",
                 "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"};
  java.sigalgs = {"ecdsa_secp256r1_sha256",
                  "ecdsa_secp384r1_sha384",
                  "ecdsa_secp521r1_sha512",
                  "ed25519",
                  "ed448",
                  "rsa_pss_rsae_sha256",
                  "rsa_pss_rsae_sha384",
                  "rsa_pss_rsae_sha512",
                  "rsa_pss_pss_sha256",
                  "rsa_pss_pss_sha384",
                  "rsa_pss_pss_sha512",
                  "rsa_pkcs1_sha256",
                  "rsa_pkcs1_sha384",
                  "rsa_pkcs1_sha512",
                  "ecdsa_sha1",
                  "rsa_pkcs1_sha1"};
  java.min_dh_bits = 1024;
  java.source =
      "JDK 17 SunJSSE default suites and jdk.tls.disabledAlgorithms (JDK 17 security "
      "documentation), JDK 17 ClientHello captures";
  out.push_back(java);

  ClientProfile python;
  python.id = "python3";
  python.name = "Python 3.10+ (ssl, OpenSSL 3)";
  // CPython's PY_SSL_DEFAULT_CIPHER_STRING (Modules/_ssl.c, 3.10+):
  // "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:
  // !AESCCM", expanded by Debian 12's OpenSSL 3.0 (`openssl ciphers`); minimum TLS 1.2
  // (create_default_context since 3.10). No TLS_RSA_* suites and no SHA-1 CBC suites.
  python.versions = {"1.3", "1.2"};
  python.suites = {"TLS_AES_256_GCM_SHA384",      "TLS_CHACHA20_POLY1305_SHA256",
                   "TLS_AES_128_GCM_SHA256",      "ECDHE-ECDSA-AES256-GCM-SHA384",
                   "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
                   "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
                   "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-SHA384",
                   "ECDHE-RSA-AES256-SHA384",     "ECDHE-ECDSA-AES128-SHA256",
                   "ECDHE-RSA-AES128-SHA256",     "DHE-RSA-AES256-GCM-SHA384",
                   "DHE-RSA-AES128-GCM-SHA256",   "DHE-RSA-AES256-SHA256",
                   "DHE-RSA-AES128-SHA256"};
  python.groups = kOpenSsl3Groups;
  python.sigalgs = kOpenSsl3Sigalgs;
  python.min_dh_bits = 2048;
  python.source =
      "CPython Modules/_ssl.c PY_SSL_DEFAULT_CIPHER_STRING expanded by Debian 12's OpenSSL "
      "3.0 (`openssl ciphers`)";
  out.push_back(python);

  ClientProfile android;
  android.id = "android7";
  android.name = "Android 7 (Nougat)";
  // Android 7.0 ClientHello as SSL Labs' client simulation and tlsfingerprint.io record it
  // (BoringSSL in Conscrypt): TLS 1.0-1.2, no DHE (removed in Android 6), X25519 first.
  android.versions = {"1.2", "1.1", "1.0"};
  android.suites = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                    "ECDHE-ECDSA-AES256-GCM-SHA384",
                    "ECDHE-ECDSA-CHACHA20-POLY1305",
                    "ECDHE-RSA-AES128-GCM-SHA256",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    "ECDHE-RSA-CHACHA20-POLY1305",
                    "ECDHE-ECDSA-AES128-SHA",
                    "ECDHE-ECDSA-AES256-SHA",
                    "ECDHE-RSA-AES128-SHA",
                    "ECDHE-RSA-AES256-SHA",
                    "AES128-GCM-SHA256",
                    "AES256-GCM-SHA384",
                    "AES128-SHA",
                    "AES256-SHA"};
  android.groups = {"X25519", "P-256", "P-384"};
  android.sigalgs = {
      "rsa_pkcs1_sha512", "ecdsa_secp521r1_sha512", "rsa_pkcs1_sha384", "ecdsa_secp384r1_sha384",
      "rsa_pkcs1_sha256", "ecdsa_secp256r1_sha256", "rsa_pkcs1_sha1",   "ecdsa_sha1"};
  android.source = "SSL Labs client simulation \"Android 7.0\" and tlsfingerprint.io captures";
  out.push_back(android);
  return out;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

const std::vector<ClientProfile>& client_profiles() {
  static const std::vector<ClientProfile> profiles = make_profiles();
  return profiles;
}

const ClientProfile* find_client_profile(std::string_view id) {
  for (const auto& p : client_profiles())
    if (p.id == id) return &p;
  return nullptr;
}

std::string suite_iana_name(std::string_view openssl_name) {
  for (const auto& [ossl, iana] : kSuiteNames)
    if (ossl == openssl_name) return std::string(iana);
  return std::string(openssl_name);
}

SuiteTraits suite_traits(std::string_view n) {
  SuiteTraits t;
  t.tls13 = n.rfind("TLS_", 0) == 0;
  t.anonymous = n.rfind("ADH-", 0) == 0 || n.rfind("AECDH-", 0) == 0;
  t.finite_field_dh = n.rfind("DHE-", 0) == 0 || n.rfind("EDH-", 0) == 0 || n.rfind("ADH-", 0) == 0;
  t.forward_secret = t.tls13 || n.rfind("ECDHE-", 0) == 0 || n.rfind("DHE-", 0) == 0 ||
                     n.rfind("EDH-", 0) == 0 || t.anonymous;
  t.null_cipher = contains(n, "NULL") && !contains(n, "CHACHA20");
  t.aead = contains(n, "GCM") || contains(n, "CCM") || contains(n, "CHACHA20-POLY1305") ||
           contains(n, "CHACHA20_POLY1305");
  return t;
}

}  // namespace tlsprobe::inspect
