// Every finding code, one per line, each under its one-line meaning (DESIGN.md section 3).
// Codes are stable: logs, JSON output, metrics and tests key on them. Never rename one.
#pragma once

#include <array>
#include <string_view>

namespace tlsprobe::inspect::codes {

// A certificate on the verified path is past notAfter at the evaluation time.
inline constexpr std::string_view cert_expired = "cert.expired";
// A certificate on the path is before notBefore (or the client's clock is wrong).
inline constexpr std::string_view cert_not_yet_valid = "cert.not_yet_valid";
// notAfter is within warn_days.
inline constexpr std::string_view cert_expiring_soon = "cert.expiring_soon";
// The leaf is its own issuer and not a trust anchor.
inline constexpr std::string_view cert_self_signed = "cert.self_signed";
// The chain ends in a root that is not in the trust store.
inline constexpr std::string_view chain_untrusted_root = "chain.untrusted_root";
// The server did not send an intermediate needed to reach a trusted root.
inline constexpr std::string_view chain_incomplete = "chain.incomplete";
// All certificates are there but not leaf-first in issuer order.
inline constexpr std::string_view chain_wrong_order = "chain.wrong_order";
// The trust anchor itself was sent.
inline constexpr std::string_view chain_contains_root = "chain.contains_root";
// Certificates that are not on the path were sent.
inline constexpr std::string_view chain_extra_certs = "chain.extra_certs";
// A sent issuer may not issue certificates (no CA:TRUE, no keyCertSign, v1 as a CA).
inline constexpr std::string_view chain_not_a_ca = "chain.not_a_ca";
// A CA's pathLenConstraint is exceeded.
inline constexpr std::string_view chain_path_length = "chain.path_length";
// A name on the path violates a CA's permitted or excluded subtree.
inline constexpr std::string_view chain_name_constraints = "chain.name_constraints";
// Catch-all: OpenSSL rejects for a reason without a code of its own (code and text).
inline constexpr std::string_view chain_verify_failed = "chain.verify_failed";
// No serverAuth in the EKU, or a key usage that does not fit.
inline constexpr std::string_view cert_bad_purpose = "cert.bad_purpose";
// An unhandled critical extension (OID).
inline constexpr std::string_view cert_critical_extension = "cert.critical_extension";
// Duplicate or unparseable extensions, an empty issuer, a bad SAN encoding.
inline constexpr std::string_view cert_malformed = "cert.malformed";
// A CA/Browser Forum profile rule that browsers tolerate (the rule is named).
inline constexpr std::string_view cert_profile = "cert.profile";
// The leaf does not cover the requested name.
inline constexpr std::string_view name_mismatch = "name.mismatch";
// The name is not covered and the certificate is the server's default one.
inline constexpr std::string_view sni_default_cert = "sni.default_cert";
// The server refuses clients that send no SNI.
inline constexpr std::string_view sni_required = "sni.required";
// RSA < 2048 bits, EC < 256 bits.
inline constexpr std::string_view key_weak = "key.weak";
// SHA-1 or MD5 signature on a non-root certificate.
inline constexpr std::string_view sig_weak = "sig.weak";
// The best protocol the server speaks is TLS 1.1 or older.
inline constexpr std::string_view tls_protocol_old = "tls.protocol_old";
// No handshake: alert or reason in the message.
inline constexpr std::string_view tls_handshake_failed = "tls.handshake_failed";
// DNS, refused, timeout.
inline constexpr std::string_view probe_unreachable = "probe.unreachable";
// Edge and origin leaves differ and the origin's is newer.
inline constexpr std::string_view edge_stale = "edge.stale";
// Edge leaf differs from the origin's in a way that is not staleness.
inline constexpr std::string_view edge_mismatch = "edge.mismatch";
// The origin's own chain fails verification.
inline constexpr std::string_view origin_untrusted = "origin.untrusted";
// A client connected without SNI.
inline constexpr std::string_view client_no_sni = "client.no_sni";
// SNI and HTTP Host disagree.
inline constexpr std::string_view client_sni_host_mismatch = "client.sni_host_mismatch";
// An HTTPS page loads http:// subresources.
inline constexpr std::string_view http_mixed_content = "http.mixed_content";
// HTTPS response without Strict-Transport-Security.
inline constexpr std::string_view http_hsts_missing = "http.hsts_missing";
// A plain-HTTP request was answered without a redirect to https.
inline constexpr std::string_view http_no_https_redirect = "http.no_https_redirect";
// The redirect to https is 302/307, not 301/308.
inline constexpr std::string_view http_redirect_not_permanent = "http.redirect_not_permanent";
// --- client compatibility (issue 15 item 1) ---
// Current browsers find no suite (or version) in common: ERR_SSL_VERSION_OR_CIPHER_MISMATCH.
inline constexpr std::string_view tls_cipher_mismatch = "tls.cipher_mismatch";
// Finite-field DH under 2048 bits, or a group that is none of the standard ones.
inline constexpr std::string_view tls_weak_key_exchange = "tls.weak_key_exchange";
// A suite without forward secrecy (RSA key exchange) is negotiated or accepted.
inline constexpr std::string_view tls_no_forward_secrecy = "tls.no_forward_secrecy";
// No AEAD suite (CBC only): Chrome's "obsolete connection settings".
inline constexpr std::string_view tls_obsolete_cipher = "tls.obsolete_cipher";
// TLS 1.0/1.1 still accepted beside TLS 1.2+.
inline constexpr std::string_view tls_old_protocol_enabled = "tls.old_protocol_enabled";

// --- revocation and transparency (issue 16) ---
// Revoked by the stapled OCSP response, the OCSP responder or a CRL (time and reason).
inline constexpr std::string_view cert_revoked = "cert.revoked";
// The revocation status could not be established (responder unreachable, unknown or
// tryLater, a CRL that fails its checks).
inline constexpr std::string_view revocation_unknown = "revocation.unknown";
// The certificate demands a staple (TLS Feature status_request) and none came.
inline constexpr std::string_view ocsp_must_staple_missing = "ocsp.must_staple_missing";
// The stapled OCSP response fails: signature, responder, certificate or freshness.
inline constexpr std::string_view ocsp_staple_invalid = "ocsp.staple_invalid";
// The leaf names an OCSP responder but the server staples no response.
inline constexpr std::string_view ocsp_not_stapled = "ocsp.not_stapled";
// A publicly trusted certificate without the SCTs Chrome's CT policy requires.
inline constexpr std::string_view ct_insufficient_scts = "ct.insufficient_scts";
// An SCT that does not verify against the log list (or names an unknown log).
inline constexpr std::string_view ct_sct_invalid = "ct.sct_invalid";

// --- issue 15 items 2-3: trust environment and client certificates ---
// A certificate of the path has a key that is public or distrusted (Superfish, eDellRoot…).
inline constexpr std::string_view cert_known_bad_root = "cert.known_bad_root";
// The chain is issued by a TLS-interception product's CA (corporate proxy, antivirus).
inline constexpr std::string_view tls_intercepted = "tls.intercepted";
// The server asks for a client certificate; the CA names it accepts.
inline constexpr std::string_view tls_client_cert_requested = "tls.client_cert_requested";

inline constexpr std::array all = {cert_expired,
                                   cert_not_yet_valid,
                                   cert_expiring_soon,
                                   cert_self_signed,
                                   chain_untrusted_root,
                                   chain_incomplete,
                                   chain_wrong_order,
                                   chain_contains_root,
                                   chain_extra_certs,
                                   chain_not_a_ca,
                                   chain_path_length,
                                   chain_name_constraints,
                                   chain_verify_failed,
                                   cert_bad_purpose,
                                   cert_critical_extension,
                                   cert_malformed,
                                   cert_profile,
                                   name_mismatch,
                                   sni_default_cert,
                                   sni_required,
                                   key_weak,
                                   sig_weak,
                                   tls_protocol_old,
                                   tls_handshake_failed,
                                   probe_unreachable,
                                   edge_stale,
                                   edge_mismatch,
                                   origin_untrusted,
                                   client_no_sni,
                                   client_sni_host_mismatch,
                                   http_mixed_content,
                                   http_hsts_missing,
                                   http_no_https_redirect,
                                   http_redirect_not_permanent,
                                   cert_revoked,
                                   revocation_unknown,
                                   ocsp_must_staple_missing,
                                   ocsp_staple_invalid,
                                   ocsp_not_stapled,
                                   ct_insufficient_scts,
                                   ct_sct_invalid,
                                   tls_cipher_mismatch,
                                   tls_weak_key_exchange,
                                   tls_no_forward_secrecy,
                                   tls_obsolete_cipher,
                                   tls_old_protocol_enabled,
                                   cert_known_bad_root,
                                   tls_intercepted,
                                   tls_client_cert_requested};

}  // namespace tlsprobe::inspect::codes
