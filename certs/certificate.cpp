#include "certs/certificate.hpp"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace tlsprobe::certs {
namespace {

std::string hex_upper(const unsigned char* data, std::size_t len) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 2);
  for (std::size_t i = 0; i < len; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

// RFC 4514 text. XN_FLAG_RFC2253 minus ESC_MSB: non-ASCII stays UTF-8 instead of "\C3\A9"
// (readable in logs; display code escapes what is dangerous), control characters are still
// escaped by OpenSSL.
std::string name_to_string(const X509_NAME* name) {
  if (!name) return {};
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio) throw std::bad_alloc();
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len > 0 ? len : 0));
}

std::string asn1_string_utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int len = ASN1_STRING_to_UTF8(&out, s);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return result;
}

std::string common_name_of(const X509_NAME* name) {
  if (!name) return {};
  // The most specific CN is the last one in DER order (the one RFC 4514 prints first).
  int idx = -1, last = -1;
  while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0) last = idx;
  if (last < 0) return {};
  return asn1_string_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
}

TimePoint asn1_time_to_point(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return TimePoint{};
  }
  using namespace std::chrono;
  auto ymd = year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
             day{static_cast<unsigned>(tm.tm_mday)};
  return sys_days{ymd} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

std::string ip_to_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* d = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4 && inet_ntop(AF_INET, d, buf, sizeof buf)) return buf;
  if (len == 16 && inet_ntop(AF_INET6, d, buf, sizeof buf)) return buf;
  // Not an address (e.g. a name-constraints style mask): show the bytes.
  // Appended, not `"#" + std::string&&`: GCC 12's -Wrestrict misfires on that (GCC bug 105329).
  std::string text = "#";
  text += hex_upper(d, static_cast<std::size_t>(len > 0 ? len : 0));
  return text;
}

KeyInfo key_info_of(X509* x) {
  KeyInfo k;
  EVP_PKEY* pkey = X509_get0_pubkey(x);  // borrowed
  if (!pkey) {
    ERR_clear_error();
    k.type = "unknown";
    return k;
  }
  k.bits = EVP_PKEY_get_bits(pkey);
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      k.type = "RSA";
      break;
    case EVP_PKEY_EC: {
      k.type = "EC";
      char group[80] = {};
      std::size_t glen = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &glen) == 1)
        k.curve.assign(group, glen);
      break;
    }
    case EVP_PKEY_ED25519:
      k.type = "Ed25519";
      k.bits = 256;  // OpenSSL says 253; people and other tools call it a 256-bit key
      break;
    case EVP_PKEY_ED448:
      k.type = "Ed448";
      k.bits = 448;
      break;
    case EVP_PKEY_DSA:
      k.type = "DSA";
      break;
    default: {
      const char* name = EVP_PKEY_get0_type_name(pkey);
      k.type = name ? name : "unknown";
    }
  }
  ERR_clear_error();
  return k;
}

std::string signature_algorithm_of(const X509* x) {
  int nid = X509_get_signature_nid(x);
  if (nid != NID_undef) {
    if (const char* ln = OBJ_nid2ln(nid)) return ln;
  }
  // Unknown to OpenSSL: the dotted OID.
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, x);
  if (!alg) return "unknown";
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  char buf[128] = {};
  if (obj && OBJ_obj2txt(buf, sizeof buf, obj, 1) > 0) return buf;
  return "unknown";
}

}  // namespace

Certificate Certificate::from_x509(X509* x509) {
  if (!x509) throw std::invalid_argument("Certificate::from_x509: null X509");
  Certificate c;
  c.x509_ = std::shared_ptr<X509>(up_ref(x509));

  unsigned char* der = nullptr;
  int der_len = i2d_X509(x509, &der);
  if (der_len < 0) {
    std::string err = openssl_errors();
    throw std::invalid_argument("Certificate::from_x509: cannot encode: " + err);
  }
  c.der_.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);

  c.subject_ = name_to_string(X509_get_subject_name(x509));
  c.issuer_ = name_to_string(X509_get_issuer_name(x509));
  c.common_name_ = common_name_of(X509_get_subject_name(x509));

  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(x509)) {
    BignumPtr bn{ASN1_INTEGER_to_BN(serial, nullptr)};
    if (bn) {
      char* hex = BN_bn2hex(bn.get());
      if (hex) {
        c.serial_hex_ = hex;
        OPENSSL_free(hex);
      }
    }
  }

  c.not_before_ = asn1_time_to_point(X509_get0_notBefore(x509));
  c.not_after_ = asn1_time_to_point(X509_get0_notAfter(x509));

  GeneralNamesPtr sans{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, nullptr, nullptr))};
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type == GEN_DNS) {
        const ASN1_STRING* s = gn->d.dNSName;
        // Kept byte for byte (an embedded NUL stays in and never matches a host name).
        c.dns_names_.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
      } else if (gn->type == GEN_IPADD) {
        c.ip_names_.push_back(ip_to_text(gn->d.iPAddress));
      }
    }
  }

  c.key_ = key_info_of(x509);
  c.sig_alg_ = signature_algorithm_of(x509);

  AuthorityInfoAccessPtr aia{static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(x509, NID_info_access, nullptr, nullptr))};
  if (aia) {
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
      const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
      if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI) {
        const ASN1_STRING* s = ad->location->d.uniformResourceIdentifier;
        c.aia_issuer_url_.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<std::size_t>(ASN1_STRING_length(s)));
        break;
      }
    }
  }

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(x509, EVP_sha256(), md, &md_len) == 1) c.sha256_hex_ = hex_upper(md, md_len);

  // X509_get_extension_flags also caches the parsed extensions, so later concurrent
  // use of this X509 from several threads only reads.
  uint32_t flags = X509_get_extension_flags(x509);
  c.is_ca_ = (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
  c.self_signed_ = X509_self_signed(x509, 1) == 1;
  ERR_clear_error();
  return c;
}

std::optional<Certificate> Certificate::from_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* start = p;
  X509Ptr x{d2i_X509(nullptr, &p, static_cast<long>(der.size()))};
  // Trailing bytes mean the input was not exactly one certificate.
  if (!x || p != start + der.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return from_x509(x.get());
}

std::vector<std::string> Certificate::names() const {
  std::vector<std::string> out = dns_names_;
  out.insert(out.end(), ip_names_.begin(), ip_names_.end());
  return out;
}

std::string format_rfc3339(TimePoint t) {
  using namespace std::chrono;
  auto day_point = floor<days>(t);
  year_month_day ymd{day_point};
  hh_mm_ss<seconds> hms{t - day_point};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  auto digits = [&](std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    pos += n;
    return true;
  };
  auto lit = [&](auto pred) {
    if (pos >= s.size() || !pred(s[pos])) return false;
    ++pos;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!digits(4, y) || !lit([](char c) { return c == '-'; }) || !digits(2, mo) ||
      !lit([](char c) { return c == '-'; }) || !digits(2, d) ||
      !lit([](char c) { return c == 'T' || c == 't'; }) || !digits(2, h) ||
      !lit([](char c) { return c == ':'; }) || !digits(2, mi) ||
      !lit([](char c) { return c == ':'; }) || !digits(2, se))
    return std::nullopt;
  if (pos < s.size() && s[pos] == '.') {  // fractional seconds: at least one digit, dropped
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(2, oh) || !lit([](char c) { return c == ':'; }) || !digits(2, om))
      return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;  // RFC 3339 requires an offset
  }
  if (pos != s.size()) return std::nullopt;
  // 60 allows a leap second (it lands on the next minute's first second).
  if (h > 23 || mi > 59 || se > 60) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} - minutes{offset_minutes};
}

namespace {

// Code points that must not reach a terminal raw: bidi controls (Trojan Source), invisible
// separators and zero-width characters that make two different names look equal.
bool dangerous_code_point(char32_t cp) {
  if (cp < 0x20 || cp == 0x7f) return true;
  if (cp >= 0x80 && cp <= 0x9f) return true;                      // C1 controls
  if (cp == 0x061c || cp == 0x200e || cp == 0x200f) return true;  // ALM, LRM, RLM
  if (cp >= 0x202a && cp <= 0x202e) return true;                  // LRE, RLE, PDF, LRO, RLO
  if (cp >= 0x2066 && cp <= 0x2069) return true;                  // LRI, RLI, FSI, PDI
  if (cp >= 0x200b && cp <= 0x200d) return true;                  // zero-width space/joiners
  if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff) return true;  // line/para sep, BOM
  return false;
}

}  // namespace

std::string escape_for_display(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[16];
  auto escape_byte = [&](unsigned char b) {
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    out += buf;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      if (dangerous_code_point(b0))
        escape_byte(b0);
      else
        out += static_cast<char>(b0);
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence strictly (no overlongs, no surrogates, <= U+10FFFF).
    std::size_t len = 0;
    char32_t cp = 0, min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool valid = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (valid && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) valid = false;
    if (!valid) {
      escape_byte(b0);  // one bad byte at a time; resynchronise on the next
      ++i;
      continue;
    }
    if (dangerous_code_point(cp)) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace tlsprobe::certs
