#include "inspect/revocation.hpp"

#include <openssl/err.h>

namespace tlsprobe::inspect {

std::optional<certs::Certificate> find_issuer(const certs::Certificate& cert,
                                              const certs::Chain& candidates) {
  for (const auto& c : candidates) {
    if (c == cert && !cert.is_self_signed()) continue;
    if (X509_check_issued(c.x509(), cert.x509()) != X509_V_OK) continue;
    EVP_PKEY* key = X509_get0_pubkey(c.x509());
    const bool ok = key && X509_verify(cert.x509(), key) == 1;
    ERR_clear_error();
    if (ok) return c;
  }
  return std::nullopt;
}

namespace {

certs::Chain candidates_of(const HandshakeObservation& h, const DiagnoseOptions& options) {
  certs::Chain out = h.chain;
  out.insert(out.end(), h.completed_chain.begin(), h.completed_chain.end());
  for (const auto& f : h.aia_fetches) out.insert(out.end(), f.certs.begin(), f.certs.end());
  if (options.trust && !h.chain.empty()) {
    // Only the anchors that could matter: issuers of something we have.
    for (const auto& c : certs::Chain(out)) {
      auto issuers = options.trust->find_issuers(c);
      out.insert(out.end(), issuers.begin(), issuers.end());
    }
  }
  return out;
}

}  // namespace

RevocationFacts revocation_facts(const HandshakeObservation& h, const DiagnoseOptions& options) {
  RevocationFacts f;
  if (h.chain.empty() || !chain_judged(h)) return f;
  f.applies = true;
  const auto& leaf = h.chain.front();
  f.must_staple = certs::has_must_staple(leaf);
  f.ocsp_urls = certs::ocsp_urls(leaf);
  f.crl_urls = certs::crl_urls(leaf);
  f.stapled = !h.ocsp_staple.empty();
  const auto candidates = candidates_of(h, options);
  f.leaf_issuer = find_issuer(leaf, candidates);
  certs::OcspCheckOptions oo;
  oo.at = options.at;
  if (f.stapled && f.leaf_issuer)
    f.staple = certs::check_ocsp_response(h.ocsp_staple, leaf, *f.leaf_issuer, oo);

  // Offline CRLs: the leaf, then each issuer up the path, until a self-signed anchor.
  if (!options.crls.empty()) {
    certs::Certificate cur = leaf;
    for (int depth = 0; depth < 8 && !cur.is_self_signed(); ++depth) {
      auto issuer = find_issuer(cur, candidates);
      if (!issuer) break;
      auto v = certs::check_crls(cur, *issuer, options.crls, options.at);
      if (v.status != certs::CrlVerdict::Status::not_covered)
        f.offline.push_back(OfflineRevocation{cur, depth, std::move(v)});
      cur = *issuer;
    }
  }

  for (const auto& l : h.revocation_lookups) {
    OnlineRevocation o;
    o.lookup = l;
    if (l.ok && f.leaf_issuer) {
      if (l.kind == "ocsp") {
        o.ocsp = certs::check_ocsp_response(l.response, leaf, *f.leaf_issuer, oo);
      } else {
        try {
          const auto crls = certs::Crl::parse(l.response, l.url);
          o.crl = certs::check_crls(leaf, *f.leaf_issuer, crls, options.at);
        } catch (const std::exception& e) {
          o.crl_error = e.what();
        }
      }
    }
    f.online.push_back(std::move(o));
  }
  return f;
}

std::string revocation_summary(const RevocationFacts& f) {
  if (!f.applies) return {};
  auto when = [](const std::optional<certs::TimePoint>& t) {
    return t ? certs::format_rfc3339(*t) : std::string("none");
  };
  std::string out;
  if (!f.stapled) {
    out = "no OCSP staple";
    if (f.must_staple)
      out += " (the certificate is must-staple)";
    else if (f.ocsp_urls.empty())
      out += " (the certificate names no OCSP responder)";
  } else if (!f.staple) {
    out = "OCSP staple: not judged (the leaf's issuer is unknown)";
  } else {
    const auto& s = *f.staple;
    out = "OCSP staple: " + (s.cert_status.empty() ? s.response_status : s.cert_status);
    if (!s.valid()) out += ", INVALID (" + s.problem + ": " + s.problem_detail + ")";
    if (s.cert_status == "revoked")
      out += " on " + when(s.revocation_time) +
             (s.revocation_reason.empty() ? "" : " (" + s.revocation_reason + ")");
    out += ", produced " + when(s.produced_at) + ", this update " + when(s.this_update) +
           ", next update " + when(s.next_update) + ", responder " + s.responder;
  }
  for (const auto& o : f.offline) {
    out += "; CRL " + o.verdict.source + " (depth " + std::to_string(o.depth) +
           "): " + std::string(certs::to_string(o.verdict.status));
    if (!o.verdict.problem.empty()) out += " (" + o.verdict.problem + ")";
  }
  for (const auto& o : f.online) {
    out += "; " + o.lookup.kind + " " + o.lookup.url + ": ";
    if (!o.lookup.ok)
      out += "failed (" + o.lookup.error + ")";
    else if (o.ocsp)
      out += (o.ocsp->cert_status.empty() ? o.ocsp->response_status : o.ocsp->cert_status) +
             (o.ocsp->valid() ? "" : " INVALID (" + o.ocsp->problem + ")");
    else if (o.crl)
      out += std::string(certs::to_string(o.crl->status));
    else
      out += o.crl_error.empty() ? "not judged" : o.crl_error;
  }
  return out;
}

}  // namespace tlsprobe::inspect
