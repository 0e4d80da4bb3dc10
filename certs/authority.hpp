// Authority: the tlsprobe interception CA (a certificate and its private key).
//
// On disk, in a state directory (default_state_dir()):
//   ca.pem      the CA certificate (PEM)
//   ca-key.pem  its private key (PKCS#8 PEM), mode 0600, never group/other accessible
// The key is ECDSA P-256 and unique per installation (PEERS.md section 3, point 4: no shared or
// pre-generated CA keys). Loading refuses a key file that group or others can access, a broken
// PEM, a certificate that is not a CA and a key that does not match the certificate.
//
// The CA state is ours alone (issue 12 item 2): the state directory and both files must be
// owned by the effective user and must not be symbolic links; the directory and the
// certificate must not be writable by group or others. Everything is opened with O_NOFOLLOW
// (files relative to the opened directory) and checked with fstat on the descriptor, so the
// object checked is the object used. Nothing we did not create is ever chmod'ed: a 0777
// directory is refused with the command that fixes it, not repaired.
//
// Errors: startup only (DESIGN/STYLE "exceptions only at startup ... CA files"), as
// AuthorityError whose what() is one line naming the file and what to do.
#pragma once

#include "certs/certificate.hpp"
#include "certs/ossl.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace tlsprobe::certs {

struct AuthorityError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Policy of a freshly generated CA, as named constants (mitmproxy certs.py keeps them on top).
inline constexpr std::chrono::days kCaBackdate{1};     // clients with a slow clock still accept it
inline constexpr std::chrono::days kCaValidity{3653};  // about 10 years from now
inline constexpr const char* kCaCertFile = "ca.pem";
inline constexpr const char* kCaKeyFile = "ca-key.pem";

// $XDG_DATA_HOME/tlsprobe when XDG_DATA_HOME is an absolute path, else
// $HOME/.local/share/tlsprobe. Throws AuthorityError when neither is set (pass --state-dir).
std::filesystem::path default_state_dir();

// "AB:CD:…" — the SHA-256 of the DER with colons, as browsers and `openssl x509 -fingerprint`
// show it (people compare it by eye; logs use Certificate::sha256_hex() without colons).
std::string colon_fingerprint(const Certificate& cert);

class Authority {
 public:
  struct Loaded;  // {authority, created}

  // Loads the CA from `dir`, or creates the directory (0700, missing parents too) and a new CA
  // when `dir` holds no ca.pem. Serialised with other processes by an flock on the directory.
  // Throws AuthorityError: unusable files (see load), ca-key.pem without ca.pem (never
  // overwrites a key), or I/O failure.
  static Loaded load_or_create(const std::filesystem::path& dir);

  // Loads an existing CA. Throws AuthorityError when a file is missing, unreadable, a key file
  // is accessible by group/others ("run chmod 600 …"), a PEM is broken, the certificate is not
  // a CA or the key does not match it.
  static Authority load(const std::filesystem::path& dir);

  // Only the certificate from `dir` (no key access), under the same ownership rules: a user
  // exporting a CA to trust it must not be handed one another user planted. Throws
  // AuthorityError when missing, broken or not the user's own.
  static Certificate read_certificate(const std::filesystem::path& dir);

  static std::filesystem::path cert_path(const std::filesystem::path& dir) {
    return dir / kCaCertFile;
  }
  static std::filesystem::path key_path(const std::filesystem::path& dir) {
    return dir / kCaKeyFile;
  }

  // A new CA in memory with the same profile as a saved one, never written anywhere. It is in
  // no trust store, so leaves it mints fail verification: the `mirror` policy uses it to make
  // the client see a certificate error of its own.
  static Authority make_throwaway();

  // A CA from parts (tests, e.g. a CA that expires in two days). Throws AuthorityError when
  // `cert` is not a CA or `key` does not match it.
  static Authority from_parts(const Certificate& cert, std::shared_ptr<EVP_PKEY> key);

  const Certificate& certificate() const { return *cert_; }
  EVP_PKEY* key() const { return key_.get(); }  // borrowed; lives as long as any copy of this
  const std::shared_ptr<EVP_PKEY>& shared_key() const { return key_; }

 private:
  Authority(std::shared_ptr<const Certificate> cert, std::shared_ptr<EVP_PKEY> key)
      : cert_(std::move(cert)), key_(std::move(key)) {}
  // Shared: an Authority is cheap to copy; neither part ever changes.
  std::shared_ptr<const Certificate> cert_;
  std::shared_ptr<EVP_PKEY> key_;
};

struct Authority::Loaded {
  Authority authority;
  bool created = false;  // true: generated now; false: an existing CA was loaded
};

}  // namespace tlsprobe::certs
