#include "certs/certificate_ext.hpp"

#include "certs/ascii.hpp"
#include "certs/name_match.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>

namespace tlsprobe::certs {
namespace {

using NameConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, Deleter<&NAME_CONSTRAINTS_free>>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<&EXTENDED_KEY_USAGE_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<&BASIC_CONSTRAINTS_free>>;

std::string object_text(const ASN1_OBJECT* obj) {
  std::array<char, 128> buf{};
  int n = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  if (n <= 0) return "?";
  return std::string(buf.data(), static_cast<std::size_t>(std::min<int>(n, buf.size() - 1)));
}

// "serverAuth" for a known EKU, else the dotted OID.
std::string eku_name(const ASN1_OBJECT* obj) {
  int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    if (const char* sn = OBJ_nid2sn(nid)) return sn;
  }
  return object_text(obj);
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio || !name) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len > 0 ? len : 0));
}

std::string ia5(const ASN1_IA5STRING* s) {
  if (!s) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

// An iPAddress: 4 or 16 octets in a SAN, 8 or 32 (address and mask) in a subtree.
std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* d = ASN1_STRING_get0_data(ip);
  const int len = ASN1_STRING_length(ip);
  char buf[INET6_ADDRSTRLEN] = {};
  auto addr = [&](const unsigned char* p, int n) -> std::string {
    if (n == 4 && inet_ntop(AF_INET, p, buf, sizeof buf)) return buf;
    if (n == 16 && inet_ntop(AF_INET6, p, buf, sizeof buf)) return buf;
    return "?";
  };
  if (len == 4 || len == 16) return addr(d, len);
  if (len == 8 || len == 32) {
    int prefix = 0;
    for (int i = len / 2; i < len; ++i)
      for (int b = 7; b >= 0; --b)
        if (d[i] & (1 << b)) ++prefix;
    return addr(d, len / 2) + "/" + std::to_string(prefix);
  }
  // Built by appending: GCC 12's -Wrestrict misfires on `"(" + std::string&&` (GCC bug 105329)
  // and would be the only noise of a clean build.
  std::string text = "(";
  text += std::to_string(len);
  text += " octets)";
  return text;
}

TypedName typed(const GENERAL_NAME* gn) {
  switch (gn->type) {
    case GEN_DNS:
      return {"DNS", ia5(gn->d.dNSName)};
    case GEN_IPADD:
      return {"IP", ip_text(gn->d.iPAddress)};
    case GEN_EMAIL:
      return {"email", ia5(gn->d.rfc822Name)};
    case GEN_URI:
      return {"URI", ia5(gn->d.uniformResourceIdentifier)};
    case GEN_DIRNAME:
      return {"DirName", name_text(gn->d.directoryName)};
    default:
      return {"other", "type " + std::to_string(gn->type)};
  }
}

std::vector<TypedName> subtrees(const STACK_OF(GENERAL_SUBTREE) * st) {
  std::vector<TypedName> out;
  for (int i = 0; st && i < sk_GENERAL_SUBTREE_num(st); ++i)
    out.push_back(typed(sk_GENERAL_SUBTREE_value(st, i)->base));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// DNS subtree: "example.com" covers it and every name below it; ".example.com" only the
// names below (a common, non-RFC spelling OpenSSL accepts); "" covers everything.
bool dns_within(std::string name, std::string base) {
  name = ascii_lower(name);
  base = ascii_lower(base);
  if (base.empty()) return true;
  if (base.front() == '.') return ends_with(name, base);
  return name == base || ends_with(name, "." + base);
}

bool parse_ip(const std::string& text, std::array<unsigned char, 16>& out, int& len) {
  if (inet_pton(AF_INET, text.c_str(), out.data()) == 1) {
    len = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) {
    len = 16;
    return true;
  }
  return false;
}

std::optional<bool> ip_within(const std::string& name, const std::string& subtree) {
  const auto slash = subtree.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::array<unsigned char, 16> a{}, b{};
  int la = 0, lb = 0;
  if (!parse_ip(name, a, la) || !parse_ip(subtree.substr(0, slash), b, lb)) return std::nullopt;
  if (la != lb) return false;
  int prefix = std::atoi(subtree.c_str() + slash + 1);
  for (int bit = 0; bit < prefix && bit < la * 8; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
  }
  return true;
}

bool email_within(const std::string& name, const std::string& base) {
  const std::string n = ascii_lower(name), b = ascii_lower(base);
  if (b.find('@') != std::string::npos) return n == b;  // one mailbox
  const auto at = n.find('@');
  const std::string host = at == std::string::npos ? n : n.substr(at + 1);
  if (!b.empty() && b.front() == '.') return ends_with(host, b);  // any host in the domain
  return host == b;
}

}  // namespace

ExtensionFacts extension_facts(const Certificate& cert) {
  ExtensionFacts f;
  X509* x = cert.x509();
  // X509_get_extension_flags caches OpenSSL's decoding of every extension it knows (and
  // flags duplicates and undecodable ones with EXFLAG_INVALID).
  const uint32_t flags = X509_get_extension_flags(x);
  f.version = static_cast<int>(X509_get_version(x)) + 1;
  f.has_basic_constraints = (flags & EXFLAG_BCONS) != 0;
  f.ca = (flags & EXFLAG_CA) != 0;
  f.path_len = f.has_basic_constraints ? X509_get_pathlen(x) : -1;
  if (int i = X509_get_ext_by_NID(x, NID_basic_constraints, -1); i >= 0)
    f.basic_constraints_critical = X509_EXTENSION_get_critical(X509_get_ext(x, i)) == 1;
  f.has_key_usage = (flags & EXFLAG_KUSAGE) != 0;
  if (f.has_key_usage) {
    const uint32_t ku = X509_get_key_usage(x);
    static constexpr std::pair<uint32_t, const char*> bits[] = {
        {KU_DIGITAL_SIGNATURE, "digitalSignature"},
        {KU_NON_REPUDIATION, "nonRepudiation"},
        {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
        {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {KU_KEY_AGREEMENT, "keyAgreement"},
        {KU_KEY_CERT_SIGN, "keyCertSign"},
        {KU_CRL_SIGN, "cRLSign"},
        {KU_ENCIPHER_ONLY, "encipherOnly"},
        {KU_DECIPHER_ONLY, "decipherOnly"}};
    for (const auto& [bit, name] : bits)
      if (ku & bit) f.key_usage.emplace_back(name);
    f.key_cert_sign = (ku & KU_KEY_CERT_SIGN) != 0;
  }
  f.has_eku = (flags & EXFLAG_XKUSAGE) != 0;
  if (f.has_eku) {
    ExtKeyUsagePtr eku{
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr))};
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
      const ASN1_OBJECT* o = sk_ASN1_OBJECT_value(eku.get(), i);
      const int nid = OBJ_obj2nid(o);
      f.eku.push_back(eku_name(o));
      if (nid == NID_server_auth) f.eku_server_auth = true;
      if (nid == NID_anyExtendedKeyUsage) f.eku_any = f.eku_server_auth = true;
    }
  }
  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);  // borrowed
    if (X509_EXTENSION_get_critical(ext) != 1 || X509_supported_extension(ext) == 1) continue;
    const ASN1_OBJECT* o = X509_EXTENSION_get_object(ext);
    std::string text = object_text(o);
    const int nid = OBJ_obj2nid(o);
    if (nid != NID_undef)
      if (const char* ln = OBJ_nid2ln(nid)) text += std::string(" (") + ln + ")";
    f.unhandled_critical.push_back(std::move(text));
  }
  f.has_ski = X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) >= 0;
  f.has_aki = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) >= 0;
  f.self_issued = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;

  // Encoding problems OpenSSL detects while decoding, each said in words.
  if (flags & EXFLAG_INVALID) {
    bool explained = false;
    for (int i = 0; i < X509_get_ext_count(x); ++i) {
      const ASN1_OBJECT* o = X509_EXTENSION_get_object(X509_get_ext(x, i));
      if (X509_get_ext_by_OBJ(x, o, i) >= 0) {
        f.malformations.push_back("duplicate extension " + object_text(o));
        explained = true;
      }
    }
    for (int nid : {NID_subject_alt_name, NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                    NID_name_constraints, NID_authority_key_identifier, NID_subject_key_identifier,
                    NID_certificate_policies}) {
      int crit = 0;
      void* d = X509_get_ext_d2i(x, nid, &crit, nullptr);
      if (d) {
        X509V3_EXT_METHOD const* m = X509V3_EXT_get_nid(nid);
        if (m && m->it) ASN1_item_free(static_cast<ASN1_VALUE*>(d), ASN1_ITEM_ptr(m->it));
      } else if (crit >= 0) {
        f.malformations.push_back(std::string("undecodable ") + OBJ_nid2ln(nid) + " extension");
        explained = true;
      }
    }
    ERR_clear_error();
    if (!explained) f.malformations.push_back("an extension OpenSSL cannot decode");
  }
  if (X509_NAME_entry_count(X509_get_issuer_name(x)) == 0)
    f.malformations.push_back("empty issuer name");
  if (f.version < 3 && X509_get_ext_count(x) > 0)
    f.malformations.push_back("extensions in a version " + std::to_string(f.version) +
                              " certificate");

  const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
  f.serial_octets = ASN1_STRING_length(serial);
  f.serial_negative = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
  {
    BignumPtr bn{ASN1_INTEGER_to_BN(serial, nullptr)};
    f.serial_zero = bn && BN_is_zero(bn.get());
    // DER adds a leading 0x00 octet when the top bit is set: count it, as the BRs do.
    if (bn && !f.serial_negative && BN_num_bits(bn.get()) % 8 == 0 && !BN_is_zero(bn.get()))
      f.serial_octets = BN_num_bytes(bn.get()) + 1;
  }

  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);  // borrowed
    const ASN1_OBJECT* o = X509_EXTENSION_get_object(ext);
    const int nid = OBJ_obj2nid(o);
    const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
    f.critical_by_name[sn ? std::string(sn) : object_text(o)] =
        X509_EXTENSION_get_critical(ext) == 1;
  }
  if (const ASN1_OCTET_STRING* keyid = X509_get0_authority_key_id(x))
    f.aki_has_key_id = ASN1_STRING_length(keyid) > 0;
  if (X509_get_ext_by_NID(x, NID_info_access, -1) >= 0) {
    AuthorityInfoAccessPtr aia{static_cast<AUTHORITY_INFO_ACCESS*>(
        X509_get_ext_d2i(x, NID_info_access, nullptr, nullptr))};
    f.aia_malformed = !aia || sk_ACCESS_DESCRIPTION_num(aia.get()) == 0;
  }
  f.subject_empty = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
  {
    GeneralNamesPtr sans{
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))};
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type == GEN_DNS) f.dns_sans.push_back(ia5(gn->d.dNSName));
      if (gn->type == GEN_IPADD) f.ip_sans.push_back(ip_text(gn->d.iPAddress));
    }
  }

  int crit = 0;
  NameConstraintsPtr nc{
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, &crit, nullptr))};
  if (nc) {
    f.has_name_constraints = true;
    f.permitted = subtrees(nc->permittedSubtrees);
    f.excluded = subtrees(nc->excludedSubtrees);
  }
  ERR_clear_error();
  return f;
}

std::vector<TypedName> constrained_names(const Certificate& cert) {
  std::vector<TypedName> out;
  X509* x = cert.x509();
  bool has_dns = false;
  GeneralNamesPtr sans{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))};
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    out.push_back(typed(sk_GENERAL_NAME_value(sans.get(), i)));
    has_dns = has_dns || out.back().type == "DNS";
  }
  ERR_clear_error();
  out.push_back({"DirName", cert.subject()});
  // OpenSSL 3.0 checks a host-like CN against DNS constraints when there is no DNS SAN.
  const std::string& cn = cert.common_name();
  if (!has_dns && !cn.empty() && cn.find(' ') == std::string::npos &&
      cn.find('.') != std::string::npos && !is_ip_literal(cn))
    out.push_back({"DNS", cn});
  return out;
}

std::optional<bool> within_subtree(const TypedName& name, const TypedName& subtree) {
  if (name.type != subtree.type) return std::nullopt;
  if (name.type == "DNS") return dns_within(name.value, subtree.value);
  if (name.type == "IP") return ip_within(name.value, subtree.value);
  if (name.type == "email") return email_within(name.value, subtree.value);
  if (name.type == "DirName") {
    // RFC 4514 text is most-specific first, so an RDN prefix in DER order is a suffix here.
    const std::string n = ascii_lower(name.value), b = ascii_lower(subtree.value);
    return b.empty() || n == b || ends_with(n, "," + b);
  }
  return std::nullopt;
}

}  // namespace tlsprobe::certs
