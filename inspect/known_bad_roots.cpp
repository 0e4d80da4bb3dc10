// The shipped list of known-bad CA keys. Every hash below was taken from Chromium's
// net/cert/cert_verify_proc_blocklist.inc (the SPKI block list; the comment above each of
// its entries names the certificate file in net/data/ssl/blocklist/, whose README tells the
// story), except webpack-dev-server, which Chromium does not list: its hash was computed
// from the certificate badssl.com serves for it. tests/inspect/known_bad_roots_test.cpp
// recomputes the Superfish, eDellRoot, DSDTestProvider and webpack-dev-server hashes from
// their public certificates (tests/data/known_bad_roots/).
//
// Not listed, for want of a verifiable hash: the preact-cli development CA (another npm
// package that shipped its CA key); add it with its SPKI hash once one is sourced.
#include "inspect/known_bad_roots.hpp"

#include "certs/ascii.hpp"
#include "certs/ossl.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <list>
#include <mutex>
#include <vector>

namespace tlsprobe::inspect {

namespace {

using R = BadRootReason;

// clang-format off
constexpr std::array kShipped = {
    // --- private keys that are public -------------------------------------------------
    KnownBadRoot{"4bb8f35ba1e126f8dde1b0c420625ed86dce61a7bddadbdea9aba578ff13145e",
                 "Superfish, Inc. (adware root preinstalled on Lenovo laptops, 2014-2015)",
                 R::key_published,
                 "Chromium blocklist b6fe9151402bad1c06d7e66db67a26aa7356f2e6c644dbcf9f98968ff632e1b7.pem; "
                 "EFF, How to remove Superfish adware (2015)"},
    KnownBadRoot{"cdee9f3305572a677e1a6c82dc1e02a35b11cae6a684338c9f37fe1ac8daec23",
                 "eDellRoot (Dell Foundation Services, 2015)", R::key_published,
                 "Chromium blocklist ec30c9c3065a06bb07dc5b1c6b497f370c1ca65c0f30c08e042ba6bcecc78f2c.pem; "
                 "Dell advisory SLN300321"},
    KnownBadRoot{"130ad4e0633521290531b6651f5759b0bc7bc656709ff8f365c2143b0389b6f6",
                 "DSDTestProvider (Dell System Detect, 2015)", R::key_published,
                 "Chromium blocklist 0f912fd7be760be25afbc56bdc09cd9e5dcc9c6f6a55a778aefcb6aa30e31554.pem; "
                 "Dell advisory SLN300321"},
    KnownBadRoot{"2bd1e667ec9ebbe02b9a7da264210c99b3eac1cc9141a0e30e3f623eaccec4e1",
                 "webpack-dev-server development CA (CN=localhost; its key ships in the npm package)",
                 R::key_published,
                 "computed from badssl.com certs/src/crt/ca-webpack-dev-server.crt "
                 "(webpack-dev-server.badssl.com)"},
    KnownBadRoot{"1af56c98ff043ef92bebff54cebb4dd67a25ba956c817f3e6dd3c1e52eb584c1",
                 "Cyberoam SSL inspection CA (one key on every appliance, CVE-2012-3372)",
                 R::key_published,
                 "Chromium blocklist 1af56c98ff043ef92bebff54cebb4dd67a25ba956c817f3e6dd3c1e52eb584c1.key"},
    KnownBadRoot{"707d364e72ae521431dd953897f9c4846d5b8c324298fe53fbd4ada1f2d1157f",
                 "Mitel product certificate (extractable key, advisory 17-0001)", R::key_published,
                 "Chromium blocklist 2a33f5b48176523fd3c0d854f20093417175bfd498ef354cc7f38b54adabaf1a.pem"},
    KnownBadRoot{"6adb8e3e055460922d1501cb97f94c6a02e39c8f2774ca408825b7b58379dc14",
                 "Mitel product certificate (extractable key, advisory 17-0001)", R::key_published,
                 "Chromium blocklist 2d11e736f0427fd6ba4b372755d34a0edd8d83f7e9e7f6c01b388c9b7afa850d.pem"},
    KnownBadRoot{"490b6ec6beb2d6034720b5149b6b29cd35515988cc16af854148b07b9b1f8a11",
                 "Mitel product certificate (extractable key, advisory 17-0001)", R::key_published,
                 "Chromium blocklist 3ab0fcc7287454c405863e3aa204fea8eb0c50a524d2a7e15524a830cd4ab0fe.pem"},
    KnownBadRoot{"ef551284715232de92e246c323329362b132493bb16b589e4775520beb871a56",
                 "Mitel product certificate (extractable key, advisory 17-0001)", R::key_published,
                 "Chromium blocklist 60911c79835c3739432d08c45df64311e06985c5889dc5420ce3d142c8c7ef58.pem"},
    KnownBadRoot{"0c43ea8bcde9fc3bca165664ac8215567e3489d5393a0c81e1a79141992e1953",
                 "Sennheiser HeadSetup root (key disclosed with the software, 2018)", R::key_published,
                 "Chromium blocklist 91e5cc32910686c5cac25c18cc805696c7b33868c280caf0c72844a2a8eb91e2.pem"},
    KnownBadRoot{"8f591f7aa4dc3efe9490c38a4692c9011ed128f1de595569406d77b6fa1f6b4c",
                 "Sennheiser HeadSetup root (key disclosed with the software, 2018)", R::key_published,
                 "Chromium blocklist ddd8ab9178c99cbd9685ea4ae66dc28bfdc9a5a8a166f7f69ad0b5042ad6eb28.pem"},
    // --- distrusted: compromised, or used to intercept other people's traffic -----------
    KnownBadRoot{"32ecc96f912f96d889e73088cd031c7ded2c651c805016157a23b6f32f798a3b",
                 "Trustwave subordinate CA issued for enterprise man-in-the-middle (2012)",
                 R::distrusted,
                 "Chromium blocklist 32ecc96f912f96d889e73088cd031c7ded2c651c805016157a23b6f32f798a3b.key"},
    KnownBadRoot{"c4387d45364a313fbfe79812b35b815d42852ab03b06f11589638021c8f2cb44",
                 "Hacking Team key (used to compromise users)", R::distrusted,
                 "Chromium blocklist c4387d45364a313fbfe79812b35b815d42852ab03b06f11589638021c8f2cb44.key"},
    KnownBadRoot{"ea08c8d45d52ca593de524f0513ca6418da9859f7b08ef13ff9dd7bf612d6a37",
                 "Hacking Team key (used to compromise users)", R::distrusted,
                 "Chromium blocklist ea08c8d45d52ca593de524f0513ca6418da9859f7b08ef13ff9dd7bf612d6a37.key"},
    KnownBadRoot{"b5ba8dd7f89564c2889d3d6453c84998c77824919b64ea0835aa62986591be50",
                 "Qaznet Trust Network (Kazakhstan state interception, 2019)", R::distrusted,
                 "Chromium blocklist 00309c736dd661da6f1eb24173aa849944c168a43a15bffd192eecfdb6f8dbd2.pem"},
    KnownBadRoot{"8e12d0cb3b7df3ea2257579489fd8658c95603ea6cf4b73163a41eb7b7e93fee",
                 "Qaznet Trust Network (Kazakhstan state interception, 2019)", R::distrusted,
                 "Chromium blocklist 61c0fc2e38b5b6f9071b42cee54a9013d858b6697c68b460948551b3249576a1.pem"},
    KnownBadRoot{"b13fa2e6131a888a01f3d62056fb0efbe999eb6b6e14927613e02ba8b8fb046e",
                 "Qaznet Trust Network (Kazakhstan state interception, 2019)", R::distrusted,
                 "Chromium blocklist 1df696f021ab1c3ace9a376b07ed7256a40214cd3396d7934087614924e2d7ef.pem"},
    KnownBadRoot{"a903af8c07bb91b0d9e3f3a30c6d53339fc5bd47e5d6bdb476598860c068a024",
                 "DigiNotar (CA compromised in 2011)", R::distrusted,
                 "Chromium blocklist 0d136e439f0ab6e97f3a02a540da9f0641aa554e1d66ea51ae2920d51b2f7217.pem"},
    KnownBadRoot{"d34b255b2fe7d1a09656cbab6409f73c796ec7d66af73653ecc39af978297310",
                 "DigiNotar (CA compromised in 2011)", R::distrusted,
                 "Chromium blocklist 9ed8f9b0e8e42a1656b8e1dd18f42ba42dc06fe52686173ba2fc70e756f207dc.pem"},
    KnownBadRoot{"9dd55fc573f546cb6a3831d1112d8710a6f4f82dc87f5fae9d3a1a028dd36e4b",
                 "CNNIC (distrusted after a misissued sub-CA, 2015)", R::distrusted,
                 "Chromium blocklist 1c01c6f4dbb2fefc22558b2bca32563f49844acfc32b7be4b0ff599f9e8c7af7.pem"},
    KnownBadRoot{"1f4224cec84fc99ced881ff6fcfd3e21f8c519c547aa6a5dd3de247302ce50d1",
                 "CNNIC (distrusted after a misissued sub-CA, 2015)", R::distrusted,
                 "Chromium blocklist e28393773da845a679f2080cc7fb44a3b7a1c3792cb7eb7729fdcb6a8d99aea7.pem"},
    KnownBadRoot{"04dde9aa9a79f61498682325fa0870276707fb9ca95384120b46893268494fc9",
                 "CNNIC (distrusted after a misissued sub-CA, 2015)", R::distrusted,
                 "Chromium blocklist 2740d956b1127b791aa1b3cc644a4dbedba76186a23638b95102351a834ea861.pem"},
};
// clang-format on

// Entries added by TestOnlyKnownBadRoot, owning their text (a list: stable addresses, so
// the views handed out stay valid while the hook that added them lives).
struct OwnedEntry {
  std::string spki_sha256, name, source;
  BadRootReason reason;
  const void* owner;
};

std::mutex& test_mutex() {
  static std::mutex m;
  return m;
}
std::list<OwnedEntry>& test_entries() {
  static std::list<OwnedEntry> v;
  return v;
}

}  // namespace

std::string_view to_string(BadRootReason r) {
  return r == BadRootReason::key_published ? "key_published" : "distrusted";
}

std::span<const KnownBadRoot> known_bad_roots() { return kShipped; }

std::optional<KnownBadRoot> find_known_bad_root(std::string_view spki_sha256_hex) {
  if (spki_sha256_hex.size() != 64) return std::nullopt;
  const std::string key = certs::ascii_lower(spki_sha256_hex);
  for (const auto& e : kShipped)
    if (e.spki_sha256 == key) return e;
  std::lock_guard lock(test_mutex());
  for (const auto& e : test_entries())
    if (e.spki_sha256 == key) return KnownBadRoot{e.spki_sha256, e.name, e.reason, e.source};
  return std::nullopt;
}

std::string spki_sha256_hex(const certs::Certificate& cert) {
  X509* x = cert.x509();
  if (!x) return {};
  // The DER SubjectPublicKeyInfo, exactly as `openssl x509 -pubkey | openssl pkey -pubin
  // -outform DER` gives it (the form Chromium hashes).
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  if (len <= 0 || !der) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const bool ok =
      EVP_Digest(der, static_cast<size_t>(len), md, &md_len, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!ok) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 0x0f]);
  }
  return out;
}

TestOnlyKnownBadRoot::TestOnlyKnownBadRoot(const KnownBadRoot& entry) {
  std::lock_guard lock(test_mutex());
  test_entries().push_back(OwnedEntry{certs::ascii_lower(entry.spki_sha256),
                                      std::string(entry.name), std::string(entry.source),
                                      entry.reason, this});
}

TestOnlyKnownBadRoot::~TestOnlyKnownBadRoot() {
  std::lock_guard lock(test_mutex());
  test_entries().remove_if([this](const OwnedEntry& e) { return e.owner == this; });
}

}  // namespace tlsprobe::inspect
