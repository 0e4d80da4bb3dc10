// Revocation facts of one handshake, computed from its observation and the diagnose options
// (pure: the staple and online answers were captured by the prober; CRLs are given). Used by
// check_revocation.cpp for findings and by the probe output for its "revocation" line.
#pragma once

#include "certs/crl.hpp"
#include "certs/ocsp_response.hpp"
#include "inspect/diagnose.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::inspect {

// One online lookup and what its answer says.
struct OnlineRevocation {
  RevocationLookup lookup;
  std::optional<certs::OcspVerdict> ocsp;  // kind "ocsp", ok, issuer known
  std::optional<certs::CrlVerdict> crl;    // kind "crl", ok, issuer known
  std::string crl_error;                   // kind "crl", ok, but the body is no CRL
};

// A certificate of the path judged against the --crl CRLs of its issuer.
struct OfflineRevocation {
  certs::Certificate cert;
  int depth = 0;  // 0 = leaf
  certs::CrlVerdict verdict;
};

struct RevocationFacts {
  bool applies = false;                          // a judged handshake with a leaf
  bool must_staple = false;                      // the leaf has TLS Feature status_request
  std::vector<std::string> ocsp_urls, crl_urls;  // of the leaf
  bool stapled = false;
  std::optional<certs::OcspVerdict> staple;       // judged (needs the leaf's issuer)
  std::optional<certs::Certificate> leaf_issuer;  // sent, fetched via AIA or an anchor
  std::vector<OfflineRevocation> offline;         // only certificates a given CRL covers
  std::vector<OnlineRevocation> online;
};

RevocationFacts revocation_facts(const HandshakeObservation& h, const DiagnoseOptions& options);

// One line for people: "OCSP staple: good (responder …, next update …)", "no staple (…)".
std::string revocation_summary(const RevocationFacts& f);

// The issuer of `cert` among `candidates` (name, AKI and key usage by X509_check_issued,
// and the signature verified), nullopt when none.
std::optional<certs::Certificate> find_issuer(const certs::Certificate& cert,
                                              const certs::Chain& candidates);

}  // namespace tlsprobe::inspect
