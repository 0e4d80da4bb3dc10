// cert.profile: CA/Browser Forum Baseline Requirements (and RFC 5280 profile) rules that
// browsers and OpenSSL tolerate, but that a CA must not break. Always a warning, never an
// error: the certificate works today; it tells a CA or a private-PKI operator what to fix in
// the issuing template. One finding per certificate and rule, the rule named in evidence.
#include "certs/ascii.hpp"
#include "certs/certificate_ext.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

#include <algorithm>
#include <array>

namespace tlsprobe::inspect::detail {

namespace {

// A small built-in set of public suffixes (ICANN and the best known private ones of the
// Public Suffix List): a wildcard directly on one of these covers other people's sites.
constexpr std::array<std::string_view, 60> kPublicSuffixes = {"com",
                                                              "net",
                                                              "org",
                                                              "edu",
                                                              "gov",
                                                              "mil",
                                                              "int",
                                                              "info",
                                                              "biz",
                                                              "io",
                                                              "co",
                                                              "app",
                                                              "dev",
                                                              "xyz",
                                                              "online",
                                                              "uk",
                                                              "co.uk",
                                                              "org.uk",
                                                              "ac.uk",
                                                              "gov.uk",
                                                              "me.uk",
                                                              "de",
                                                              "fr",
                                                              "nl",
                                                              "eu",
                                                              "us",
                                                              "ca",
                                                              "es",
                                                              "it",
                                                              "ch",
                                                              "se",
                                                              "no",
                                                              "ru",
                                                              "cn",
                                                              "com.cn",
                                                              "jp",
                                                              "co.jp",
                                                              "ne.jp",
                                                              "au",
                                                              "com.au",
                                                              "net.au",
                                                              "org.au",
                                                              "br",
                                                              "com.br",
                                                              "in",
                                                              "co.in",
                                                              "nz",
                                                              "co.nz",
                                                              "github.io",
                                                              "gitlab.io",
                                                              "s3.amazonaws.com",
                                                              "cloudfront.net",
                                                              "herokuapp.com",
                                                              "appspot.com",
                                                              "azurewebsites.net",
                                                              "blogspot.com",
                                                              "netlify.app",
                                                              "vercel.app",
                                                              "pages.dev",
                                                              "workers.dev"};

bool is_public_suffix(std::string_view name) {
  const std::string n = certs::ascii_lower(name);
  return std::find(kPublicSuffixes.begin(), kPublicSuffixes.end(), n) != kPublicSuffixes.end();
}

// A DNS SAN that is not a preferred-syntax host name (RFC 5280 4.2.1.6 / BR 7.1.2.7.12):
// empty labels, a leading dot, a wildcard anywhere but the whole first label.
bool dns_syntax_bad(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return true;
  if (name.find("..") != std::string_view::npos) return true;
  const auto star = name.find('*');
  if (star != std::string_view::npos && (star != 0 || name.size() < 2 || name[1] != '.'))
    return true;
  return name.find('*', star == std::string_view::npos ? 0 : star + 1) != std::string_view::npos;
}

class Lint {
 public:
  Lint(const HandshakeFacts& facts, Findings& out) : facts_(facts), out_(out) {}

  void run() {
    for (const auto& pc : facts_.path_certs) one(pc);
  }

 private:
  void warn(const PathCert& pc, std::string_view rule, std::string detail) {
    auto f = make_finding(codes::cert_profile, Severity::warning, facts_.obs->role,
                          subject_of(facts_.endpoint, pc.cert));
    add_cert_evidence(f, pc.cert);
    f.evidence["position"] = std::string(to_string(pc.position));
    f.evidence["depth"] = std::to_string(pc.depth);
    f.evidence["address"] = facts_.obs->address;
    f.evidence["rule"] = std::string(rule);
    // A root from the trust store is judged too (the issue of its owner, not the server's).
    if (pc.from_store) detail += "; this is a trust anchor from the store, not sent by the server";
    f.evidence["from_store"] = pc.from_store ? "true" : "false";
    f.evidence["detail"] = std::move(detail);
    explain(f);
    out_.push_back(std::move(f));
  }

  void one(const PathCert& pc) {
    const auto& c = pc.cert;
    const auto x = certs::extension_facts(c);
    const bool leaf = pc.position == Position::leaf;
    const bool ca = x.ca;
    auto critical = [&](const char* name) -> std::optional<bool> {
      auto it = x.critical_by_name.find(name);
      if (it == x.critical_by_name.end()) return std::nullopt;
      return it->second;
    };

    // --- every certificate ---
    if (x.serial_zero) warn(pc, "serial_zero", "the serial number is 0 (RFC 5280 4.1.2.2)");
    if (x.serial_negative)
      warn(pc, "serial_negative", "the serial number is negative (RFC 5280 4.1.2.2)");
    if (x.serial_octets > 20)
      warn(pc, "serial_too_long",
           "the serial number is " + std::to_string(x.serial_octets) +
               " octets long, more than 20 (RFC 5280 4.1.2.2)");
    if (!x.self_issued && !x.has_aki)
      warn(pc, "aki_missing",
           "no authorityKeyIdentifier (RFC 5280 4.2.1.1, BR 7.1.2): clients cannot pick the "
           "right issuer among several with the same name");
    if (x.has_aki && !x.aki_has_key_id && (!x.self_issued || pc.position == Position::root))
      warn(pc, "aki_without_key_id",
           "the authorityKeyIdentifier has no keyIdentifier field (BR 7.1.2.1.3, 7.1.2.11.1)");
    if (ca && !x.has_ski)
      warn(pc, "ski_missing", "a CA certificate without subjectKeyIdentifier (RFC 5280 4.2.1.2)");
    const auto& key = c.key();
    if (certs::ascii_lower(key.type).rfind("rsa", 0) == 0 && key.bits % 8 != 0)
      warn(pc, "rsa_modulus_not_multiple_of_8",
           "the RSA modulus is " + std::to_string(key.bits) +
               " bits, not a multiple of 8 (BR 6.1.5)");
    for (const auto& d : x.dns_sans) {
      if (d.find('_') != std::string::npos)
        warn(pc, "dns_underscore",
             "the DNS name \"" + d + "\" contains an underscore (RFC 5280 4.2.1.6, BR 7.1.4.2)");
      else if (dns_syntax_bad(d))
        warn(pc, "dns_syntax",
             "the DNS name \"" + d +
                 "\" is not a valid host name (RFC 5280 "
                 "4.2.1.6)");
      if (d.rfind("*.", 0) == 0 && is_public_suffix(d.substr(2)))
        warn(pc, "wildcard_public_suffix",
             "the wildcard \"" + d + "\" sits directly on the public suffix \"" + d.substr(2) +
                 "\" (BR 3.2.2.6: only for the owner of the whole namespace)");
    }
    if (x.aia_malformed)
      warn(pc, "aia_malformed",
           "the authorityInfoAccess extension is empty or cannot be decoded (BR 7.1.2.7.7)");
    if (auto sc = critical("subjectAltName")) {
      if (*sc && !x.subject_empty)
        warn(pc, "san_critical",
             "subjectAltName is critical although the subject is not empty (BR 7.1.2.7.12)");
      if (!*sc && x.subject_empty)
        warn(pc, "san_not_critical_empty_subject",
             "the subject is empty and subjectAltName is not critical (RFC 5280 4.2.1.6)");
    }
    if (ca && x.has_key_usage && !x.key_cert_sign)
      warn(pc, "ca_without_key_cert_sign",
           "basicConstraints CA:TRUE but keyUsage without keyCertSign (RFC 5280 4.2.1.9, BR "
           "7.1.2.7.8)");
    if (critical("policyConstraints") == false)
      warn(pc, "policy_constraints_not_critical",
           "policyConstraints is not critical (RFC 5280 4.2.1.11)");

    // --- the leaf ---
    if (leaf && !ca) {
      if (!x.has_eku)
        warn(pc, "leaf_without_eku", "no extendedKeyUsage (BR 7.1.2.7.10 requires serverAuth)");
      else if (x.eku_any)
        warn(pc, "leaf_any_eku", "the extendedKeyUsage has anyExtendedKeyUsage (BR 7.1.2.7.10)");
      if (critical("extendedKeyUsage") == true)
        warn(pc, "eku_critical", "extendedKeyUsage is critical (BR 7.1.2.7.10)");
      if (x.key_cert_sign)
        warn(pc, "leaf_key_cert_sign",
             "a certificate that is not a CA has keyUsage keyCertSign (RFC 5280 4.2.1.9)");
      if (x.has_name_constraints || critical("nameConstraints"))
        warn(pc, "leaf_name_constraints",
             "a certificate that is not a CA has nameConstraints (RFC 5280 4.2.1.10)");
      cn_in_sans(pc, x);
    }

    // --- CAs ---
    if (ca) {
      if (!x.basic_constraints_critical)
        warn(pc, "basic_constraints_not_critical",
             "a CA certificate whose basicConstraints are not critical (RFC 5280 4.2.1.9)");
      if (auto nc = critical("nameConstraints")) {
        if (!*nc)
          warn(pc, "name_constraints_not_critical",
               "nameConstraints is not critical (RFC 5280 4.2.1.10)");
        if (x.permitted.empty() && x.excluded.empty())
          warn(pc, "name_constraints_empty",
               "nameConstraints has neither permitted nor excluded subtrees (RFC 5280 "
               "4.2.1.10)");
        for (const auto& t : x.permitted)
          if (t.type == "DNS" && !t.value.empty() && t.value.front() == '.')
            warn(pc, "name_constraints_syntax",
                 "the DNS subtree \"" + t.value + "\" starts with a dot (RFC 5280 4.2.1.10)");
        for (const auto& t : x.excluded)
          if (t.type == "DNS" && !t.value.empty() && t.value.front() == '.')
            warn(pc, "name_constraints_syntax",
                 "the DNS subtree \"" + t.value + "\" starts with a dot (RFC 5280 4.2.1.10)");
      }
    }
    // --- roots (the anchor, sent or from the store) ---
    if (pc.position == Position::root) {
      if (!x.has_basic_constraints)
        warn(pc, "root_without_basic_constraints",
             "a root without basicConstraints (RFC 5280 4.2.1.9, BR 7.1.2.1.2)");
      if (x.has_eku) warn(pc, "root_has_eku", "a root with extendedKeyUsage (BR 7.1.2.1.2)");
    }
  }

  // BR 7.1.4.3: a CN, when present, is exactly one of the SANs (the same bytes: case,
  // IDN form and the canonical IP address text included).
  void cn_in_sans(const PathCert& pc, const certs::ExtensionFacts& x) {
    const std::string& cn = pc.cert.common_name();
    if (cn.empty()) return;
    const bool listed = std::find(x.dns_sans.begin(), x.dns_sans.end(), cn) != x.dns_sans.end() ||
                        std::find(x.ip_sans.begin(), x.ip_sans.end(), cn) != x.ip_sans.end();
    if (listed) return;
    // Appended piece by piece: GCC 12's -Wrestrict misfires on `" " + std::string&&`.
    std::string sans = join(x.dns_sans);
    if (!x.ip_sans.empty()) {
      if (!sans.empty()) sans += ' ';
      sans += join(x.ip_sans);
    }
    if (sans.empty()) sans = "none";
    warn(pc, "cn_not_in_san",
         "the common name \"" + cn + "\" is not exactly one of the subjectAltNames (" + sans +
             ") (BR 7.1.4.3)");
  }

  const HandshakeFacts& facts_;
  Findings& out_;
};

}  // namespace

void check_profile(const HandshakeFacts& facts, Findings& out) { Lint(facts, out).run(); }

}  // namespace tlsprobe::inspect::detail
