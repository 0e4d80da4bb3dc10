// The shared leaf key is a legacy EC_KEY-backed EVP_PKEY, made with the deprecated EC_KEY API
// (allowed in this file only). Why: OpenSSL 3.0's X509_set_pubkey() puts a provider-native key
// into a certificate by encoding it with an OSSL_ENCODER and decoding it back (about 560 us,
// over half of a mint here), while a legacy key takes the direct path (about 10 us).
#define OPENSSL_SUPPRESS_DEPRECATED

#include "certs/leaf_minter.hpp"

#include "certs/ascii.hpp"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <set>
#include <vector>

namespace tlsprobe::certs {
namespace {

using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<&X509_EXTENSION_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<&GENERAL_NAME_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, Deleter<&ASN1_STRING_free>>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<&EXTENDED_KEY_USAGE_free>>;

// Raw iPAddress bytes (4 or 16) of a strict IPv4 dotted quad or IPv6 literal, else empty.
// inet_pton, not OpenSSL's a2i_IPADDRESS: the latter accepts "1.2.3.4junk".
std::string ip_bytes(std::string_view text) {
  if (text.empty() || text.size() > 64) return {};
  const std::string s(text);
  std::array<unsigned char, 16> buf{};
  if (::inet_pton(AF_INET, s.c_str(), buf.data()) == 1)
    return std::string(reinterpret_cast<const char*>(buf.data()), 4);
  if (::inet_pton(AF_INET6, s.c_str(), buf.data()) == 1)
    return std::string(reinterpret_cast<const char*>(buf.data()), 16);
  return {};
}

// A dNSName we are willing to put in a certificate: LDH labels (plus '_', which real
// hosts use), 1..63 characters each, at most 253 in all; `*` only as a whole left-most label
// and only when `allow_wildcard` (copied upstream SANs; a requested name never has one).
bool valid_dns_name(std::string_view name, bool allow_wildcard) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const std::size_t len = i - label_start;
      if (len == 0 || len > 63) return false;
      const std::string_view label = name.substr(label_start, len);
      if (label.front() == '-' || label.back() == '-') return false;
      if (label == "*") {
        if (!allow_wildcard || label_start != 0 || i == name.size()) return false;
      } else {
        for (char c : label) {
          const auto u = static_cast<unsigned char>(c);
          if (!(std::isalnum(u) || c == '-' || c == '_')) return false;
        }
      }
      label_start = i + 1;
    }
  }
  return true;
}

bool add_dns(GENERAL_NAMES* names, const std::string& dns) {
  Asn1StringPtr ia5{ASN1_IA5STRING_new()};
  GeneralNamePtr gn{GENERAL_NAME_new()};
  if (!ia5 || !gn || ASN1_STRING_set(ia5.get(), dns.data(), static_cast<int>(dns.size())) != 1)
    return false;
  GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5.release());  // gn owns the string now
  if (sk_GENERAL_NAME_push(names, gn.get()) == 0) return false;
  gn.release();  // the stack owns it now
  return true;
}

bool add_ip(GENERAL_NAMES* names, const std::string& bytes) {
  Asn1StringPtr oct{ASN1_OCTET_STRING_new()};
  GeneralNamePtr gn{GENERAL_NAME_new()};
  if (!oct || !gn ||
      ASN1_OCTET_STRING_set(oct.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size())) != 1)
    return false;
  GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, oct.release());  // gn owns the string now
  if (sk_GENERAL_NAME_push(names, gn.get()) == 0) return false;
  gn.release();  // the stack owns it now
  return true;
}

std::string ip_text(const std::string& bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int family = bytes.size() == 4 ? AF_INET : AF_INET6;
  if (!::inet_ntop(family, bytes.data(), buf, sizeof buf)) return {};
  return buf;
}

// The SAN list of a minted leaf, deduplicated, requested name first.
struct SanSet {
  std::vector<std::string> dns;  // normalized
  std::vector<std::string> ips;  // raw bytes
  std::set<std::string> seen;    // "d:" + dns or "i:" + bytes

  void add_dns_name(const std::string& n) {
    if (seen.insert("d:" + n).second) dns.push_back(n);
  }
  void add_ip_bytes(const std::string& b) {
    if (seen.insert("i:" + b).second) ips.push_back(b);
  }
};

// Copies the upstream leaf's dNSName and iPAddress SANs straight from its extension (no
// round trip through display text); other name types and malformed names are dropped.
void collect_upstream_sans(const Certificate& upstream, SanSet& out) {
  GeneralNamesPtr gens{static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(upstream.x509(), NID_subject_alt_name, nullptr, nullptr))};
  if (!gens) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(gens.get(), i);  // borrowed
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      std::string name =
          normalize_host(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                          static_cast<std::size_t>(ASN1_STRING_length(s))));
      if (valid_dns_name(name, true)) out.add_dns_name(name);
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      const int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16)  // 8 or 32 would be name-constraint forms, never in a leaf
        out.add_ip_bytes(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                     static_cast<std::size_t>(len)));
    }
  }
}

bool set_random_serial(X509* x509) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return false;
  // Positive and always 16 octets (RFC 5280 4.1.2.2; CA/B Forum: >= 64 random bits).
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  BignumPtr bn{BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr)};
  if (!bn) return false;
  Asn1IntegerPtr serial{BN_to_ASN1_INTEGER(bn.get(), nullptr)};
  return serial && X509_set_serialNumber(x509, serial.get()) == 1;
}

// ECDSA P-256, legacy-backed (see the top of this file). Null on failure.
EvpPkeyPtr make_leaf_key() {
  using EcKeyPtr = std::unique_ptr<EC_KEY, Deleter<&EC_KEY_free>>;
  EcKeyPtr ec{EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)};  // named-curve encoding
  EvpPkeyPtr key{EVP_PKEY_new()};
  if (!ec || !key || EC_KEY_generate_key(ec.get()) != 1 ||
      EVP_PKEY_assign_EC_KEY(key.get(), ec.get()) != 1)
    return nullptr;
  ec.release();  // EVP_PKEY_assign_EC_KEY took ownership
  return key;
}

MintResult failure(MintError error, std::string detail) {
  MintResult r;
  r.error = error;
  r.detail = std::move(detail);
  return r;
}

}  // namespace

// The extensions every leaf of this minter carries (all leaves share the key, so SKI and AKI
// are the same too): built once, copied into each leaf by X509_add_ext.
struct LeafMinter::Precomputed {
  std::vector<X509ExtensionPtr> extensions;
  X509NamePtr issuer;  // the CA's subject
  std::time_t ca_not_before = 0, ca_not_after = 0;
};

std::string normalize_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return ascii_lower(host);
}

LeafMinter::LeafMinter(Authority ca) : ca_(std::move(ca)) {
  EvpPkeyPtr key = make_leaf_key();
  if (!key) throw AuthorityError("cannot generate the leaf key: " + openssl_errors());
  leaf_key_ = std::shared_ptr<EVP_PKEY>(std::move(key));

  auto pre = std::make_unique<Precomputed>();
  X509* ca_cert = ca_.certificate().x509();
  pre->issuer.reset(X509_NAME_dup(X509_get_subject_name(ca_cert)));
  if (!pre->issuer) throw AuthorityError("CA subject: " + openssl_errors());
  pre->ca_not_before = std::chrono::system_clock::to_time_t(ca_.certificate().not_before());
  pre->ca_not_after = std::chrono::system_clock::to_time_t(ca_.certificate().not_after());

  // SKI "hash" needs a subject certificate holding the leaf key; AKI "keyid" reads the CA's
  // SKI (or hashes its key when it has none).
  X509Ptr templ{X509_new()};
  if (!templ || X509_set_pubkey(templ.get(), leaf_key_.get()) != 1)
    throw AuthorityError("leaf template: " + openssl_errors());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca_cert, templ.get(), nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  for (const auto& [nid, value] : exts) {
    X509ExtensionPtr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)};
    if (!ext)
      throw AuthorityError(std::string("leaf extension ") + OBJ_nid2sn(nid) + ": " +
                           openssl_errors());
    pre->extensions.push_back(std::move(ext));
  }
  pre_ = std::move(pre);
}

LeafMinter::~LeafMinter() = default;

MintResult LeafMinter::mint(const Certificate* upstream_leaf,
                            std::string_view requested_host) const {
  return mint(upstream_leaf, requested_host, std::chrono::system_clock::now());
}

MintResult LeafMinter::mint(const Certificate* upstream_leaf, std::string_view requested_host,
                            std::chrono::system_clock::time_point now) const {
  const std::string host = normalize_host(requested_host);
  SanSet sans;
  std::string cn;
  if (!host.empty()) {
    if (const std::string ip = ip_bytes(host); !ip.empty()) {
      sans.add_ip_bytes(ip);
      cn = ip_text(ip);  // canonical text ("::1" for "0:0::1")
    } else if (valid_dns_name(host, false)) {
      sans.add_dns_name(host);
      cn = host;
    } else {
      return failure(MintError::bad_host,
                     "not a DNS name or IP address: " + escape_for_display(requested_host));
    }
  }
  if (upstream_leaf) collect_upstream_sans(*upstream_leaf, sans);
  if (cn.empty()) {
    if (!sans.dns.empty())
      cn = sans.dns.front();
    else if (!sans.ips.empty())
      cn = ip_text(sans.ips.front());
  }
  if (sans.dns.empty() && sans.ips.empty())
    return failure(MintError::no_name, "no requested host and no upstream SAN");

  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  if (t >= pre_->ca_not_after)
    return failure(MintError::ca_expired,
                   "the CA expired at " + format_rfc3339(ca_.certificate().not_after()));
  const std::time_t not_before =
      std::max(std::chrono::system_clock::to_time_t(now - kLeafBackdate), pre_->ca_not_before);
  // "Never outliving the CA" (DESIGN.md): a leaf valid after its issuer is useless anyway.
  const std::time_t not_after =
      std::min(std::chrono::system_clock::to_time_t(now + kLeafValidity), pre_->ca_not_after);

  auto openssl_failure = [](const char* what) {
    return failure(MintError::openssl, std::string(what) + ": " + openssl_errors());
  };
  X509Ptr x509{X509_new()};
  if (!x509) return openssl_failure("X509_new");
  X509* x = x509.get();
  if (X509_set_version(x, X509_VERSION_3) != 1 || !set_random_serial(x))
    return openssl_failure("serial");

  X509NamePtr subject{X509_NAME_new()};
  if (!subject) return openssl_failure("subject");
  // Longer names are valid SANs but not valid CNs; the CN is decoration (clients match SANs).
  if (!cn.empty() && cn.size() <= kMaxCommonNameLength &&
      X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1)
    return openssl_failure("subject CN");
  if (X509_NAME_add_entry_by_txt(subject.get(), "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("tlsprobe"), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(x, subject.get()) != 1 ||
      X509_set_issuer_name(x, pre_->issuer.get()) != 1)
    return openssl_failure("names");
  if (!ASN1_TIME_set(X509_getm_notBefore(x), not_before) ||
      !ASN1_TIME_set(X509_getm_notAfter(x), not_after))
    return openssl_failure("validity");
  if (X509_set_pubkey(x, leaf_key_.get()) != 1) return openssl_failure("public key");
  for (const auto& ext : pre_->extensions)
    if (X509_add_ext(x, ext.get(), -1) != 1) return openssl_failure("extension");

  GeneralNamesPtr gens{sk_GENERAL_NAME_new_null()};
  if (!gens) return openssl_failure("SAN");
  for (const auto& d : sans.dns)
    if (!add_dns(gens.get(), d)) return openssl_failure("SAN dNSName");
  for (const auto& ip : sans.ips)
    if (!add_ip(gens.get(), ip)) return openssl_failure("SAN iPAddress");
  // RFC 5280 4.2.1.6: SAN is critical only when the subject is empty; ours has O.
  if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens.get(), 0, X509V3_ADD_DEFAULT) != 1)
    return openssl_failure("SAN");

  if (X509_sign(x, ca_.key(), EVP_sha256()) <= 0) return openssl_failure("signature");

  try {
    auto leaf = std::make_shared<MintedLeaf>(MintedLeaf{Certificate::from_x509(x), {}, leaf_key_});
    leaf->chain = {leaf->leaf, ca_.certificate()};
    MintResult ok;
    ok.leaf = std::move(leaf);
    return ok;
  } catch (const std::exception& e) {
    return failure(MintError::openssl, std::string("minted leaf: ") + e.what());
  }
}

bool use_minted_leaf(SSL* ssl, const MintedLeaf& leaf) {
  X509StackPtr extra{sk_X509_new_null()};
  if (!extra) return false;
  for (std::size_t i = 1; i < leaf.chain.size(); ++i) {
    X509Ptr c = up_ref(leaf.chain[i].x509());
    if (sk_X509_push(extra.get(), c.get()) == 0) return false;
    c.release();  // the stack owns this reference now
  }
  // override = 1: replace the SSL_CTX's certificate of the same key type. OpenSSL takes its
  // own references to the certificate, key and every chain element.
  return SSL_use_cert_and_key(ssl, leaf.leaf.x509(), leaf.key.get(), extra.get(), 1) == 1;
}

SslCtxPtr make_server_ctx(const MintedLeaf& leaf) {
  SslCtxPtr ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx) return nullptr;
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) return nullptr;
  X509StackPtr extra{sk_X509_new_null()};
  if (!extra) return nullptr;
  for (std::size_t i = 1; i < leaf.chain.size(); ++i) {
    X509Ptr c = up_ref(leaf.chain[i].x509());
    if (sk_X509_push(extra.get(), c.get()) == 0) return nullptr;
    c.release();  // the stack owns this reference now
  }
  if (SSL_CTX_use_cert_and_key(ctx.get(), leaf.leaf.x509(), leaf.key.get(), extra.get(), 1) != 1)
    return nullptr;
  return ctx;
}

}  // namespace tlsprobe::certs
