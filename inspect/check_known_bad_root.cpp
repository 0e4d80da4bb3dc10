// cert.known_bad_root: a certificate on the path a client verifies (the trust anchor from
// the store included) has a key from the known-bad list (known_bad_roots.hpp). Chrome
// blocks these keys whatever the trust store says (ERR_CERT_REVOKED); OpenSSL, curl,
// Python, Java and most other clients accept them as soon as the root sits in their store,
// which is exactly how Superfish and eDellRoot were installed.
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"
#include "inspect/known_bad_roots.hpp"

#include <set>

namespace tlsprobe::inspect::detail {

void check_known_bad_root(const HandshakeFacts& facts, Findings& out) {
  std::set<std::string> reported;  // by certificate sha256: a root sent and in the store once
  for (const auto& pc : facts.path_certs) {
    if (!reported.insert(pc.cert.sha256_hex()).second) continue;
    const std::string spki = spki_sha256_hex(pc.cert);
    const auto bad = find_known_bad_root(spki);
    if (!bad) continue;
    auto f = make_finding(codes::cert_known_bad_root, Severity::error, facts.obs->role,
                          subject_of(facts.endpoint, pc.cert));
    add_cert_evidence(f, pc.cert);
    f.evidence["position"] = std::string(to_string(pc.position));
    f.evidence["depth"] = std::to_string(pc.depth);
    f.evidence["spki_sha256"] = spki;
    f.evidence["known_as"] = std::string(bad->name);
    f.evidence["reason"] = std::string(to_string(bad->reason));
    f.evidence["source"] = std::string(bad->source);
    f.evidence["in_trust_store"] = pc.is_anchor ? "true" : "false";
    f.evidence["host"] = facts.obs->host;
    f.evidence["address"] = facts.obs->address;
    const std::string cn =
        pc.cert.common_name().empty() ? pc.cert.subject() : pc.cert.common_name();
    f.evidence["root_name"] = cn;
    explain(f, bad->reason == BadRootReason::key_published ? "key_published" : "distrusted");
    out.push_back(std::move(f));
  }
}

}  // namespace tlsprobe::inspect::detail
