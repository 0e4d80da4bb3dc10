// TLS-interception products recognised by the names their CAs carry: corporate proxies and
// firewalls that decrypt outgoing HTTPS, antivirus "HTTPS scanning", and debugging proxies.
// Each mints a certificate for every site on the fly, signed by a CA the company (or the
// product's installer) added to the machine's trust store. Browsers that use that store
// work; applications with a store of their own (curl's bundle, Python certifi, Java cacerts,
// Node, git for Windows) fail with "unable to get local issuer certificate".
//
// Matching is on distinguishing words of the product's CA names (case-insensitive, on the
// whole RFC 4514 DN), chosen so that no publicly trusted CA carries them (e.g. "Blue Coat"
// and "ProxySG", never "Symantec", which was also a public CA).
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace tlsprobe::inspect {

struct InterceptionProduct {
  std::string_view name;  // "Zscaler"
  std::string_view kind;  // "cloud security proxy", "antivirus HTTPS scanning", …
  std::span<const std::string_view> patterns;  // lower case, matched as substrings of the DN
};

// Every product recognised.
std::span<const InterceptionProduct> interception_products();

// The product whose CA a certificate name (subject or issuer DN, RFC 4514) belongs to, or
// nullopt.
std::optional<InterceptionProduct> recognise_interception_ca(std::string_view dn);

}  // namespace tlsprobe::inspect
