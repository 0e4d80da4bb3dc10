// Internal to inspect/: the checks diagnose() runs, one group per file, and the facts
// they share. Not a public header: tools/ and proxy/ call diagnose() only.
//
// Files: check_chain.cpp (cert.*, chain.*, key.*, sig.*, tls.*, probe.*), check_names.cpp
// (name.*, sni.*), check_edge.cpp (edge.*, origin.*), check_client.cpp (client.*),
// remedies.cpp (message, remedy and equivalents per code, in one table).
#pragma once

#include "certs/chain_path.hpp"
#include "certs/verify.hpp"
#include "inspect/diagnose_options.hpp"
#include "inspect/finding.hpp"
#include "inspect/observation.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::inspect::detail {

// Where a certificate sits on the verified path (evidence["position"]).
enum class Position { leaf, intermediate, root };
std::string_view to_string(Position p);

// One certificate of the path a client verifies, leaf first.
struct PathCert {
  certs::Certificate cert;
  Position position = Position::leaf;
  int depth = 0;            // 0 = leaf, as OpenSSL counts
  bool from_store = false;  // the anchor was taken from the trust store, not sent
  bool is_anchor = false;   // a trust anchor (sent or not)
};

// What every check of one completed handshake needs, computed once.
struct HandshakeFacts {
  const HandshakeObservation* obs = nullptr;
  std::string endpoint;              // "host:port" ("[v6]:port")
  std::string requested_name;        // the name a client checks the leaf against
  certs::ChainPath path;             // certs::analyze_chain of the presented chain
  std::vector<PathCert> path_certs;  // the path (plus the store's anchor), leaf first
  certs::VerifyResult verify;        // OpenSSL with name and time (evidence only)
  certs::TimePoint verify_at{};      // DiagnoseOptions::at
};

// Handshakes of these roles get certificate findings; nosni/othersni only explain others.
bool is_main_role(Role r);
// "host:port", bracketing IPv6 literals.
std::string endpoint_of(std::string_view host, std::uint16_t port);
// "host:port (subject DN)": the Finding.subject of a finding about one certificate.
std::string subject_of(std::string_view endpoint, const certs::Certificate& cert);
// Lower case, trailing dot removed: the form names are compared in.
std::string normalize_name(std::string_view name);
// Joins with ", ".
std::string join(const std::vector<std::string>& parts, std::string_view sep = ", ");
// Whole days from `from` to `to` (negative when `to` is earlier), rounded toward zero.
long long days_between(certs::TimePoint from, certs::TimePoint to);

// Only for completed handshakes with a non-empty chain.
HandshakeFacts analyze_handshake(const HandshakeObservation& obs, const DiagnoseOptions& options,
                                 const certs::TrustStore& trust);

// A finding with code, severity, role and subject; message, remedy and equivalents are
// filled later by explain() from the evidence.
Finding make_finding(std::string_view code, Severity severity, Role role, std::string subject);
// Adds subject DN, CN, sha256, dates and names of `cert` to the evidence, keys prefixed
// with `prefix` ("edge_" -> "edge_sha256").
void add_cert_evidence(Finding& f, const certs::Certificate& cert, std::string_view prefix = "");

// check_chain.cpp
// probe.unreachable / tls.handshake_failed for a handshake that did not complete.
void check_failure(const HandshakeObservation& obs, Findings& out);
// cert.*, chain.*, key.*, sig.*, tls.protocol_old for a completed handshake.
void check_chain(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out);

// check_verify.cpp
// The floor: every error OpenSSL recorded for the handshake is explained by an error
// finding (a specific code, or chain.verify_failed). Runs after check_chain and check_names.
void check_verify_floor(const HandshakeFacts& facts, Findings& out);

// check_profile.cpp
// cert.profile warnings (CA/Browser Forum Baseline Requirements rules browsers tolerate)
// for every certificate of the path, anchors included.
void check_profile(const HandshakeFacts& facts, Findings& out);

// check_names.cpp
// name.mismatch, or sni.default_cert when the leaf is the server's default certificate.
void check_names(const HandshakeFacts& facts, const Observations& obs, Findings& out);
// sni.required: once per target, from the nosni handshakes.
void check_sni_required(const Observations& obs, Findings& out);
// "www_vs_apex" | "ip_address" | "wildcard_depth" | "other_names", and the SAN that
// explains it (empty for other_names / ip_address).
struct MismatchHint {
  std::string hint;
  std::string closest_name;
};
MismatchHint mismatch_hint(const certs::Certificate& leaf, std::string_view requested_name);

// check_edge.cpp
// edge.stale / edge.mismatch for one edge (or direct) handshake against the origin's.
void check_edge(const HandshakeFacts& edge, const HandshakeFacts& origin,
                const DiagnoseOptions& options, Findings& out);
// origin.untrusted, given the origin handshake's own findings.
void check_origin(const HandshakeFacts& origin, const Findings& origin_findings, Findings& out);

// check_client.cpp
void check_client(const Observations& obs, Findings& out);

// check_aia.cpp
// Amends the chain.incomplete finding of one handshake (or the chain.untrusted_root one for
// an issuer that was not sent) with what its AIA fetches prove: the chain completes with the
// fetched issuer (then it is chain.incomplete), there is still no trusted path, or the fetch
// failed. Nothing when no fetch was made.
void check_aia(const HandshakeFacts& facts, const certs::TrustStore& trust, Findings& group);

// check_partial.cpp
// tls.handshake_failed for a handshake that completed without a server certificate.
void check_no_certificate(const HandshakeObservation& obs, Findings& out);
// Says in the tls.handshake_failed finding of a client-certificate refusal that the chain
// sent before it was judged (chain_judged()).
void note_chain_judged(const HandshakeObservation& obs, Findings& group);

// check_revocation.cpp
// cert.revoked, revocation.unknown and ocsp.* from the staple, --crl CRLs and online lookups.
void check_revocation(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out);

// check_ct.cpp
// ct.insufficient_scts (Chrome's CT policy, system roots only) and ct.sct_invalid.
void check_ct(const HandshakeFacts& facts, const DiagnoseOptions& options, Findings& out);
// check_compat.cpp (issue 15 item 1)
// tls.cipher_mismatch, tls.weak_key_exchange, tls.no_forward_secrecy, tls.obsolete_cipher
// and tls.old_protocol_enabled, once per target, from the main handshake, the cheap
// compatibility handshakes (obs.compat) and the enumeration (obs.scan) when there is one.
void check_compat(const Observations& obs, Findings& out);
// Rewrites the tls.handshake_failed finding of a failed main handshake in words when the
// reason is known: a DH group clients refuse ("dh key too small"), a server that accepts
// only NULL or anonymous suites, or only suites current clients no longer offer.
void refine_failure(const HandshakeObservation& h, const CompatFacts& compat, Findings& group);
// A sentence for a raw OpenSSL failure text ("error:0A00018A:SSL routines::dh key too
// small"), and the matching remedy; empty when the text is not one we know.
struct FailureWords {
  std::string reason, remedy;
};
FailureWords failure_in_words(std::string_view openssl_detail);
// check_known_bad_root.cpp (issue 15 item 2)
// cert.known_bad_root for every certificate of the path whose key is known bad.
void check_known_bad_root(const HandshakeFacts& facts, Findings& out);

// check_interception.cpp (issue 15 item 2)
// tls.intercepted when a CA of the chain (or the anchor) is a TLS-interception product's.
void check_interception(const HandshakeFacts& facts, Findings& out);

// check_client_cert.cpp (issue 15 item 3)
// tls.client_cert_requested for a completed handshake whose server asked for a client
// certificate; for a handshake refused for want of one, the tls.handshake_failed finding in
// `group` is amended with the CA names the server accepts.
void check_client_cert(const HandshakeObservation& obs, Findings& group);

// remedies.cpp
// Fills message, remedy and the equivalents not already set, from the table row for
// `f.code` (or "code#variant" when `variant` is given), substituting {evidence_key} and
// {subject} placeholders.
void explain(Finding& f, std::string_view variant = {});

// diagnose.cpp
// Sets browser_shows on the one finding of one handshake that Chrome would show.
void mark_browser_shows(Findings& one_handshake);

}  // namespace tlsprobe::inspect::detail
