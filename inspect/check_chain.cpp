// cert.*, chain.*, key.*, sig.*, tls.* and probe.* findings for one handshake.
//
// Trust is decided from certs::analyze_chain (which certificates form the path, and how it
// ends), not from OpenSSL's first error alone: OpenSSL says 20 for both a missing
// intermediate and an internal root that was not sent, and stops at its first error. The
// OpenSSL result is kept as evidence and as the "openssl" equivalent.
#include "certs/ascii.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

#include <algorithm>
#include <chrono>

namespace tlsprobe::inspect::detail {

namespace {

std::string host_of(const HandshakeObservation& obs) { return obs.host; }

void add_handshake_evidence(Finding& f, const HandshakeObservation& obs) {
  f.evidence["host"] = host_of(obs);
  f.evidence["port"] = std::to_string(obs.port);
  f.evidence["address"] = obs.address;
  f.evidence["sni"] = obs.sni.value_or("");
}

void add_path_evidence(Finding& f, const PathCert& pc) {
  add_cert_evidence(f, pc.cert);
  f.evidence["position"] = std::string(to_string(pc.position));
  f.evidence["depth"] = std::to_string(pc.depth);
}

void add_verify_evidence(Finding& f, const certs::VerifyResult& v) {
  f.evidence["openssl_code"] = std::to_string(v.openssl_code);
  f.evidence["openssl_error"] = v.openssl_name;
  f.evidence["openssl_depth"] = std::to_string(v.depth);
}

// The OpenSSL verify code, when it is one of `codes`, as "20 X509_V_ERR_…" (the
// "openssl" equivalent of a trust finding); empty otherwise (the table's text is used).
std::string openssl_equivalent(const certs::VerifyResult& v, std::initializer_list<int> codes) {
  if (std::find(codes.begin(), codes.end(), v.openssl_code) == codes.end()) return {};
  return std::to_string(v.openssl_code) + " " + v.openssl_name;
}

std::string elapsed_text(double ms) { return std::to_string(static_cast<long long>(ms + 0.5)); }

// --- dates ---------------------------------------------------------------------------

void check_dates(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out) {
  const Role role = facts.obs->role;
  for (const auto& pc : facts.path_certs) {
    const auto& c = pc.cert;
    if (options.at > c.not_after()) {
      auto f =
          make_finding(codes::cert_expired, Severity::error, role, subject_of(facts.endpoint, c));
      add_path_evidence(f, pc);
      add_handshake_evidence(f, *facts.obs);
      f.evidence["days_expired"] = std::to_string(days_between(c.not_after(), options.at));
      f.evidence["at"] = certs::format_rfc3339(options.at);
      explain(f, to_string(pc.position));
      out.push_back(std::move(f));
    } else if (options.at < c.not_before()) {
      auto f = make_finding(codes::cert_not_yet_valid, Severity::error, role,
                            subject_of(facts.endpoint, c));
      add_path_evidence(f, pc);
      add_handshake_evidence(f, *facts.obs);
      f.evidence["days_until_valid"] = std::to_string(days_between(options.at, c.not_before()));
      f.evidence["at"] = certs::format_rfc3339(options.at);
      explain(f, pc.position == Position::leaf ? "leaf" : "issuer");
      out.push_back(std::move(f));
    } else if (!pc.from_store &&
               c.not_after() - options.at <= std::chrono::days(options.warn_days)) {
      // Anchors from the store are the client's business, not the server's: only what the
      // server sends (and can renew) gets an expiry warning.
      auto f = make_finding(codes::cert_expiring_soon, Severity::warning, role,
                            subject_of(facts.endpoint, c));
      add_path_evidence(f, pc);
      add_handshake_evidence(f, *facts.obs);
      f.evidence["days_left"] = std::to_string(days_between(options.at, c.not_after()));
      f.evidence["warn_days"] = std::to_string(options.warn_days);
      f.evidence["at"] = certs::format_rfc3339(options.at);
      explain(f);
      out.push_back(std::move(f));
    }
  }
}

// --- trust: self-signed, untrusted root, incomplete ------------------------------------

void check_trust(const HandshakeFacts& facts, Findings& out) {
  const auto& obs = *facts.obs;
  const auto& path = facts.path;
  const auto& v = facts.verify;
  switch (path.end) {
    case certs::PathEnd::anchored:
    case certs::PathEnd::empty:
      return;
    case certs::PathEnd::leaf_self_signed: {
      const auto& leaf = obs.chain.front();
      auto f = make_finding(codes::cert_self_signed, Severity::error, obs.role,
                            subject_of(facts.endpoint, leaf));
      add_cert_evidence(f, leaf);
      add_handshake_evidence(f, obs);
      add_verify_evidence(f, v);
      f.evidence["position"] = "leaf";
      f.evidence["depth"] = "0";
      if (auto e = openssl_equivalent(v, {18}); !e.empty()) f.equivalents["openssl"] = e;
      explain(f);
      out.push_back(std::move(f));
      return;
    }
    case certs::PathEnd::untrusted_root: {
      // The root was sent: name it.
      std::size_t idx =
          path.untrusted_root_index.value_or(path.path.empty() ? 0 : path.path.back());
      if (idx >= obs.chain.size()) idx = obs.chain.size() - 1;
      const auto& root = obs.chain[idx];
      auto f = make_finding(codes::chain_untrusted_root, Severity::error, obs.role,
                            subject_of(facts.endpoint, root));
      add_cert_evidence(f, root);
      add_handshake_evidence(f, obs);
      add_verify_evidence(f, v);
      f.evidence["root"] = root.subject();
      f.evidence["root_sent"] = "true";
      f.evidence["index"] = std::to_string(idx);
      f.evidence["depth"] = std::to_string(path.path.empty() ? 0 : path.path.size() - 1);
      if (auto e = openssl_equivalent(v, {19}); !e.empty()) f.equivalents["openssl"] = e;
      explain(f, "sent");
      out.push_back(std::move(f));
      return;
    }
    case certs::PathEnd::missing_issuer: {
      // The path stops at a certificate whose issuer was neither sent nor trusted. That is
      // either a missing intermediate or an internal root that is (correctly) not sent.
      // Rule:
      // - The path stops at an intermediate the server sent (a CA certificate): the server
      //   did send its chain, and what is missing is the issuer of that intermediate, almost
      //   always a root the client does not trust (an internal CA, or a retired public
      //   root) -> chain.untrusted_root with root_sent=false.
      // - The path stops at the leaf, which is not self-issued: its issuer was not sent and
      //   is not in the store -> chain.incomplete, with or without an AIA URL (openssl,
      //   testssl.sh and SSL Labs all say so). Without AIA the message adds that an
      //   internal root must be installed on the clients.
      const std::size_t last_idx = path.path.empty() ? 0 : path.path.back();
      const auto& last = obs.chain[std::min(last_idx, obs.chain.size() - 1)];
      const std::string aia = !path.missing_issuer_aia_url.empty() ? path.missing_issuer_aia_url
                                                                   : last.aia_issuer_url();
      const std::string missing =
          !path.missing_issuer.empty() ? path.missing_issuer : last.issuer();
      const bool stops_at_sent_intermediate = path.path.size() > 1 && last.is_ca();
      const bool self_issued = last.subject() == last.issuer();
      const bool incomplete = !stops_at_sent_intermediate && !self_issued;
      auto f = make_finding(incomplete ? codes::chain_incomplete : codes::chain_untrusted_root,
                            Severity::error, obs.role, subject_of(facts.endpoint, last));
      add_cert_evidence(f, last);
      add_handshake_evidence(f, obs);
      add_verify_evidence(f, v);
      f.evidence["missing_issuer"] = missing;
      f.evidence["aia_url"] = aia;
      f.evidence["depth"] = std::to_string(path.path.empty() ? 0 : path.path.size() - 1);
      f.evidence["position"] = path.path.size() <= 1 ? "leaf" : "intermediate";
      f.evidence["certificates_sent"] = std::to_string(obs.chain.size());
      if (incomplete) {
        if (auto e = openssl_equivalent(v, {20, 21, 2}); !e.empty()) f.equivalents["openssl"] = e;
        explain(f, aia.empty() ? "no_aia" : "");
      } else {
        f.evidence["root"] = missing;
        f.evidence["root_sent"] = "false";
        if (auto e = openssl_equivalent(v, {20, 2}); !e.empty()) f.equivalents["openssl"] = e;
        explain(f, "not_sent");
      }
      out.push_back(std::move(f));
      return;
    }
  }
}

// --- chain layout: order, root sent, extra certificates --------------------------------

void check_layout(const HandshakeFacts& facts, Findings& out) {
  const auto& obs = *facts.obs;
  const auto& path = facts.path;
  if (path.end == certs::PathEnd::empty) return;

  if (!path.in_order) {
    auto f = make_finding(codes::chain_wrong_order, Severity::warning, obs.role, facts.endpoint);
    add_handshake_evidence(f, obs);
    std::vector<std::string> sent, expected, idx;
    for (const auto& c : obs.chain) sent.push_back(c.subject());
    for (std::size_t i : path.path) {
      if (i < obs.chain.size()) expected.push_back(obs.chain[i].subject());
      idx.push_back(std::to_string(i));
    }
    f.evidence["sent_order"] = join(sent, " | ");
    f.evidence["path_order"] = join(expected, " | ");
    f.evidence["path_indices"] = join(idx, ",");
    f.evidence["certificate"] = obs.chain.front().subject();
    explain(f);
    out.push_back(std::move(f));
  }

  // A leaf that is itself the anchor (a pinned self-signed certificate) is not a root
  // "sent in addition": nothing is wasted.
  if (path.anchor_was_sent && path.anchor && !(*path.anchor == obs.chain.front())) {
    const auto& root = *path.anchor;
    auto f = make_finding(codes::chain_contains_root, Severity::info, obs.role,
                          subject_of(facts.endpoint, root));
    add_cert_evidence(f, root);
    add_handshake_evidence(f, obs);
    for (std::size_t i = 0; i < obs.chain.size(); ++i)
      if (obs.chain[i] == root) f.evidence["index"] = std::to_string(i);
    explain(f);
    out.push_back(std::move(f));
  }

  // One finding for all the extras (one fact: the chain file carries certificates that are
  // not on the path), however many there are.
  std::vector<std::size_t> extras;
  for (std::size_t i : path.extra)
    if (i < obs.chain.size()) extras.push_back(i);
  if (!extras.empty()) {
    const auto& first = obs.chain[extras.front()];
    auto f = make_finding(codes::chain_extra_certs, Severity::info, obs.role,
                          extras.size() == 1 ? subject_of(facts.endpoint, first) : facts.endpoint);
    add_cert_evidence(f, first);
    add_handshake_evidence(f, obs);
    std::vector<std::string> idx, subjects, expired, listed;
    constexpr std::size_t max_listed = 10;  // the message stays readable; evidence has all
    for (std::size_t i : extras) {
      const auto& c = obs.chain[i];
      idx.push_back(std::to_string(i));
      subjects.push_back(c.subject());
      // An expired extra (an old cross-sign) is worth knowing, but it is not cert.expired:
      // clients do not verify it (DESIGN.md section 7).
      const bool is_expired = c.not_after() < facts.verify_at;
      if (is_expired) expired.push_back(std::to_string(i));
      if (listed.size() < max_listed)
        listed.push_back("#" + std::to_string(i) + " " + c.subject() + " (not after " +
                         certs::format_rfc3339(c.not_after()) + (is_expired ? ", expired" : "") +
                         ")");
    }
    if (extras.size() > max_listed)
      listed.push_back("and " + std::to_string(extras.size() - max_listed) + " more");
    f.evidence["index"] = idx.front();
    f.evidence["indices"] = join(idx, ",");
    f.evidence["subjects"] = join(subjects, " | ");
    f.evidence["count"] = std::to_string(extras.size());
    f.evidence["expired"] = expired.empty() ? "false" : "true";
    f.evidence["expired_indices"] = join(expired, ",");
    f.evidence["extras"] = join(listed, "; ");
    explain(f);
    out.push_back(std::move(f));
  }
}

// --- keys and signatures ---------------------------------------------------------------

bool key_is_weak(const certs::KeyInfo& k) {
  const std::string type = certs::ascii_lower(k.type);
  if (type.rfind("rsa", 0) == 0) return k.bits < 2048;
  if (type == "ec") return k.bits < 256;
  if (type == "dsa") return true;  // DSA is refused by every browser, at any size
  return false;                    // Ed25519, Ed448
}

// "SHA-1" / "MD5" when the signature algorithm uses a broken hash, empty otherwise.
std::string weak_hash(std::string_view sig_alg) {
  const std::string s = certs::ascii_lower(sig_alg);
  if (s.find("md5") != std::string::npos) return "MD5";
  if (s.find("md2") != std::string::npos) return "MD2";
  if (s.find("md4") != std::string::npos) return "MD4";
  if (s.find("sha1") != std::string::npos || s.find("sha-1") != std::string::npos) return "SHA-1";
  return {};
}

void check_crypto(const HandshakeFacts& facts, Findings& out) {
  const Role role = facts.obs->role;
  for (const auto& pc : facts.path_certs) {
    const auto& c = pc.cert;
    // Every certificate of the path, the trust anchor included: a P-192 or RSA-1024 root
    // makes the whole path as weak as its key (clients at security level 2 refuse it).
    if (key_is_weak(c.key())) {
      auto f = make_finding(codes::key_weak, Severity::error, role, subject_of(facts.endpoint, c));
      add_path_evidence(f, pc);
      add_handshake_evidence(f, *facts.obs);
      f.evidence["key_type"] = c.key().type;
      f.evidence["key_bits"] = std::to_string(c.key().bits);
      if (!c.key().curve.empty()) f.evidence["key_curve"] = c.key().curve;
      // Chromium's ERR_CERT_WEAK_KEY applies to RSA below 1024 bits only: it loads a page
      // with RSA-1024 (curl and OpenSSL at security level 2 still refuse it).
      const bool browser_accepts =
          certs::ascii_lower(c.key().type).rfind("rsa", 0) == 0 && c.key().bits >= 1024;
      f.evidence["browser_accepts"] = browser_accepts ? "true" : "false";
      if (browser_accepts)
        f.equivalents["chrome"] = "none (Chrome accepts RSA keys of 1024 bits and more)";
      explain(f, pc.position == Position::leaf ? "" : "ca");
      out.push_back(std::move(f));
    }
    // A root's self-signature is not checked by clients, and a self-signed leaf's
    // signature is its own root signature: cert.self_signed covers it.
    if (pc.position == Position::root || c.is_self_signed()) continue;
    if (auto h = weak_hash(c.signature_algorithm()); !h.empty()) {
      auto f = make_finding(codes::sig_weak, Severity::error, role, subject_of(facts.endpoint, c));
      add_path_evidence(f, pc);
      add_handshake_evidence(f, *facts.obs);
      f.evidence["signature_algorithm"] = c.signature_algorithm();
      f.evidence["weak_hash"] = h;
      explain(f);
      out.push_back(std::move(f));
    }
  }
}

void check_protocol(const HandshakeFacts& facts, Findings& out) {
  const auto& obs = *facts.obs;
  const std::string v = certs::ascii_lower(obs.tls_version);
  const bool old = v == "1.1" || v == "1.0" || v == "ssl3" || v == "3.0" || v == "tlsv1" ||
                   v == "tlsv1.1" || v == "sslv3";
  // A legacy handshake that reached TLS 1.2 means weak ciphers or keys, not an old
  // protocol: no code of ours covers it, so only the version decides here.
  if (!old) return;
  auto f = make_finding(codes::tls_protocol_old, Severity::error, obs.role, facts.endpoint);
  add_handshake_evidence(f, obs);
  f.evidence["tls_version"] = obs.tls_version;
  f.evidence["legacy_handshake"] = obs.legacy_handshake ? "true" : "false";
  f.evidence["cipher"] = obs.cipher;
  explain(f);
  out.push_back(std::move(f));
}

}  // namespace

void check_failure(const HandshakeObservation& obs, Findings& out) {
  const std::string endpoint = endpoint_of(obs.host, obs.port);
  if (obs.outcome == HandshakeOutcome::unreachable) {
    std::string which;
    switch (obs.failure) {
      case FailureKind::dns:
        which = "dns";
        break;
      case FailureKind::refused:
        which = "refused";
        break;
      case FailureKind::connect_timeout:
      case FailureKind::handshake_timeout:
        which = "timeout";
        break;
      default:
        which = "network";
        break;
    }
    auto f = make_finding(codes::probe_unreachable, Severity::error, obs.role, endpoint);
    add_handshake_evidence(f, obs);
    // The port that refused or stayed silent is the one dialled (--connect, --resolve),
    // which need not be the target's.
    if (const auto colon = obs.address.rfind(':'); colon != std::string::npos) {
      const std::string dialled = obs.address.substr(colon + 1);
      if (!dialled.empty() && dialled.find_first_not_of("0123456789") == std::string::npos)
        f.evidence["port"] = dialled;
    }
    f.evidence["which"] = which;
    f.evidence["failure"] = std::string(to_string(obs.failure));
    f.evidence["elapsed_ms"] = elapsed_text(obs.elapsed_ms);
    f.evidence["detail"] = obs.failure_detail;
    explain(f, which);
    out.push_back(std::move(f));
    return;
  }
  if (obs.outcome == HandshakeOutcome::handshake_failed) {
    // The variant picks the sentence a person would say; an alert that says "certificate
    // required" is a client-certificate demand whatever the prober classified it as.
    FailureKind kind = obs.failure;
    const std::string alert = certs::ascii_lower(obs.alert);
    if (alert == "certificate_required" || alert == "certificate required")
      kind = FailureKind::client_cert_required;
    if (kind == FailureKind::alert && (alert == "protocol_version" || alert == "protocol version"))
      kind = FailureKind::no_common_version;
    std::string variant;
    switch (kind) {
      case FailureKind::client_cert_required:
        variant = "client_cert_required";
        break;
      case FailureKind::not_tls:
        variant = "not_tls";
        break;
      case FailureKind::no_common_version:
        variant = "no_common_version";
        break;
      case FailureKind::closed:
        variant = "closed";
        break;
      case FailureKind::alert:
        variant = "alert";
        break;
      case FailureKind::handshake_timeout:
      case FailureKind::connect_timeout:
        variant = "timeout";
        break;
      default:
        variant = "other";
        break;
    }
    auto f = make_finding(codes::tls_handshake_failed, Severity::error, obs.role, endpoint);
    add_handshake_evidence(f, obs);
    f.evidence["failure"] = std::string(to_string(kind));
    f.evidence["alert"] = obs.alert;
    f.evidence["detail"] = obs.failure_detail;
    f.evidence["elapsed_ms"] = elapsed_text(obs.elapsed_ms);
    explain(f, variant);
    out.push_back(std::move(f));
  }
}

void check_chain(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out) {
  check_protocol(facts, out);
  if (facts.obs->chain.empty()) return;
  check_trust(facts, out);
  check_dates(facts, options, out);
  check_crypto(facts, out);
  check_layout(facts, out);
}

}  // namespace tlsprobe::inspect::detail
