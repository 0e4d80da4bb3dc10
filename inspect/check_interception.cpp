// tls.intercepted: the chain a client receives was minted by a TLS-interception product
// (interception_products.hpp). Looked at: the issuer of every certificate sent and the
// subject of every CA on the path (the anchor from the store included), so the product is
// named whether or not its root is trusted here and whether or not the proxy sends it.
// One finding per handshake: the first CA recognised, nearest the leaf.
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"
#include "inspect/interception_products.hpp"

namespace tlsprobe::inspect::detail {

void check_interception(const HandshakeFacts& facts, Findings& out) {
  std::vector<std::string> names;  // CA names, nearest the leaf first
  for (const auto& c : facts.obs->chain) names.push_back(c.issuer());
  for (const auto& pc : facts.path_certs)
    if (pc.position != Position::leaf) names.push_back(pc.cert.subject());
  for (const auto& dn : names) {
    const auto product = recognise_interception_ca(dn);
    if (!product) continue;
    const auto& leaf = facts.obs->chain.front();
    auto f = make_finding(codes::tls_intercepted, Severity::warning, facts.obs->role,
                          subject_of(facts.endpoint, leaf));
    add_cert_evidence(f, leaf);
    f.evidence["product"] = std::string(product->name);
    f.evidence["product_kind"] = std::string(product->kind);
    f.evidence["interception_ca"] = dn;
    const bool trusted = facts.path.end == certs::PathEnd::anchored;
    f.evidence["in_trust_store"] = trusted ? "true" : "false";
    f.evidence["host"] = facts.obs->host;
    f.evidence["address"] = facts.obs->address;
    explain(f, trusted ? "trusted" : "untrusted");
    out.push_back(std::move(f));
    return;
  }
}

}  // namespace tlsprobe::inspect::detail
