#include "certs/authority.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace tlsprobe::certs {
namespace {

namespace fs = std::filesystem;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<&X509_EXTENSION_free>>;

[[noreturn]] void fail(const std::string& message) { throw AuthorityError(message); }

std::string errno_text() { return std::strerror(errno); }

// A file descriptor that is closed exactly once.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() can report a deferred write error (NFS): the caller checks it for files it wrote.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The CA state is ours alone (issue 12 item 2): a file or directory of another user (who
// could read or swap the key), or one that others may write, is refused, never repaired.
void check_owner(const struct stat& st, const fs::path& path) {
  const uid_t me = ::geteuid();
  if (st.st_uid != me)
    fail(path.string() + ": owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " +
         std::to_string(me) +
         "): the tlsprobe CA must be yours alone; use a --state-dir of your own");
}

// open() failed with ELOOP (O_NOFOLLOW met a symbolic link) or similar: one line saying so.
[[noreturn]] void fail_open(const fs::path& path, const char* what) {
  const int err = errno;
  struct stat lst {};
  if (err == ELOOP || (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)))
    fail(path.string() +
         ": is a symbolic link: tlsprobe keeps its CA only in real files and "
         "directories it owns; replace the link with the " +
         what + " itself");
  errno = err;
  fail(path.string() + ": cannot open: " + errno_text());
}

// The state directory, opened without following a symbolic link and checked on the
// descriptor (no window between check and use: every file below is opened relative to it).
// Refused: not a directory, a symbolic link, another user's, writable by group or others.
class StateDir {
 public:
  explicit StateDir(const fs::path& dir)
      : path_(dir), fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) {
    if (fd_.get() < 0) {
      if (errno == ENOTDIR) {
        struct stat lst {};
        if (::lstat(dir.c_str(), &lst) == 0 && !S_ISLNK(lst.st_mode))
          fail(dir.string() + ": exists and is not a directory");
        errno = ELOOP;  // a symbolic link to something that is not a directory
      }
      fail_open(dir, "directory");
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) fail(dir.string() + ": cannot stat: " + errno_text());
    check_owner(st, dir);
    if ((st.st_mode & 022) != 0)
      fail(dir.string() + ": the CA state directory is writable by group or others (mode " +
           mode_text(st.st_mode) + "): run `chmod 700 " + dir.string() + "`");
  }
  int fd() const { return fd_.get(); }
  fs::path file(const char* name) const { return path_ / name; }
  // Exists as a directory entry, whatever it is (a dangling symbolic link too).
  bool has(const char* name) const {
    struct stat st {};
    return ::fstatat(fd_.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

 private:
  fs::path path_;
  Fd fd_;
};

enum class FileKind { certificate, private_key };

// Reads a whole file of the state directory: O_NOFOLLOW (a symbolic link is refused), then
// every check on the opened descriptor, so the file checked is the file read. Refused: not
// a regular file, another user's, a certificate others may write, a key others may access.
std::string read_file(const StateDir& dir, const char* name, FileKind kind) {
  const fs::path path = dir.file(name);
  // O_NONBLOCK: a FIFO planted here must not hang the open; regular files ignore it.
  Fd fd{::openat(dir.fd(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)};
  if (fd.get() < 0) fail_open(path, "file");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path.string() + ": cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) fail(path.string() + ": not a regular file");
  check_owner(st, path);
  if (kind == FileKind::private_key && (st.st_mode & 077) != 0)
    fail(path.string() + ": private key is accessible by group or others (mode " +
         mode_text(st.st_mode) + "): run `chmod 600 " + path.string() + "`");
  if (kind == FileKind::certificate && (st.st_mode & 022) != 0)
    fail(path.string() + ": CA certificate is writable by group or others (mode " +
         mode_text(st.st_mode) + "): run `chmod 644 " + path.string() + "`");
  std::string out;
  std::array<char, 8192> buf{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path.string() + ": cannot read: " + errno_text());
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

// Creates `name` in the state directory (it must not exist) with exactly `mode`, writes
// `content` and syncs it. O_EXCL + O_NOFOLLOW + the mode given to open() mean the key is
// never readable by others, even briefly; fchmod() of the descriptor we created restores bits
// a restrictive umask removed (the owner must be able to read it back).
void write_new_file(const StateDir& dir, const char* name, const std::string& content,
                    mode_t mode) {
  const fs::path path = dir.file(name);
  Fd fd{::openat(dir.fd(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)};
  if (fd.get() < 0) fail(path.string() + ": cannot create: " + errno_text());
  if (::fchmod(fd.get(), mode) != 0) fail(path.string() + ": cannot chmod: " + errno_text());
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path.string() + ": cannot write: " + errno_text());
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail(path.string() + ": cannot sync: " + errno_text());
  if (fd.close() != 0) fail(path.string() + ": cannot close: " + errno_text());
}

// mkdir -p with mode 0700 for every directory it creates (the XDG base directory spec asks for
// 0700; the state directory holds the CA key). Existing directories are never changed (the
// state directory itself is then checked by StateDir). A directory we just made is opened
// without following links and fchmod'ed through that descriptor: exactly 0700 whatever the
// umask (0277 would otherwise leave us a directory we cannot write), and never someone
// else's directory swapped in between.
void make_private_dirs(const fs::path& dir) {
  struct stat lst {};
  if (::lstat(dir.c_str(), &lst) == 0) return;  // exists (StateDir judges the last one)
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) make_private_dirs(parent);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return;  // made meanwhile by someone else: not ours to chmod
    fail(dir.string() + ": cannot create directory: " + errno_text());
  }
  Fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (fd.get() < 0) fail_open(dir, "directory");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(dir.string() + ": cannot stat: " + errno_text());
  check_owner(st, dir);
  if (::fchmod(fd.get(), 0700) != 0) fail(dir.string() + ": cannot chmod: " + errno_text());
}

EvpPkeyPtr generate_p256_key() {
  EvpPkeyPtr key{EVP_EC_gen("P-256")};
  if (!key) fail("cannot generate an ECDSA P-256 key: " + openssl_errors());
  return key;
}

// A positive random 127-bit serial (RFC 5280 4.1.2.2: positive, at most 20 octets; CA/B Forum:
// at least 64 bits of randomness).
void set_random_serial(X509* x509) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    fail("no random bytes: " + openssl_errors());
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, full length
  BignumPtr bn{BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr)};
  if (!bn) fail("serial: " + openssl_errors());
  Asn1IntegerPtr serial{BN_to_ASN1_INTEGER(bn.get(), nullptr)};
  if (!serial || X509_set_serialNumber(x509, serial.get()) != 1)
    fail("serial: " + openssl_errors());
}

std::string short_random_id() {
  std::array<unsigned char, 4> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    fail("no random bytes: " + openssl_errors());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext{X509V3_EXT_conf_nid(nullptr, ctx, nid, value)};
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    fail(std::string("CA extension ") + OBJ_nid2sn(nid) + ": " + openssl_errors());
}

// The CA profile: CN "tlsprobe CA <id>" (the id tells two installations apart in a trust
// store), O "tlsprobe", CA:TRUE pathlen:0 and keyCertSign+cRLSign, both critical (it only ever
// signs leaves), SKI, back-dated a day, about ten years, ECDSA-SHA256.
X509Ptr make_ca_certificate(EVP_PKEY* key, const std::string& common_name) {
  X509Ptr cert{X509_new()};
  if (!cert) fail("X509_new: " + openssl_errors());
  X509_set_version(cert.get(), X509_VERSION_3);
  set_random_serial(cert.get());
  X509_NAME* name = X509_get_subject_name(cert.get());  // get0-style: owned by cert
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  const auto* org = reinterpret_cast<const unsigned char*>("tlsprobe");
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, org, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1)
    fail("CA name: " + openssl_errors());
  const auto now = std::chrono::system_clock::now();
  const auto nb = std::chrono::system_clock::to_time_t(now - kCaBackdate);
  const auto na = std::chrono::system_clock::to_time_t(now + kCaValidity);
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), nb) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), na))
    fail("CA validity: " + openssl_errors());
  if (X509_set_pubkey(cert.get(), key) != 1) fail("CA key: " + openssl_errors());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) fail("CA signature: " + openssl_errors());
  return cert;
}

std::string key_to_pem(EVP_PKEY* key) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot encode the CA key: " + openssl_errors());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string cert_to_pem(X509* cert) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    fail("cannot encode the CA certificate: " + openssl_errors());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Certificate parse_cert_pem(const std::string& pem, const fs::path& path) {
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio) fail(path.string() + ": " + openssl_errors());
  X509Ptr x509{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  if (!x509) {
    openssl_errors();  // drained: the one-line message says what matters
    fail(path.string() + ": not a PEM certificate (broken or empty file)");
  }
  return Certificate::from_x509(x509.get());
}

EvpPkeyPtr parse_key_pem(const std::string& pem, const fs::path& path) {
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio) fail(path.string() + ": " + openssl_errors());
  // An empty passphrase callback result: an encrypted key fails instead of prompting on a tty.
  EvpPkeyPtr key{PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)};
  if (!key) {
    openssl_errors();
    fail(path.string() + ": not a PEM private key (broken, encrypted or empty file)");
  }
  return key;
}

void check_pair(const Certificate& cert, EVP_PKEY* key, const std::string& cert_name,
                const std::string& key_name) {
  if (!cert.is_ca()) fail(cert_name + ": not a CA certificate (basicConstraints CA:TRUE missing)");
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.x509()), key) != 1) {
    openssl_errors();
    fail(key_name + ": key does not match the certificate in " + cert_name);
  }
}

// An exclusive flock on the state directory for the life of the object: two `tlsprobe ca init`
// or proxies starting at once must not each create a CA and mix their files.
class DirLock {
 public:
  explicit DirLock(const StateDir& dir, const fs::path& path) : fd_(::dup(dir.fd())) {
    if (fd_.get() < 0) fail(path.string() + ": cannot lock: " + errno_text());
    while (::flock(fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) fail(path.string() + ": cannot lock: " + errno_text());
    }
  }

 private:
  Fd fd_;  // closing it releases the lock
};

Authority generate(const std::string& common_name) {
  EvpPkeyPtr key = generate_p256_key();
  X509Ptr cert = make_ca_certificate(key.get(), common_name);
  return Authority::from_parts(Certificate::from_x509(cert.get()),
                               std::shared_ptr<EVP_PKEY>(std::move(key)));
}

}  // namespace

fs::path default_state_dir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg && xdg[0] == '/') return fs::path(xdg) / "tlsprobe";
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') return fs::path(home) / ".local" / "share" / "tlsprobe";
  // No HOME (some service managers): the password database still knows it.
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir && pw->pw_dir[0] != '\0')
    return fs::path(pw->pw_dir) / ".local" / "share" / "tlsprobe";
  fail("no state directory: neither XDG_DATA_HOME nor HOME is set; pass --state-dir DIR");
}

std::string colon_fingerprint(const Certificate& cert) {
  const std::string& hex = cert.sha256_hex();
  std::string out;
  out.reserve(hex.size() * 3 / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    out.append(hex, i, 2);
  }
  return out;
}

Authority Authority::from_parts(const Certificate& cert, std::shared_ptr<EVP_PKEY> key) {
  if (!key) fail("CA key missing");
  check_pair(cert, key.get(), "CA certificate", "CA key");
  return Authority(std::make_shared<const Certificate>(cert), std::move(key));
}

Certificate Authority::read_certificate(const fs::path& dir) {
  const StateDir state(dir);
  return parse_cert_pem(read_file(state, kCaCertFile, FileKind::certificate), cert_path(dir));
}

namespace {

Authority load_from(const StateDir& state, const fs::path& dir) {
  const fs::path cpath = Authority::cert_path(dir);
  const fs::path kpath = Authority::key_path(dir);
  Certificate cert = parse_cert_pem(read_file(state, kCaCertFile, FileKind::certificate), cpath);
  EvpPkeyPtr key = parse_key_pem(read_file(state, kCaKeyFile, FileKind::private_key), kpath);
  check_pair(cert, key.get(), cpath.string(), kpath.string());
  return Authority::from_parts(cert, std::shared_ptr<EVP_PKEY>(std::move(key)));
}

}  // namespace

Authority Authority::load(const fs::path& dir) {
  const StateDir state(dir);
  return load_from(state, dir);
}

Authority::Loaded Authority::load_or_create(const fs::path& dir) {
  make_private_dirs(dir);
  const StateDir state(dir);
  DirLock lock(state, dir);
  if (state.has(kCaCertFile)) return Loaded{load_from(state, dir), false};
  const fs::path kpath = key_path(dir);
  if (state.has(kCaKeyFile))
    fail(kpath.string() + ": exists but " + kCaCertFile +
         " is missing: restore it, or delete the key to create a new CA");

  Authority authority = generate("tlsprobe CA " + short_random_id());
  // Both files are written under temporary names, then renamed key first, certificate last:
  // ca.pem existing means a complete pair. The lock keeps other tlsprobe processes out, so a
  // leftover temporary file can only come from a crash and is removed first (unlinkat removes
  // a link itself, never what it points to).
  const std::string ktmp = std::string(kCaKeyFile) + ".tmp";
  const std::string ctmp = std::string(kCaCertFile) + ".tmp";
  ::unlinkat(state.fd(), ktmp.c_str(), 0);
  ::unlinkat(state.fd(), ctmp.c_str(), 0);
  write_new_file(state, ktmp.c_str(), key_to_pem(authority.key()), 0600);
  write_new_file(state, ctmp.c_str(), cert_to_pem(authority.certificate().x509()), 0644);
  if (::renameat(state.fd(), ktmp.c_str(), state.fd(), kCaKeyFile) != 0)
    fail(kpath.string() + ": cannot rename: " + errno_text());
  if (::renameat(state.fd(), ctmp.c_str(), state.fd(), kCaCertFile) != 0)
    fail(cert_path(dir).string() + ": cannot rename: " + errno_text());
  // Make the renames durable too.
  ::fsync(state.fd());
  return Loaded{std::move(authority), true};
}

Authority Authority::make_throwaway() {
  return generate("tlsprobe untrusted CA " + short_random_id());
}

}  // namespace tlsprobe::certs
