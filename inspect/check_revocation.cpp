// cert.revoked, revocation.unknown, ocsp.staple_invalid, ocsp.must_staple_missing and
// ocsp.not_stapled for one completed handshake, from its revocation facts (revocation.hpp):
// the stapled OCSP response, the CRLs given with --crl and the online lookups (--revocation).
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"
#include "inspect/revocation.hpp"

#include <openssl/x509_vfy.h>

#include <set>

namespace tlsprobe::inspect::detail {

namespace {

std::string when(const std::optional<certs::TimePoint>& t) {
  return t ? certs::format_rfc3339(*t) : std::string("none");
}

// What OpenSSL with CRL checking (curl --crlfile) says about a CRL with this problem.
std::pair<std::string, std::string> openssl_crl_error(const std::string& problem) {
  int code = 0;
  if (problem == "bad_signature") code = X509_V_ERR_CRL_SIGNATURE_FAILURE;
  if (problem == "no_crl_sign") code = X509_V_ERR_KEYUSAGE_NO_CRL_SIGN;
  if (problem == "expired") code = X509_V_ERR_CRL_HAS_EXPIRED;
  if (problem == "not_yet_valid") code = X509_V_ERR_CRL_NOT_YET_VALID;
  if (problem == "critical_extension") code = X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION;
  if (code == 0)  // a missing or critical cRLNumber: OpenSSL 3.0 does not look
    return {"none (OpenSSL 3.0 does not check the cRLNumber)", "(accepted by OpenSSL)"};
  return {std::to_string(code) + " " + certs::verify_code_name(code),
          X509_verify_cert_error_string(code)};
}

// A valid staple whose nextUpdate is less than a day away and past the middle of its
// validity window: responders publish a new response by then, and servers that refresh
// (nginx, Apache) fetch it well before; one that still serves the old one is stuck.
bool going_stale(const certs::OcspVerdict& s, certs::TimePoint at) {
  if (!s.next_update || !s.this_update || *s.next_update <= at) return false;
  const auto left = *s.next_update - at;
  const auto window = *s.next_update - *s.this_update;
  return left < std::chrono::hours(24) && left * 2 < window;
}

class Emitter {
 public:
  Emitter(const HandshakeFacts& facts, Findings& out) : facts_(facts), out_(out) {}

  Finding about(std::string_view code, Severity sev, const certs::Certificate& cert, int depth) {
    auto f = make_finding(code, sev, facts_.obs->role, subject_of(facts_.endpoint, cert));
    add_cert_evidence(f, cert);
    f.evidence["address"] = facts_.obs->address;  // which handshake (the watcher splits by it)
    f.evidence["position"] = depth == 0 ? "leaf" : "intermediate";
    f.evidence["depth"] = std::to_string(depth);
    return f;
  }

  // One cert.revoked per certificate: the first source that says so (staple, --crl, online).
  void revoked(const certs::Certificate& cert, int depth, std::string source,
               const std::optional<certs::TimePoint>& at, const std::string& reason) {
    if (!revoked_.insert(cert.sha256_hex()).second) return;
    auto f = about(codes::cert_revoked, Severity::error, cert, depth);
    f.evidence["source"] = std::move(source);
    f.evidence["revocation_time"] = when(at);
    f.evidence["reason"] = reason.empty() ? "unspecified" : reason;
    emit(std::move(f));
  }

  void unknown(const certs::Certificate& cert, std::string source, std::string url,
               std::string what) {
    auto f = about(codes::revocation_unknown, Severity::warning, cert, 0);
    f.evidence["source"] = std::move(source);
    f.evidence["url"] = std::move(url);
    f.evidence["what"] = std::move(what);
    emit(std::move(f));
  }

  void emit(Finding f, std::string_view variant = {}) {
    explain(f, variant);
    out_.push_back(std::move(f));
  }

 private:
  const HandshakeFacts& facts_;
  Findings& out_;
  std::set<std::string> revoked_;
};

}  // namespace

void check_revocation(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out) {
  const auto rf = revocation_facts(*facts.obs, options);
  if (!rf.applies) return;
  const auto& leaf = facts.obs->chain.front();
  Emitter e(facts, out);

  if (rf.staple) {
    const auto& s = *rf.staple;
    if (!s.valid()) {
      auto f = e.about(codes::ocsp_staple_invalid, Severity::error, leaf, 0);
      f.evidence["problem"] = s.problem;
      f.evidence["detail"] = s.problem_detail;
      f.evidence["responder"] = s.responder.empty() ? "unknown" : s.responder;
      f.evidence["this_update"] = when(s.this_update);
      f.evidence["next_update"] = when(s.next_update);
      f.evidence["cert_status"] = s.cert_status;
      e.emit(std::move(f), s.problem);
    } else if (s.cert_status == "revoked") {
      e.revoked(leaf, 0, "the stapled OCSP response (responder " + s.responder + ")",
                s.revocation_time, s.revocation_reason);
    } else if (going_stale(s, options.at)) {
      // Still valid, but the server has not refreshed it: in a few hours clients that check
      // staples (Firefox) get an expired one. A warning now, as cert.expiring_soon is.
      auto f = e.about(codes::ocsp_staple_invalid, Severity::warning, leaf, 0);
      f.evidence["problem"] = "expiring_soon";
      f.evidence["responder"] = s.responder.empty() ? "unknown" : s.responder;
      f.evidence["this_update"] = when(s.this_update);
      f.evidence["next_update"] = when(s.next_update);
      f.evidence["cert_status"] = s.cert_status;
      f.evidence["hours_left"] = std::to_string(
          std::chrono::duration_cast<std::chrono::hours>(*s.next_update - options.at).count());
      e.emit(std::move(f), "expiring_soon");
    } else if (s.cert_status == "unknown") {
      e.unknown(leaf, "the stapled OCSP response", "stapled",
                "the responder " + s.responder +
                    " answered unknown (it does not know the "
                    "certificate)");
    }
  } else if (!rf.stapled) {
    if (rf.must_staple) {
      e.emit(e.about(codes::ocsp_must_staple_missing, Severity::error, leaf, 0));
    } else if (!rf.ocsp_urls.empty()) {
      auto f = e.about(codes::ocsp_not_stapled, Severity::info, leaf, 0);
      f.evidence["ocsp_url"] = rf.ocsp_urls.front();
      e.emit(std::move(f));
    }
  }

  for (const auto& o : rf.offline) {
    const auto& v = o.verdict;
    if (v.status == certs::CrlVerdict::Status::revoked) {
      e.revoked(o.cert, o.depth, "the CRL " + v.source, v.revocation_time, v.reason);
    } else if (v.status == certs::CrlVerdict::Status::unusable) {
      // Given on purpose (--crl): a CRL-checking client (curl --crlfile) would refuse, so
      // this is an error, unlike an online lookup that failed (browsers soft-fail).
      auto f = e.about(codes::revocation_unknown, Severity::error, o.cert, o.depth);
      f.evidence["source"] = v.source;
      f.evidence["url"] = v.source;
      f.evidence["what"] = v.problem_detail;
      f.evidence["problem"] = v.problem;
      const auto [code, text] = openssl_crl_error(v.problem);
      f.evidence["openssl_crl_error"] = code;
      f.evidence["openssl_crl_text"] = text;
      e.emit(std::move(f), "crl_invalid");
    }
  }

  for (const auto& o : rf.online) {
    const auto& l = o.lookup;
    const std::string source = l.kind == "ocsp" ? "the OCSP responder" : "the CRL";
    if (!l.ok) {
      e.unknown(leaf, source, l.url, l.error);
    } else if (o.ocsp) {
      const auto& s = *o.ocsp;
      if (!s.valid())
        e.unknown(leaf, source, l.url,
                  "its answer cannot be used (" + s.problem + ": " + s.problem_detail + ")");
      else if (s.cert_status == "revoked")
        e.revoked(leaf, 0, source + " at " + l.url, s.revocation_time, s.revocation_reason);
      else if (s.cert_status == "unknown")
        e.unknown(leaf, source, l.url, "the responder answered unknown");
    } else if (o.crl) {
      const auto& v = *o.crl;
      if (v.status == certs::CrlVerdict::Status::revoked)
        e.revoked(leaf, 0, source + " at " + l.url, v.revocation_time, v.reason);
      else if (v.status == certs::CrlVerdict::Status::unusable)
        e.unknown(leaf, source, l.url, "the CRL failed to verify (" + v.problem_detail + ")");
      else if (v.status == certs::CrlVerdict::Status::not_covered)
        e.unknown(leaf, source, l.url, "the CRL served there is not from the certificate's issuer");
    } else if (!o.crl_error.empty()) {
      e.unknown(leaf, source, l.url, o.crl_error);
    }
  }
}

}  // namespace tlsprobe::inspect::detail
