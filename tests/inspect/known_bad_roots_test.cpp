// cert.known_bad_root (issue 15 item 2): the shipped list is well formed and its hashes are
// the real ones (recomputed from public certificates), and diagnose() names a known-bad
// key on the path, through the test hook, since nobody can sign with the shipped keys.
#include "inspect/known_bad_roots.hpp"
#include "certs/pem.hpp"
#include "diagnose_helpers.hpp"

#include <set>

using namespace diagtest;

namespace {

bool is_lower_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

const Finding* known_bad(const Findings& fs) { return find(fs, codes::cert_known_bad_root); }

}  // namespace

TEST_CASE("every shipped known-bad root is well formed and unique", "[known_bad_root]") {
  const auto list = known_bad_roots();
  REQUIRE(list.size() >= 20);
  std::set<std::string_view> seen;
  for (const auto& e : list) {
    INFO(e.name);
    CHECK(is_lower_hex64(e.spki_sha256));
    CHECK(seen.insert(e.spki_sha256).second);
    CHECK(!e.name.empty());
    CHECK(!e.source.empty());
    CHECK(find_known_bad_root(e.spki_sha256).has_value());
  }
  // Lookups accept upper case; anything but 64 hex digits is never a match.
  std::string upper(list[0].spki_sha256);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(find_known_bad_root(upper).has_value());
  CHECK_FALSE(find_known_bad_root("").has_value());
  CHECK_FALSE(find_known_bad_root(std::string(64, '0')).has_value());
}

TEST_CASE("the shipped hashes are the SPKI SHA-256 of the real certificates", "[known_bad_root]") {
  struct Case {
    const char* file;
    const char* name_word;
  };
  for (auto c : {Case{"superfish.pem", "Superfish"}, Case{"edellroot.pem", "eDellRoot"},
                 Case{"dsdtestprovider.pem", "DSDTestProvider"},
                 Case{"webpack-dev-server.pem", "webpack-dev-server"}}) {
    INFO(c.file);
    const auto chain =
        certs::read_pem_file(std::string(TLSPROBE_TEST_DATA) + "/known_bad_roots/" + c.file);
    REQUIRE(chain.size() == 1);
    const auto entry = find_known_bad_root(spki_sha256_hex(chain[0]));
    REQUIRE(entry.has_value());
    CHECK(entry->name.find(c.name_word) != std::string_view::npos);
    CHECK(entry->reason == BadRootReason::key_published);
  }
}

TEST_CASE("spki_sha256_hex hashes the key, not the certificate", "[known_bad_root]") {
  auto root = make_root(ca_spec("Root A"));
  // The same key re-issued under another name and dates: same SPKI, other certificate.
  auto spec = ca_spec("Root A re-issued");
  spec.subject_key = root.key;
  auto again = make_root(spec);
  CHECK(root.cert.sha256_hex() != again.cert.sha256_hex());
  CHECK(spki_sha256_hex(root.cert) == spki_sha256_hex(again.cert));
  CHECK(is_lower_hex64(spki_sha256_hex(root.cert)));
  CHECK(spki_sha256_hex(root.cert) != spki_sha256_hex(make_root(ca_spec("Root B")).cert));
}

TEST_CASE("cert.known_bad_root: a trusted root whose key is known bad", "[known_bad_root]") {
  auto root = make_root(ca_spec("Test Leaked Dev Root"));
  auto inter = issue(root, ca_spec("Test Issuing CA"));
  auto leaf = issue(inter, leaf_spec({kHost}));
  const auto trust = trust_root(root);
  const auto obs = observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})});

  // Healthy while the key is not on the list.
  const auto clean = run(obs, options(trust));
  CHECK(known_bad(clean) == nullptr);
  CHECK_FALSE(has_error(clean));

  const std::string spki = spki_sha256_hex(root.cert);
  TestOnlyKnownBadRoot hook(KnownBadRoot{spki, "Test Leaked Dev Root (test entry)",
                                         BadRootReason::key_published, "tests/inspect"});
  const auto fs = run(obs, options(trust));
  const auto* f = known_bad(fs);
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::error);
  CHECK(f->browser_shows);
  CHECK(ev(*f, "position") == "root");
  CHECK(ev(*f, "in_trust_store") == "true");
  CHECK(ev(*f, "spki_sha256") == spki);
  CHECK(ev(*f, "known_as") == "Test Leaked Dev Root (test entry)");
  CHECK(ev(*f, "reason") == "key_published");
  CHECK(f->message.find("anyone") != std::string::npos);
  CHECK(f->remedy.find("update-ca-certificates") != std::string::npos);
  CHECK(f->remedy.find("certutil") != std::string::npos);
  CHECK(f->remedy.find("certmgr") != std::string::npos);
  CHECK(f->remedy.find("Keychain") != std::string::npos);
  CHECK(f->equivalents.at("chrome").rfind("net::ERR_CERT_REVOKED", 0) == 0);
  CHECK(count(fs, codes::cert_known_bad_root) == 1);
}

TEST_CASE("cert.known_bad_root: a known-bad intermediate key, and gone with the hook",
          "[known_bad_root]") {
  auto root = make_root(ca_spec("Test Root"));
  auto inter = issue(root, ca_spec("Test MitM Sub-CA"));
  auto leaf = issue(inter, leaf_spec({kHost}));
  const auto trust = trust_root(root);
  const auto obs = observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})});
  {
    TestOnlyKnownBadRoot hook(KnownBadRoot{spki_sha256_hex(inter.cert), "Test MitM Sub-CA",
                                           BadRootReason::distrusted, "tests/inspect"});
    const auto fs = run(obs, options(trust));
    const auto* f = known_bad(fs);
    REQUIRE(f != nullptr);
    CHECK(ev(*f, "position") == "intermediate");
    CHECK(ev(*f, "reason") == "distrusted");
    CHECK(ev(*f, "in_trust_store") == "false");
  }
  CHECK(known_bad(run(obs, options(trust))) == nullptr);
}
