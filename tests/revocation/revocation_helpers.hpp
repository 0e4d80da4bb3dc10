// Shared by the revocation tests: a healthy hierarchy whose leaf names an OCSP responder,
// and diagnose() of one handshake with a staple, CRLs or online lookups.
#pragma once

#include "inspect/diagnose_helpers.hpp"
#include "pki/revocation_pki.hpp"

namespace revtest {

using namespace diagtest;

// Root -> intermediate -> leaf for www.example.test; the leaf's AIA names an OCSP
// responder (and optionally carries must-staple).
struct Pki {
  Issued root, inter, leaf;
  certs::TrustStore trust;
  certs::Chain chain() const { return {leaf.cert, inter.cert}; }
};

inline Pki make_pki(bool must_staple = false, std::string ocsp_url = "http://ocsp.example.test/") {
  auto root = make_root(ca_spec("Rev Test Root CA"));
  auto inter = issue(root, ca_spec("Rev Test Issuing CA"));
  auto spec = leaf_spec({kHost});
  spec.ocsp_url = std::move(ocsp_url);
  if (must_staple) spec.extensions.push_back({"tlsfeature", "status_request"});
  auto leaf = issue(inter, std::move(spec));
  auto trust = certs::TrustStore::from_anchors({root.cert});
  return Pki{std::move(root), std::move(inter), std::move(leaf), std::move(trust)};
}

inline HandshakeObservation stapled(const Pki& p, std::string staple) {
  auto h = handshake(Role::direct, kHost, p.chain());
  h.ocsp_staple = std::move(staple);
  return h;
}

inline Findings diagnose_one(const Pki& p, HandshakeObservation h,
                             std::vector<certs::Crl> crls = {}) {
  auto o = options(p.trust);
  o.crls = std::move(crls);
  return run(observations(kHost, {std::move(h)}), o);
}

// No finding of the revocation codes at all.
inline bool no_revocation_findings(const Findings& fs) {
  for (auto code : {codes::cert_revoked, codes::revocation_unknown, codes::ocsp_staple_invalid,
                    codes::ocsp_must_staple_missing, codes::ocsp_not_stapled})
    if (find(fs, code)) return false;
  return true;
}

}  // namespace revtest
