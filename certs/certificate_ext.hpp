// The extension-level facts of a certificate that diagnosis explains a rejection with
// (basic constraints, key usage, EKU, critical extensions, name constraints, encoding
// problems), read with OpenSSL's own decoders (X509_get_extension_flags, X509_get_ext_d2i):
// never by parsing DER by hand.
#pragma once

#include "certs/certificate.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::certs {

// One name of a certificate or one subtree of a nameConstraints extension, typed as in
// RFC 5280's GeneralName: "DNS", "IP", "email", "URI", "DirName" or "other".
struct TypedName {
  std::string type;
  std::string value;  // IP subtrees as "addr/prefix"; DirName as RFC 4514
};

struct ExtensionFacts {
  int version = 3;  // 1, 2 or 3 (X509_get_version + 1)
  bool has_basic_constraints = false;
  bool basic_constraints_critical = false;
  bool ca = false;     // basicConstraints CA:TRUE
  long path_len = -1;  // pathLenConstraint, -1 when absent
  bool has_key_usage = false;
  std::vector<std::string> key_usage;  // "digitalSignature", "keyCertSign", …
  bool key_cert_sign = false;
  bool has_eku = false;
  std::vector<std::string> eku;  // "serverAuth", "anyExtendedKeyUsage", or the dotted OID
  bool eku_server_auth = false;  // serverAuth or anyExtendedKeyUsage
  bool eku_any = false;
  // Critical extensions OpenSSL does not implement (it must refuse them): dotted OIDs
  // with the name OpenSSL knows, if any ("1.2.3.4" / "1.3.6.1.5.5.7.1.24 (TLS Feature)").
  std::vector<std::string> unhandled_critical;
  bool has_ski = false;
  bool has_aki = false;
  bool self_issued = false;                // subject == issuer
  std::vector<std::string> malformations;  // why OpenSSL marked it invalid, in words
  int serial_octets = 0;                   // DER content length of the serial number
  bool serial_zero = false;
  bool serial_negative = false;
  std::vector<TypedName> permitted, excluded;  // nameConstraints subtrees
  bool has_name_constraints = false;
  // Every extension present, by OpenSSL's short name (or dotted OID): is it critical?
  std::map<std::string, bool> critical_by_name;
  bool aki_has_key_id = false;  // authorityKeyIdentifier carries its keyIdentifier field
  bool aia_malformed = false;   // authorityInfoAccess present but undecodable or empty
  bool subject_empty = false;
  std::vector<std::string> dns_sans;  // dNSName SANs as encoded
  std::vector<std::string> ip_sans;   // iPAddress SANs as text (inet_ntop form)
};

ExtensionFacts extension_facts(const Certificate& cert);

// The names a CA's name constraints apply to: SANs of every type, plus the subject DN,
// plus (when there is no DNS SAN) a host-like CN, as OpenSSL 3.0 checks it.
std::vector<TypedName> constrained_names(const Certificate& cert);

// Whether `name` falls inside `subtree` (same type), by RFC 5280 section 4.2.1.10:
// DNS by whole labels ("example.com" covers "a.example.com"), IP by address and mask,
// email by mailbox, host or domain, DirName by RDN prefix. nullopt: a type this function
// does not compare (it then never claims a violation).
std::optional<bool> within_subtree(const TypedName& name, const TypedName& subtree);

}  // namespace tlsprobe::certs
