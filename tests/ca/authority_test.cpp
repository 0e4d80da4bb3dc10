#include "certs/authority.hpp"
#include "ca/ca_test_util.hpp"
#include "pki/test_pki.hpp"

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <thread>

using namespace tlsprobe;
using catest::error_of;
using catest::mode_of;
using catest::TempDir;
using certs::Authority;
using certs::AuthorityError;

namespace {

bool has_extension(X509* x, int nid, bool critical) {
  const int i = X509_get_ext_by_NID(x, nid, -1);
  if (i < 0) return false;
  return (X509_EXTENSION_get_critical(X509_get_ext(x, i)) != 0) == critical;
}

// Restores an environment variable when the test ends.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v, had_ = true;
  }
  ~EnvGuard() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_CASE("ca init creates a P-256 CA with a 0600 key in a 0700 directory", "[authority]") {
  TempDir tmp{"ca"};
  const auto dir = tmp.path / "state" / "tlsprobe";  // parents are created too
  const auto loaded = Authority::load_or_create(dir);
  CHECK(loaded.created);
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(tmp.path / "state") == 0700);
  CHECK(mode_of(Authority::key_path(dir)) == 0600);
  CHECK(mode_of(Authority::cert_path(dir)) == 0644);
  CHECK_FALSE(catest::fs::exists(dir / "ca-key.pem.tmp"));

  const certs::Certificate& ca = loaded.authority.certificate();
  CHECK(ca.is_ca());
  CHECK(ca.is_self_signed());
  CHECK(ca.common_name().rfind("tlsprobe CA ", 0) == 0);
  CHECK(ca.common_name().size() == std::string("tlsprobe CA ").size() + 8);
  CHECK(ca.subject().find("O=tlsprobe") != std::string::npos);
  CHECK(ca.key().type == "EC");
  CHECK(ca.key().curve == "prime256v1");
  CHECK(ca.signature_algorithm() == "ecdsa-with-SHA256");
  X509* x = ca.x509();
  CHECK(has_extension(x, NID_basic_constraints, true));
  CHECK(has_extension(x, NID_key_usage, true));
  CHECK(has_extension(x, NID_subject_key_identifier, false));
  CHECK(X509_get_pathlen(x) == 0);
  CHECK(X509_get_key_usage(x) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  const auto now = std::chrono::system_clock::now();
  const auto back = now - ca.not_before();
  CHECK(back > std::chrono::hours(23));
  CHECK(back < std::chrono::hours(25));
  const auto ahead = ca.not_after() - now;
  CHECK(ahead > std::chrono::days(3650));
  CHECK(ahead < std::chrono::days(3660));

  // The key file is PKCS#8 PEM.
  CHECK(catest::slurp(Authority::key_path(dir)).rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
}

TEST_CASE("a second load_or_create keeps the CA: same fingerprint, same key", "[authority]") {
  TempDir tmp{"ca"};
  const auto first = Authority::load_or_create(tmp.path);
  const auto again = Authority::load_or_create(tmp.path);
  CHECK_FALSE(again.created);
  CHECK(again.authority.certificate().sha256_hex() == first.authority.certificate().sha256_hex());
  CHECK(EVP_PKEY_eq(again.authority.key(), first.authority.key()) == 1);
  const Authority loaded = Authority::load(tmp.path);
  CHECK(loaded.certificate() == first.authority.certificate());
  CHECK(Authority::read_certificate(tmp.path) == first.authority.certificate());
}

TEST_CASE("two CAs never share a key or a name", "[authority]") {
  TempDir a{"ca"}, b{"ca"};
  const auto ca1 = Authority::load_or_create(a.path).authority;
  const auto ca2 = Authority::load_or_create(b.path).authority;
  CHECK(EVP_PKEY_eq(ca1.key(), ca2.key()) != 1);
  CHECK(ca1.certificate().common_name() != ca2.certificate().common_name());
  CHECK(ca1.certificate().serial_hex() != ca2.certificate().serial_hex());
}

TEST_CASE("the key is 0600 even under a permissive or a restrictive umask", "[authority]") {
  for (mode_t mask : {mode_t{0}, mode_t{0277}}) {
    TempDir tmp{"ca"};
    const mode_t old = ::umask(mask);
    const auto loaded = Authority::load_or_create(tmp.path / "s");
    ::umask(old);
    CHECK(loaded.created);
    CHECK(mode_of(tmp.path / "s") == 0700);
    CHECK(mode_of(Authority::key_path(tmp.path / "s")) == 0600);
    CHECK_NOTHROW(Authority::load(tmp.path / "s"));
  }
}

TEST_CASE("a key file readable by group or others is refused with a chmod hint", "[authority]") {
  TempDir tmp{"ca"};
  Authority::load_or_create(tmp.path);
  const auto key = Authority::key_path(tmp.path);
  for (mode_t mode : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0660}}) {
    ::chmod(key.c_str(), mode);
    const std::string msg = error_of([&] { Authority::load_or_create(tmp.path); });
    CAPTURE(mode, msg);
    CHECK(msg.find(key.string()) != std::string::npos);
    CHECK(msg.find("chmod 600") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  ::chmod(key.c_str(), 0400);  // read-only for the owner is fine
  CHECK_NOTHROW(Authority::load(tmp.path));
}

TEST_CASE("a broken PEM is refused naming the file", "[authority]") {
  TempDir tmp{"ca"};
  Authority::load_or_create(tmp.path);
  const auto cert = Authority::cert_path(tmp.path);
  const auto key = Authority::key_path(tmp.path);
  const std::string good_cert = catest::slurp(cert);
  const std::string good_key = catest::slurp(key);

  SECTION("certificate") {
    catest::spit(cert, good_cert.substr(0, good_cert.size() / 2));
    const std::string msg = error_of([&] { Authority::load(tmp.path); });
    CHECK(msg.rfind(cert.string() + ": ", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(error_of([&] { Authority::read_certificate(tmp.path); }) == msg);
  }
  SECTION("key") {
    catest::spit(key, "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
    const std::string msg = error_of([&] { Authority::load(tmp.path); });
    CHECK(msg.rfind(key.string() + ": ", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }
  SECTION("empty key") {
    catest::spit(key, "");
    CHECK(error_of([&] { Authority::load(tmp.path); }).rfind(key.string() + ": ", 0) == 0);
  }
}

TEST_CASE("a key that does not match the certificate is refused", "[authority]") {
  TempDir a{"ca"}, b{"ca"};
  Authority::load_or_create(a.path);
  Authority::load_or_create(b.path);
  const auto key_a = Authority::key_path(a.path);
  catest::spit(key_a, catest::slurp(Authority::key_path(b.path)));  // stays 0600
  const std::string msg = error_of([&] { Authority::load_or_create(a.path); });
  CHECK(msg.rfind(key_a.string() + ": ", 0) == 0);
  CHECK(msg.find("does not match") != std::string::npos);
  CHECK(msg.find(Authority::cert_path(a.path).string()) != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("a key without its certificate is never overwritten", "[authority]") {
  TempDir tmp{"ca"};
  Authority::load_or_create(tmp.path);
  const std::string key = catest::slurp(Authority::key_path(tmp.path));
  catest::fs::remove(Authority::cert_path(tmp.path));
  const std::string msg = error_of([&] { Authority::load_or_create(tmp.path); });
  CHECK(msg.rfind(Authority::key_path(tmp.path).string(), 0) == 0);
  CHECK(catest::slurp(Authority::key_path(tmp.path)) == key);
  CHECK_FALSE(catest::fs::exists(Authority::cert_path(tmp.path)));
}

TEST_CASE("a missing CA is an error for load, not a silent creation", "[authority]") {
  TempDir tmp{"ca"};
  CHECK(error_of([&] {
          Authority::load(tmp.path);
        }).rfind(Authority::cert_path(tmp.path).string(), 0) == 0);
  CHECK_FALSE(catest::fs::exists(Authority::key_path(tmp.path)));
}

TEST_CASE("concurrent load_or_create in one directory make one CA", "[authority]") {
  TempDir tmp{"ca"};
  std::vector<std::string> fingerprints(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < fingerprints.size(); ++i)
    threads.emplace_back([&, i] {
      fingerprints[i] = Authority::load_or_create(tmp.path).authority.certificate().sha256_hex();
    });
  for (auto& t : threads) t.join();
  for (const auto& f : fingerprints) CHECK(f == fingerprints[0]);
  CHECK(Authority::read_certificate(tmp.path).sha256_hex() == fingerprints[0]);
}

TEST_CASE("throwaway CAs are fresh, in memory and untrusted by name", "[authority]") {
  const Authority a = Authority::make_throwaway();
  const Authority b = Authority::make_throwaway();
  CHECK(a.certificate().is_ca());
  CHECK(a.certificate().common_name().rfind("tlsprobe untrusted CA ", 0) == 0);
  CHECK(a.certificate().sha256_hex() != b.certificate().sha256_hex());
  CHECK(EVP_PKEY_eq(a.key(), b.key()) != 1);
}

TEST_CASE("from_parts refuses a non-CA certificate and a foreign key", "[authority]") {
  using namespace testpki;
  const Issued root = make_root({.common_name = "Parts Root"});
  const Issued other = make_root({.common_name = "Other Root"});
  const Issued leaf = issue(root, {.common_name = "leaf", .dns_names = {"a.test"}});
  CHECK_NOTHROW(Authority::from_parts(root.cert, root.key));
  CHECK_FALSE(error_of([&] { Authority::from_parts(leaf.cert, leaf.key); }).empty());
  CHECK_FALSE(error_of([&] { Authority::from_parts(root.cert, other.key); }).empty());
}

TEST_CASE("default_state_dir follows XDG_DATA_HOME, then HOME", "[authority]") {
  EnvGuard xdg("XDG_DATA_HOME"), home("HOME");
  ::setenv("HOME", "/home/someone", 1);
  ::setenv("XDG_DATA_HOME", "/data/xdg", 1);
  CHECK(certs::default_state_dir() == catest::fs::path("/data/xdg/tlsprobe"));
  ::setenv("XDG_DATA_HOME", "relative/ignored", 1);
  CHECK(certs::default_state_dir() == catest::fs::path("/home/someone/.local/share/tlsprobe"));
  ::unsetenv("XDG_DATA_HOME");
  CHECK(certs::default_state_dir() == catest::fs::path("/home/someone/.local/share/tlsprobe"));
}

TEST_CASE("colon_fingerprint groups the SHA-256 in colon-separated bytes", "[authority]") {
  const Authority a = Authority::make_throwaway();
  const std::string fp = certs::colon_fingerprint(a.certificate());
  CHECK(fp.size() == 32 * 3 - 1);
  std::string stripped;
  for (char c : fp)
    if (c != ':') stripped += c;
  CHECK(stripped == a.certificate().sha256_hex());
}
