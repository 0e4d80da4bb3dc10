#include "inspect/compare_paths.hpp"

#include "inspect/checks.hpp"
#include "inspect/codes.hpp"
#include "inspect/interception_products.hpp"

#include <openssl/asn1.h>
#include <openssl/x509.h>

namespace tlsprobe::inspect {

namespace {

// The issuer's organisation (O=), or its whole DN when it has none.
std::string issuer_organisation(const certs::Certificate& c) {
  const X509_NAME* name = c.x509() ? X509_get_issuer_name(c.x509()) : nullptr;
  if (!name) return c.issuer();
  const int idx = X509_NAME_get_index_by_NID(name, NID_organizationName, -1);
  if (idx < 0) return c.issuer();
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0 || !utf8) return c.issuer();
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

Findings compare_paths(const HandshakeObservation& client_path,
                       const HandshakeObservation& side_probe) {
  Findings out;
  if (client_path.outcome != HandshakeOutcome::ok || side_probe.outcome != HandshakeOutcome::ok)
    return out;
  if (client_path.chain.empty() || side_probe.chain.empty()) return out;
  const auto& a = client_path.chain.front();
  const auto& b = side_probe.chain.front();
  if (a.sha256_hex() == b.sha256_hex()) return out;
  const std::string org_a = issuer_organisation(a), org_b = issuer_organisation(b);
  if (org_a == org_b) return out;

  auto f = detail::make_finding(
      codes::tls_intercepted, Severity::warning, Role::direct,
      detail::subject_of(detail::endpoint_of(client_path.host, client_path.port), a));
  f.evidence["path_differs"] = "true";
  f.evidence["host"] = client_path.host;
  f.evidence["address"] = client_path.address;
  f.evidence["client_path_issuer"] = a.issuer();
  f.evidence["client_path_sha256"] = a.sha256_hex();
  f.evidence["side_probe_issuer"] = b.issuer();
  f.evidence["side_probe_sha256"] = b.sha256_hex();
  auto product = recognise_interception_ca(a.issuer());
  std::string_view intercepted_path = "client_path";
  if (!product) {
    product = recognise_interception_ca(b.issuer());
    intercepted_path = product ? "side_probe" : "unknown";
  }
  f.evidence["intercepted_path"] = std::string(intercepted_path);
  f.evidence["product"] = product ? std::string(product->name) : "an unrecognised product";
  f.evidence["product_kind"] = product ? std::string(product->kind) : "unknown";
  f.evidence["interception_ca"] = intercepted_path == "side_probe" ? b.issuer() : a.issuer();
  f.evidence["in_trust_store"] = "unknown";
  detail::explain(f, "path_differs");
  out.push_back(std::move(f));
  return out;
}

}  // namespace tlsprobe::inspect
