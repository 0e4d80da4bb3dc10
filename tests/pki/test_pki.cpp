#include "pki/test_pki.hpp"

#include "certs/name_match.hpp"
#include "certs/pem.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace tlsprobe::testpki {
namespace {

using certs::Certificate;
using certs::EvpPkeyPtr;
using certs::X509Ptr;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("test_pki: " + what + ": " + certs::openssl_errors());
}

EvpPkeyPtr generate(KeyKind kind) {
  EvpPkeyPtr key;
  switch (kind) {
    case KeyKind::ec_p256:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case KeyKind::ec_p384:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
      break;
    case KeyKind::ec_p224:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-224"));
      break;
    case KeyKind::rsa_1024:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
      break;
    case KeyKind::rsa_2048:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
      break;
    case KeyKind::ed25519:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (!key) fail("key generation");
  return key;
}

// RSA key generation takes tens to hundreds of milliseconds, so RSA keys come from a small
// round-robin pool per kind. EC and Ed25519 keys are cheap and always fresh, so two
// certificates with the same name never accidentally share a key (which would make one
// "issue" the other's children). Tests needing distinct RSA keys for same-named CAs should
// give them different names.
std::shared_ptr<EVP_PKEY> key_for(KeyKind kind) {
  if (kind != KeyKind::rsa_1024 && kind != KeyKind::rsa_2048)
    return std::shared_ptr<EVP_PKEY>(generate(kind));
  constexpr std::size_t pool_size = 6;
  struct Pool {
    std::mutex mu;
    std::vector<std::shared_ptr<EVP_PKEY>> keys;
    std::size_t next = 0;
  };
  static Pool pools[2];
  Pool& pool = pools[kind == KeyKind::rsa_1024 ? 0 : 1];
  {
    std::lock_guard lock(pool.mu);
    if (pool.keys.size() >= pool_size) return pool.keys[pool.next++ % pool_size];
  }
  // Generated outside the lock: other threads keep using the existing keys meanwhile.
  std::shared_ptr<EVP_PKEY> key(generate(kind));
  std::lock_guard lock(pool.mu);
  if (pool.keys.size() < pool_size) pool.keys.push_back(key);
  return key;
}

const EVP_MD* digest_for(SigHash hash, EVP_PKEY* signer) {
  int id = EVP_PKEY_get_base_id(signer);
  if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) return nullptr;  // pure EdDSA
  switch (hash) {
    case SigHash::sha256:
      return EVP_sha256();
    case SigHash::sha384:
      return EVP_sha384();
    case SigHash::sha1:
      return EVP_sha1();
    case SigHash::md5:
      if (id != EVP_PKEY_RSA) throw std::invalid_argument("test_pki: MD5 needs an RSA issuer key");
      return EVP_md5();
  }
  return EVP_sha256();
}

void set_serial(X509* x, long fixed) {
  certs::BignumPtr bn{BN_new()};
  if (!bn) fail("BN_new");
  if (fixed != 0) {
    if (!BN_set_word(bn.get(), static_cast<BN_ULONG>(fixed < 0 ? -fixed : fixed))) fail("serial");
  } else {
    // 64 random bits, positive and non-zero: every certificate gets its own serial.
    std::array<unsigned char, 8> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) fail("RAND_bytes");
    b[0] = static_cast<unsigned char>((b[0] & 0x7f) | 0x01);
    if (!BN_bin2bn(b.data(), static_cast<int>(b.size()), bn.get())) fail("serial");
  }
  certs::Asn1IntegerPtr ai{BN_to_ASN1_INTEGER(bn.get(), nullptr)};
  if (!ai || X509_set_serialNumber(x, ai.get()) != 1) fail("set serial");
}

void set_time(ASN1_TIME* field, TimePoint t) {
  if (!ASN1_TIME_set(field, static_cast<time_t>(t.time_since_epoch().count()))) fail("set time");
}

certs::X509NamePtr make_name(const CertSpec& spec) {
  certs::X509NamePtr name{X509_NAME_new()};
  if (!name) fail("X509_NAME_new");
  auto add = [&](const char* field, const std::string& value) {
    if (value.empty()) return;
    if (X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1)
      fail(std::string("name entry ") + field);
  };
  add("O", spec.organization);
  add("CN", spec.common_name);
  return name;
}

void add_conf_ext(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (!ext) fail("extension " + value);
  int ok = X509_add_ext(x, ext, -1);  // copies the extension
  X509_EXTENSION_free(ext);
  if (ok != 1) fail("add extension " + value);
}

void add_san(X509* x, const CertSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_names.empty()) return;
  certs::GeneralNamesPtr names{GENERAL_NAMES_new()};
  if (!names) fail("GENERAL_NAMES_new");
  // Built by hand, not from config text, so names with commas or control characters
  // (hostile-input tests) go in byte for byte.
  for (const auto& dns : spec.dns_names) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    if (!gn || !s || ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(s);
      fail("dNSName");
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);  // gn owns s
    if (!sk_GENERAL_NAME_push(names.get(), gn)) {
      GENERAL_NAME_free(gn);
      fail("push dNSName");
    }
  }
  for (const auto& ip : spec.ip_names) {
    std::string bare = ip;
    if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']')
      bare = bare.substr(1, bare.size() - 2);
    ASN1_OCTET_STRING* addr = a2i_IPADDRESS(bare.c_str());
    GENERAL_NAME* gn = addr ? GENERAL_NAME_new() : nullptr;
    if (!gn) {
      ASN1_OCTET_STRING_free(addr);
      fail("iPAddress " + ip);
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, addr);  // gn owns addr
    if (!sk_GENERAL_NAME_push(names.get(), gn)) {
      GENERAL_NAME_free(gn);
      fail("push iPAddress");
    }
  }
  if (X509_add1_ext_i2d(x, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    fail("subjectAltName");
}

// Builds and signs one certificate. `issuer_cert` null = self-signed with `subject_key`.
Issued build(CertSpec spec, const Issued* issuer, bool leaf_profile) {
  std::shared_ptr<EVP_PKEY> key = spec.subject_key ? spec.subject_key : key_for(spec.key);
  X509Ptr x{X509_new()};
  if (!x) fail("X509_new");
  if (X509_set_version(x.get(), X509_VERSION_3) != 1) fail("version");
  set_serial(x.get(), spec.serial);
  certs::X509NamePtr subject = make_name(spec);
  if (X509_set_subject_name(x.get(), subject.get()) != 1) fail("subject");
  X509* issuer_x509 = issuer ? issuer->cert.x509() : x.get();
  if (X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer_x509) : subject.get()) !=
      1)
    fail("issuer");
  set_time(X509_getm_notBefore(x.get()), spec.not_before);
  set_time(X509_getm_notAfter(x.get()), spec.not_after);
  if (X509_set_pubkey(x.get(), key.get()) != 1) fail("pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_x509, x.get(), nullptr, nullptr, 0);
  if (spec.is_ca) {
    add_conf_ext(x.get(), &ctx, NID_basic_constraints,
                 spec.basic_constraints.empty() ? "critical,CA:TRUE" : spec.basic_constraints);
    add_conf_ext(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    if (!spec.name_constraints.empty())
      add_conf_ext(x.get(), &ctx, NID_name_constraints, spec.name_constraints);
  } else {
    add_conf_ext(x.get(), &ctx, NID_basic_constraints,
                 spec.basic_constraints.empty() ? "critical,CA:FALSE" : spec.basic_constraints);
    bool rsa = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA;
    add_conf_ext(x.get(), &ctx, NID_key_usage,
                 rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
    if (leaf_profile && !spec.ext_key_usage.empty())
      add_conf_ext(x.get(), &ctx, NID_ext_key_usage, spec.ext_key_usage);
  }
  add_conf_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
  // Self-signed: the AKI names our own SKI (set just above); issued: the issuer's SKI.
  add_conf_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  add_san(x.get(), spec);
  std::string aia;
  if (!spec.aia_issuer_url.empty()) aia = "caIssuers;URI:" + spec.aia_issuer_url;
  if (!spec.ocsp_url.empty()) aia += (aia.empty() ? "" : ",") + ("OCSP;URI:" + spec.ocsp_url);
  if (!aia.empty()) add_conf_ext(x.get(), &ctx, NID_info_access, aia);

  for (const auto& [name, value] : spec.extensions) {
    X509_EXTENSION* ext = X509V3_EXT_nconf(nullptr, &ctx, name.c_str(), value.c_str());
    if (!ext) fail("extension " + name + " = " + value);
    const int ok = X509_add_ext(x.get(), ext, -1);  // copies; duplicates are allowed on purpose
    X509_EXTENSION_free(ext);
    if (ok != 1) fail("add extension " + name);
  }

  EVP_PKEY* signer = issuer ? issuer->key.get() : key.get();
  if (X509_sign(x.get(), signer, digest_for(spec.hash, signer)) <= 0) fail("X509_sign");
  ERR_clear_error();
  return Issued{Certificate::from_x509(x.get()), key};
}

}  // namespace

TimePoint fixed_now() {
  using namespace std::chrono;
  return sys_days{year{2026} / June / 1};
}

TimePoint now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string Issued::cert_pem() const { return certs::write_pem(cert); }
std::string Issued::key_pem() const { return certs::write_private_key_pem(key.get()); }

Issued make_root(CertSpec spec) {
  spec.is_ca = true;
  return build(std::move(spec), nullptr, false);
}

Issued issue(const Issued& issuer, CertSpec spec) {
  bool leaf = !spec.is_ca;
  return build(std::move(spec), &issuer, leaf);
}

Issued make_self_signed(CertSpec spec) {
  spec.is_ca = false;
  return build(std::move(spec), nullptr, true);
}

Hierarchy make_hierarchy(std::vector<std::string> names, TimePoint now) {
  CertSpec root;
  root.common_name = "tlsprobe Test Root CA";
  root.not_before = now - std::chrono::days(3650);
  root.not_after = now + std::chrono::days(3650);
  CertSpec inter;
  inter.common_name = "tlsprobe Test Intermediate CA";
  inter.is_ca = true;
  inter.not_before = now - std::chrono::days(365);
  inter.not_after = now + std::chrono::days(1825);
  CertSpec leaf;
  leaf.common_name = names.empty() ? std::string() : names.front();
  for (auto& n : names) {
    if (certs::is_ip_literal(n))
      leaf.ip_names.push_back(n);
    else
      leaf.dns_names.push_back(n);
  }
  leaf.not_before = now - std::chrono::days(30);
  leaf.not_after = now + std::chrono::days(90);
  // Public CAs always publish the issuer's certificate (AIA caIssuers): so does the test CA,
  // which is what tells a missing intermediate apart from an internal root.
  inter.aia_issuer_url = "http://pki.tlsprobe.test/root.crt";
  leaf.aia_issuer_url = "http://pki.tlsprobe.test/intermediate.crt";
  Issued r = make_root(std::move(root));
  Issued i = issue(r, std::move(inter));
  Issued l = issue(i, std::move(leaf));
  return Hierarchy{std::move(r), std::move(i), std::move(l)};
}

const Hierarchy& good_hierarchy() {
  static const Hierarchy h = make_hierarchy({"good.test"});
  return h;
}

TempPemFile::TempPemFile(const std::string& pem) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tlsprobe-test-XXXXXX.pem").string();
  int fd = mkstemps(tmpl.data(), 4);
  if (fd < 0) throw std::runtime_error("TempPemFile: mkstemps failed");
  path_ = tmpl;
  std::size_t off = 0;
  while (off < pem.size()) {
    ssize_t n = ::write(fd, pem.data() + off, pem.size() - off);
    if (n <= 0) {
      ::close(fd);
      ::unlink(path_.c_str());
      throw std::runtime_error("TempPemFile: write failed");
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

TempPemFile::~TempPemFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace tlsprobe::testpki
