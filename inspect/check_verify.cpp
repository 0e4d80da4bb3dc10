// The verification floor: every error OpenSSL reported for the handshake (the verify
// callback records them all, see certs/verify.hpp) ends up explained by an error finding.
//
// Runs after the other certificate checks of the handshake. Errors that tlsprobe's own
// analysis already explains (trust, dates, names, keys) are left to those findings; the
// others get a code of their own with the certificate and the values involved
// (chain.not_a_ca, chain.path_length, chain.name_constraints, cert.bad_purpose,
// cert.critical_extension, cert.malformed), and whatever has no code of its own becomes
// chain.verify_failed with OpenSSL's code and text. Own analysis only adds: it never
// removes an error OpenSSL found.
#include "certs/certificate_ext.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

#include <algorithm>

namespace tlsprobe::inspect::detail {

namespace {

// Which family of finding explains an OpenSSL verify code.
enum class Family {
  trust,             // explained by cert.self_signed / chain.untrusted_root / chain.incomplete
  date_expired,      // cert.expired
  date_not_yet,      // cert.not_yet_valid
  name,              // name.mismatch / sni.default_cert
  key,               // key.weak
  signature_hash,    // sig.weak
  not_a_ca,          // chain.not_a_ca
  path_length,       // chain.path_length
  name_constraints,  // chain.name_constraints
  purpose,           // cert.bad_purpose
  critical,          // cert.critical_extension
  malformed,         // cert.malformed
  other,             // chain.verify_failed
};

Family family_of(int code) {
  switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
      return Family::trust;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Family::date_expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Family::date_not_yet;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return Family::name;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
      return Family::key;
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return Family::signature_hash;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
      return Family::not_a_ca;
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return Family::path_length;
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
      return Family::name_constraints;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
      return Family::purpose;
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return Family::critical;
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_INVALID_NON_CA:
    case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
    case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
    case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
    case X509_V_ERR_ISSUER_NAME_EMPTY:
    case X509_V_ERR_SUBJECT_NAME_EMPTY:
    case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
    case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
    case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
    case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
    case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
    case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
    case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
    case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return Family::malformed;
    default:
      return Family::other;
  }
}

bool has_code(const Findings& out, Role role, std::initializer_list<std::string_view> cs) {
  return std::any_of(out.begin(), out.end(), [&](const Finding& f) {
    return f.role == role && f.severity == Severity::error &&
           std::find(cs.begin(), cs.end(), f.code) != cs.end();
  });
}

// A finding of `code` about `cert` already exists (one finding per fact).
bool has_code_for(const Findings& out, Role role, std::string_view code,
                  const certs::Certificate& cert) {
  return std::any_of(out.begin(), out.end(), [&](const Finding& f) {
    auto it = f.evidence.find("sha256");
    return f.role == role && f.code == code && it != f.evidence.end() &&
           it->second == cert.sha256_hex();
  });
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

std::string basic_constraints_text(const certs::ExtensionFacts& e) {
  if (!e.has_basic_constraints) return "absent";
  std::string s = e.ca ? "CA:TRUE" : "CA:FALSE";
  if (e.path_len >= 0) s += ", pathlen:" + std::to_string(e.path_len);
  if (e.basic_constraints_critical) s = "critical, " + s;
  return s;
}

std::string list_or(const std::vector<std::string>& v, std::string_view none) {
  return v.empty() ? std::string(none) : join(v);
}

std::string names_text(const std::vector<certs::TypedName>& v) {
  std::vector<std::string> parts;
  for (const auto& n : v) parts.push_back(n.type + ":" + n.value);
  return parts.empty() ? std::string("none") : join(parts);
}

class FloorBuilder {
 public:
  FloorBuilder(const HandshakeFacts& facts, Findings& out) : facts_(facts), out_(out) {}

  void run() {
    const auto& v = facts_.verify;
    if (facts_.obs->chain.empty()) return;
    // Own analysis first: a certificate OpenSSL marks invalid while decoding (a duplicate
    // or undecodable extension) is not even considered as an issuer, so OpenSSL's error is
    // then "no issuer": the encoding is the cause to name.
    for (const auto& pc : facts_.path_certs) malformed_by_decoding(pc);
    if (v.ok) return;
    for (const auto& e : v.errors) handle(e);
    // Whatever happened above, a failed verification is never silent.
    if (!has_any_error()) verify_failed(v.errors.front(), "");
  }

 private:
  Role role() const { return facts_.obs->role; }

  // The certificate OpenSSL reported at `depth`, on the path it built (the leaf when the
  // depth is unknown).
  const certs::Certificate& cert_at(int depth) const {
    const auto& built = facts_.verify.built_path;
    if (depth >= 0 && static_cast<std::size_t>(depth) < built.size()) return built[depth];
    if (!built.empty() && depth >= 0) return built.back();
    return facts_.obs->chain.front();
  }

  std::string position_of(int depth) const {
    const auto& built = facts_.verify.built_path;
    if (depth <= 0) return "leaf";
    const auto& c = cert_at(depth);
    if (static_cast<std::size_t>(depth) + 1 == built.size() && c.is_self_signed()) return "root";
    return "intermediate";
  }

  bool was_sent(const certs::Certificate& c) const {
    const auto& chain = facts_.obs->chain;
    return std::find(chain.begin(), chain.end(), c) != chain.end();
  }

  bool has_any_error() const {
    return std::any_of(out_.begin(), out_.end(), [&](const Finding& f) {
      return f.role == role() && f.severity == Severity::error;
    });
  }

  Finding start(std::string_view code, const certs::VerifyError& e,
                const certs::Certificate& c) const {
    auto f = make_finding(code, Severity::error, role(), subject_of(facts_.endpoint, c));
    add_cert_evidence(f, c);
    f.evidence["position"] = position_of(e.depth);
    f.evidence["depth"] = std::to_string(std::max(e.depth, 0));
    f.evidence["sent"] = bool_text(was_sent(c));
    f.evidence["address"] = facts_.obs->address;
    f.evidence["openssl_code"] = std::to_string(e.code);
    f.evidence["openssl_error"] = e.name;
    f.evidence["openssl_text"] = e.text;
    f.equivalents["openssl"] = std::to_string(e.code) + " " + e.name;
    f.equivalents["curl"] = "SSL certificate problem: " + e.text;
    return f;
  }

  void push(Finding f, std::string_view variant = {}) {
    explain(f, variant);
    out_.push_back(std::move(f));
  }

  void handle(const certs::VerifyError& e) {
    const auto& c = cert_at(e.depth);
    switch (family_of(e.code)) {
      case Family::trust:
        if (!has_code(out_, role(),
                      {codes::cert_self_signed, codes::chain_untrusted_root,
                       codes::chain_incomplete, codes::cert_malformed}))
          verify_failed(e, "no_path");
        return;
      case Family::name:
        if (!has_code(out_, role(), {codes::name_mismatch, codes::sni_default_cert}))
          verify_failed(e, "");
        return;
      case Family::date_expired:
        if (!has_code_for(out_, role(), codes::cert_expired, c)) date(e, c, true);
        return;
      case Family::date_not_yet:
        if (!has_code_for(out_, role(), codes::cert_not_yet_valid, c)) date(e, c, false);
        return;
      case Family::key:
        if (!has_code_for(out_, role(), codes::key_weak, c)) verify_failed(e, "");
        return;
      case Family::signature_hash:
        if (!has_code_for(out_, role(), codes::sig_weak, c)) verify_failed(e, "");
        return;
      case Family::not_a_ca:
        if (!has_code_for(out_, role(), codes::chain_not_a_ca, c)) not_a_ca(e, c);
        return;
      case Family::path_length:
        if (!has_code_for(out_, role(), codes::chain_path_length, c)) path_length(e, c);
        return;
      case Family::name_constraints:
        if (!has_code_for(out_, role(), codes::chain_name_constraints, c)) name_constraints(e, c);
        return;
      case Family::purpose:
        // A sent "CA" that may not issue fails the CA purpose check too: one finding per
        // fact, chain.not_a_ca says it.
        if (!has_code_for(out_, role(), codes::cert_bad_purpose, c) && !not_a_ca_at(e.depth))
          bad_purpose(e, c);
        return;
      case Family::critical:
        if (!has_code_for(out_, role(), codes::cert_critical_extension, c)) critical(e, c);
        return;
      case Family::malformed:
        if (!has_code_for(out_, role(), codes::cert_malformed, c)) malformed(e, c);
        return;
      case Family::other:
        verify_failed(e, "");
        return;
    }
  }

  bool not_a_ca_at(int depth) const {
    const auto& errs = facts_.verify.errors;
    return std::any_of(errs.begin(), errs.end(), [&](const certs::VerifyError& o) {
      return o.depth == depth && family_of(o.code) == Family::not_a_ca;
    });
  }

  void verify_failed(const certs::VerifyError& e, std::string_view variant) {
    // One finding per (code, depth).
    for (const auto& f : out_)
      if (f.role == role() && f.code == codes::chain_verify_failed &&
          f.evidence.at("openssl_code") == std::to_string(e.code) &&
          f.evidence.at("depth") == std::to_string(std::max(e.depth, 0)))
        return;
    const auto& c = cert_at(e.depth);
    push(start(codes::chain_verify_failed, e, c), variant);
  }

  void date(const certs::VerifyError& e, const certs::Certificate& c, bool expired) {
    auto f = start(expired ? codes::cert_expired : codes::cert_not_yet_valid, e, c);
    f.evidence["at"] = certs::format_rfc3339(facts_.verify_at);
    if (expired) {
      f.evidence["days_expired"] = std::to_string(days_between(c.not_after(), facts_.verify_at));
      const std::string variant = f.evidence["position"];
      push(std::move(f), variant);
    } else {
      f.evidence["days_until_valid"] =
          std::to_string(days_between(facts_.verify_at, c.not_before()));
      push(std::move(f), e.depth <= 0 ? "leaf" : "issuer");
    }
  }

  void not_a_ca(const certs::VerifyError& e, const certs::Certificate& c) {
    const auto x = certs::extension_facts(c);
    auto f = start(codes::chain_not_a_ca, e, c);
    std::string reason;
    if (x.version < 3 && !x.has_basic_constraints)
      reason = "v1";
    else if (!x.has_basic_constraints)
      reason = "no_basic_constraints";
    else if (!x.ca)
      reason = "ca_false";
    else if (x.has_key_usage && !x.key_cert_sign)
      reason = "no_key_cert_sign";
    else
      reason = "other";
    static constexpr std::pair<std::string_view, std::string_view> why[] = {
        {"v1", "it is a version 1 certificate, which cannot say it is a CA"},
        {"no_basic_constraints", "it has no basicConstraints extension (so no CA:TRUE)"},
        {"ca_false", "its basicConstraints say CA:FALSE"},
        {"no_key_cert_sign", "its keyUsage lacks keyCertSign"},
        {"other", "OpenSSL does not accept it as a CA"},
    };
    for (const auto& [k, text] : why)
      if (k == reason) f.evidence["why"] = std::string(text);
    f.evidence["reason"] = reason;
    f.evidence["version"] = std::to_string(x.version);
    f.evidence["basic_constraints"] = basic_constraints_text(x);
    f.evidence["key_usage"] = x.has_key_usage ? list_or(x.key_usage, "empty") : "absent";
    const auto& built = facts_.verify.built_path;
    const int child = std::max(e.depth, 1) - 1;
    f.evidence["issued"] = static_cast<std::size_t>(child) < built.size()
                               ? built[child].subject()
                               : facts_.obs->chain.front().subject();
    push(std::move(f));
  }

  void path_length(const certs::VerifyError& e, const certs::Certificate& c) {
    const auto x = certs::extension_facts(c);
    auto f = start(codes::chain_path_length, e, c);
    // RFC 5280: pathLenConstraint counts the non-self-issued intermediate CAs below.
    int below = 0;
    const auto& built = facts_.verify.built_path;
    for (int d = 1; d < e.depth && static_cast<std::size_t>(d) < built.size(); ++d)
      if (built[d].subject() != built[d].issuer()) ++below;
    f.evidence["path_len_constraint"] = std::to_string(x.path_len);
    f.evidence["intermediates_below"] = std::to_string(below);
    f.evidence["chain_length"] = std::to_string(built.size());
    push(std::move(f));
  }

  void name_constraints(const certs::VerifyError& e, const certs::Certificate& c) {
    auto f = start(codes::chain_name_constraints, e, c);
    const auto names = certs::constrained_names(c);
    // Find the CA above `c` whose subtree the name breaks, and the name.
    const auto& built = facts_.verify.built_path;
    std::string kind, name, subtree, ca;
    for (std::size_t d = static_cast<std::size_t>(std::max(e.depth, 0)) + 1;
         d < built.size() && kind.empty(); ++d) {
      const auto x = certs::extension_facts(built[d]);
      if (!x.has_name_constraints) continue;
      for (const auto& n : names) {
        for (const auto& ex : x.excluded)
          if (within_subtree(n, ex).value_or(false)) {
            kind = "excluded", name = n.type + ":" + n.value, subtree = ex.type + ":" + ex.value;
            break;
          }
        if (!kind.empty()) break;
        bool typed_permits = false, permitted = false, comparable = false;
        for (const auto& p : x.permitted) {
          auto w = within_subtree(n, p);
          if (p.type != n.type) continue;
          typed_permits = true;
          if (w) comparable = true;
          if (w.value_or(false)) permitted = true;
        }
        if (typed_permits && comparable && !permitted) {
          kind = "permitted", name = n.type + ":" + n.value;
          std::vector<std::string> same_type;
          for (const auto& p : x.permitted)
            if (p.type == n.type) same_type.push_back(p.type + ":" + p.value);
          subtree = join(same_type);
          break;
        }
      }
      if (!kind.empty() || d + 1 == built.size() || ca.empty()) ca = built[d].subject();
      if (!kind.empty()) {
        f.evidence["permitted"] = names_text(x.permitted);
        f.evidence["excluded"] = names_text(x.excluded);
      }
    }
    if (kind.empty()) {
      // OpenSSL's own reason (an unsupported name form, a minimum/maximum): name the CA's
      // subtrees and the certificate's names, and let OpenSSL's text say the rest.
      kind = e.code == X509_V_ERR_EXCLUDED_VIOLATION ? "excluded" : "unsupported";
      name = names_text(names);
      subtree = "see OpenSSL: " + e.text;
    }
    f.evidence["violation"] = kind;
    f.evidence["name"] = name;
    f.evidence["subtree"] = subtree;
    f.evidence["constraining_ca"] = ca;
    push(std::move(f), kind);
  }

  void bad_purpose(const certs::VerifyError& e, const certs::Certificate& c) {
    const auto x = certs::extension_facts(c);
    auto f = start(codes::cert_bad_purpose, e, c);
    f.evidence["eku"] = x.has_eku ? list_or(x.eku, "empty") : "absent";
    f.evidence["key_usage"] = x.has_key_usage ? list_or(x.key_usage, "empty") : "absent";
    std::string reason = "key_usage";
    if (x.has_eku && !x.eku_server_auth) reason = "eku";
    f.evidence["reason"] = reason;
    push(std::move(f), reason);
  }

  void critical(const certs::VerifyError& e, const certs::Certificate& c) {
    const auto x = certs::extension_facts(c);
    auto f = start(codes::cert_critical_extension, e, c);
    f.evidence["oid"] = list_or(x.unhandled_critical, "unknown");
    push(std::move(f));
  }

  void malformed_by_decoding(const PathCert& pc) {
    const auto x = certs::extension_facts(pc.cert);
    if (x.malformations.empty() || has_code_for(out_, role(), codes::cert_malformed, pc.cert))
      return;
    auto f = make_finding(codes::cert_malformed, Severity::error, role(),
                          subject_of(facts_.endpoint, pc.cert));
    add_cert_evidence(f, pc.cert);
    f.evidence["position"] = std::string(to_string(pc.position));
    f.evidence["depth"] = std::to_string(pc.depth);
    f.evidence["sent"] = bool_text(was_sent(pc.cert));
    f.evidence["address"] = facts_.obs->address;
    f.evidence["problems"] = join(x.malformations, "; ");
    push(std::move(f));
  }

  void malformed(const certs::VerifyError& e, const certs::Certificate& c) {
    const auto x = certs::extension_facts(c);
    auto f = start(codes::cert_malformed, e, c);
    std::vector<std::string> problems = x.malformations;
    if (problems.empty()) problems.push_back(e.text);
    f.evidence["problems"] = join(problems, "; ");
    push(std::move(f));
  }

  const HandshakeFacts& facts_;
  Findings& out_;
};

// Own analysis OpenSSL 3.0 lacks: a wildcard SAN ("*.example.com") stands for every name
// one label below, so it breaks a CA's excluded subtree that is one of those names
// ("bar.example.com"): the certificate is valid for an excluded name (CVE-2025-61727;
// RFC 5280 says nothing of wildcards, RFC 9525 and Chrome treat them as the names they
// match).
void check_wildcard_exclusions(const HandshakeFacts& facts, Findings& out) {
  if (facts.path_certs.size() < 2) return;
  const auto& leaf = facts.path_certs.front().cert;
  for (std::size_t d = 1; d < facts.path_certs.size(); ++d) {
    const auto x = certs::extension_facts(facts.path_certs[d].cert);
    for (const auto& ex : x.excluded) {
      if (ex.type != "DNS" || ex.value.empty()) continue;
      const std::string excluded = normalize_name(ex.value);
      for (const auto& raw : leaf.dns_names()) {
        const std::string san = normalize_name(raw);
        if (san.rfind("*.", 0) != 0) continue;
        const std::string base = san.substr(1);  // ".example.com"
        // One label below the wildcard's base: "bar" + ".example.com".
        if (excluded.size() <= base.size() ||
            excluded.compare(excluded.size() - base.size(), base.size(), base) != 0 ||
            excluded.substr(0, excluded.size() - base.size()).find('.') != std::string::npos)
          continue;
        auto f = make_finding(codes::chain_name_constraints, Severity::error, facts.obs->role,
                              subject_of(facts.endpoint, leaf));
        add_cert_evidence(f, leaf);
        f.evidence["position"] = "leaf";
        f.evidence["depth"] = "0";
        f.evidence["address"] = facts.obs->address;
        f.evidence["violation"] = "excluded";
        f.evidence["name"] = "DNS:" + raw;
        f.evidence["subtree"] = "DNS:" + ex.value;
        f.evidence["constraining_ca"] = facts.path_certs[d].cert.subject();
        f.evidence["permitted"] = names_text(x.permitted);
        f.evidence["excluded"] = names_text(x.excluded);
        f.equivalents["openssl"] = "none (OpenSSL 3.0 accepts the wildcard)";
        f.equivalents["curl"] = "none (curl with OpenSSL 3.0 accepts it)";
        explain(f, "wildcard");
        out.push_back(std::move(f));
        return;
      }
    }
  }
}

}  // namespace

void check_verify_floor(const HandshakeFacts& facts, Findings& out) {
  check_wildcard_exclusions(facts, out);
  FloorBuilder(facts, out).run();
}

}  // namespace tlsprobe::inspect::detail
