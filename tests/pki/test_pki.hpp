// In-memory test PKI: roots, intermediates and leaves with any names, dates, keys and
// signature algorithms. Dates are explicit (tests never depend on today's date unless
// they ask for it with `now()`).
#pragma once

#include "certs/certificate.hpp"
#include "certs/ossl.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tlsprobe::testpki {

using certs::TimePoint;
using namespace std::chrono_literals;

enum class KeyKind { ec_p256, ec_p384, ec_p224, rsa_1024, rsa_2048, ed25519 };
enum class SigHash { sha256, sha384, sha1, md5 };

// A fixed evaluation instant used by most tests: 2026-06-01T00:00:00Z.
TimePoint fixed_now();
// fixed_now() as RFC 3339 text, for `tlsprobe ... --at` in the tests that run the binary.
inline constexpr const char* kFixedNowText = "2026-06-01T00:00:00Z";
// The real clock, for tests that hand certificates to real clients (curl, openssl).
TimePoint now();

// Every member has a default initializer so that designated initializers
// (`{.common_name = "R"}`) compile without -Wmissing-field-initializers under -Werror.
struct CertSpec {
  std::string common_name{};  // subject CN (empty: no CN)
  std::string organization = "tlsprobe test";
  std::vector<std::string> dns_names{};  // SAN dNSName
  std::vector<std::string> ip_names{};   // SAN iPAddress ("127.0.0.1", "::1")
  TimePoint not_before = fixed_now() - std::chrono::days(30);
  TimePoint not_after = fixed_now() + std::chrono::days(365);
  KeyKind key = KeyKind::ec_p256;
  SigHash hash = SigHash::sha256;  // hash used by the *issuer* to sign this cert
  bool is_ca = false;
  std::string aia_issuer_url{};  // AIA caIssuers URI, empty for none
  std::string ocsp_url{};        // AIA OCSP responder URI (same AIA extension), empty for none
  // extendedKeyUsage of an issued (non-CA) leaf, in openssl.cnf syntax; a web server's
  // leaf says serverAuth, a wrong one (clientAuth only) must fail server verification.
  std::string ext_key_usage = "serverAuth";
  // nameConstraints of a CA in openssl.cnf syntax ("critical,permitted;DNS:.corp.test"),
  // empty for none.
  std::string name_constraints{};
  long serial = 0;  // 0: a fresh random serial
  // basicConstraints in openssl.cnf syntax ("critical,CA:TRUE,pathlen:0"), replacing the
  // default of the certificate's kind; empty: the default.
  std::string basic_constraints{};
  // Further extensions, {name or dotted OID, value} in openssl.cnf syntax, e.g.
  // {"1.3.6.1.4.1.55738.666", "critical,DER:05:00"} (an unknown critical extension).
  std::vector<std::pair<std::string, std::string>> extensions{};
  // When set, the certificate gets this key instead of a new one of kind `key`: for
  // cross-signed certificates and re-issued roots (same subject and key, other issuer/dates).
  std::shared_ptr<EVP_PKEY> subject_key{};
};

// A certificate with its private key.
struct Issued {
  certs::Certificate cert;
  std::shared_ptr<EVP_PKEY> key;
  EVP_PKEY* pkey() const { return key.get(); }
  std::string cert_pem() const;
  std::string key_pem() const;
};

// Self-signed CA root (spec.is_ca forced true).
Issued make_root(CertSpec spec);
// Certificate signed by `issuer` (for an intermediate set spec.is_ca = true).
Issued issue(const Issued& issuer, CertSpec spec);
// Self-signed leaf (not a CA).
Issued make_self_signed(CertSpec spec);

// A typical healthy hierarchy: root -> intermediate -> leaf for `names`.
struct Hierarchy {
  Issued root, intermediate, leaf;
  certs::Chain fullchain() const { return {leaf.cert, intermediate.cert}; }
};
Hierarchy make_hierarchy(std::vector<std::string> names, TimePoint now = fixed_now());
// make_hierarchy({"good.test"}), made once per test process (keys are slow to generate under
// the sanitizers) and shared by every test that wants a healthy server.
const Hierarchy& good_hierarchy();

// Writes PEM to a temporary file that is removed when the object is destroyed.
class TempPemFile {
 public:
  explicit TempPemFile(const std::string& pem);
  ~TempPemFile();
  TempPemFile(const TempPemFile&) = delete;
  TempPemFile& operator=(const TempPemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tlsprobe::testpki
