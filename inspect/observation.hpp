// What the network saw, as plain data: diagnosis reads these and never touches a socket.
#pragma once

#include "certs/certificate.hpp"
#include "inspect/finding.hpp"
#include "inspect/tls_facts.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::inspect {

enum class HandshakeOutcome {
  ok,                // a TLS handshake completed (whatever the certificate)
  unreachable,       // no TCP connection: DNS failure, refused, connect timeout
  handshake_failed,  // TCP connected but no TLS handshake completed
};

// Why a connection or handshake failed, as a person would say it.
enum class FailureKind {
  none,
  dns,                   // the name did not resolve
  refused,               // connection refused
  connect_timeout,       // no answer to the TCP connect in time
  network,               // other socket error (unreachable network, reset before TLS…)
  handshake_timeout,     // connected, but the handshake did not finish in time
  not_tls,               // the server answered with something that is not TLS (e.g. HTTP)
  closed,                // the server closed the connection during the handshake
  alert,                 // the server sent a TLS alert (alert name in `alert`)
  no_common_version,     // no protocol version in common
  client_cert_required,  // the server requires a client certificate
  other,
};

std::string_view to_string(FailureKind k);

// One fetch of a missing issuer from an AIA caIssuers URL, as Chrome does it (the prober
// makes these when the chain it was sent does not reach a trust anchor).
struct AiaFetch {
  std::string url;          // the caIssuers URL, as the certificate names it
  std::string for_subject;  // the certificate whose issuer was fetched (RFC 4514 DN)
  bool ok = false;
  bool from_cache = false;  // answered from the fetcher's per-URL cache
  std::string error;        // one line when !ok ("timed out after 5000 ms", "HTTP status 404")
  certs::Chain certs;       // what the URL served (one DER certificate, or PKCS#7 certs-only)
  double elapsed_ms = 0;
};

// One online revocation lookup for the leaf (probe --revocation): an OCSP POST to the
// responder its AIA names, or else the CRL from its CRL distribution point. The prober
// fetches; diagnosis judges the answer (certs/ocsp_response.hpp, certs/crl.hpp).
struct RevocationLookup {
  std::string kind;      // "ocsp" or "crl"
  std::string url;       // as the certificate names it
  bool ok = false;       // an answer came back (not yet judged)
  std::string error;     // one line when !ok ("timed out after 5000 ms")
  std::string response;  // DER: the OCSPResponse or the CRL
  std::string nonce;     // OCSP: "echoed", "absent" (the responder ignores nonces)
  bool from_cache = false;
  double elapsed_ms = 0;
};

// One TLS handshake made (or tried) against one address.
struct HandshakeObservation {
  Role role = Role::direct;  // direct, edge, origin, nosni, othersni
  std::string host;          // the name asked for (target host; may be an IP literal)
  std::uint16_t port = 443;
  std::string address;             // "ip:port" actually dialled ("[v6]:port" for IPv6)
  std::optional<std::string> sni;  // the SNI sent; nullopt = none sent
  HandshakeOutcome outcome = HandshakeOutcome::ok;
  FailureKind failure = FailureKind::none;
  std::string failure_detail;  // OpenSSL reason or socket error text
  std::string alert;           // TLS alert description received, if any ("handshake_failure")
  double elapsed_ms = 0;       // time spent until success or failure
  std::string tls_version;     // "1.3", "1.2", "1.1", "1.0" (best the server agreed to)
  // True when the version above was only reached by a legacy handshake (TLS 1.1 or older
  // with the security level lowered), because TLS 1.2/1.3 failed.
  bool legacy_handshake = false;
  std::string cipher;  // OpenSSL cipher name
  std::string alpn;    // negotiated ALPN, empty when none
  // Key exchange of a completed handshake (SSL_get_peer_tmp_key): "X25519", "P-256",
  // "ffdhe2048", or "DH" for a finite-field group that is none of the standard ones;
  // empty for RSA key exchange. kex_bits: the size of that key (EVP_PKEY_bits).
  std::string kex_group;
  int kex_bits = 0;
  certs::Chain chain;  // as presented, in the order sent
  // AIA: the issuers fetched because `chain` does not reach a trust anchor, in hop order
  // (empty when nothing was missing, there was no http URL, or fetching is off), and the
  // chain they repair: leaf, then the intermediates (sent and fetched) in issuer order, no
  // self-signed root; empty unless the fetched issuers complete a path to a trust anchor.
  std::vector<AiaFetch> aia_fetches;
  certs::Chain completed_chain;
  // Revocation and transparency (every handshake asks for a staple and for SCTs): the
  // OCSPResponse the server stapled (DER; empty: none), the SCTs it sent in the TLS
  // extension (each in its TLS encoding), and the online lookups made for the leaf.
  std::string ocsp_staple;
  std::vector<std::string> tls_scts;
  std::vector<RevocationLookup> revocation_lookups;
  // The server sent a CertificateRequest (issue 15 item 3), and the distinguished names of
  // the CAs it accepts client certificates from (RFC 4514; empty: it named none, any CA).
  bool client_cert_requested = false;
  // We offered a client certificate (probe --cert/--key): a request is then answered.
  bool client_cert_offered = false;
  std::vector<std::string> client_ca_names;
};

// True when the chain of `h` is judged: the handshake completed, or it failed only for want
// of a client certificate after the server had sent its chain (TLS 1.2: after the server's
// Certificate; TLS 1.3: after our Finished).
bool chain_judged(const HandshakeObservation& h);

// What a client sent in its ClientHello (proxy: tunnel and intercept modes).
struct ClientHelloObservation {
  std::optional<std::string> sni;
  std::vector<std::string> alpn;
  std::vector<std::string> versions;  // "1.3", "1.2", … from supported_versions or legacy
  std::string connect_host;           // host named in CONNECT or Host
  std::string http_host;              // HTTP Host seen inside (intercept/reverse), if any
};

// One target's observations: the main handshake(s) and the extra ones that explain them.
struct Observations {
  std::string target;  // "host:port" as the user named it
  std::string host;
  std::uint16_t port = 443;
  std::vector<HandshakeObservation> handshakes;
  std::optional<ClientHelloObservation> client;
  // Issue 15 item 1: the cheap compatibility handshakes of every probe, and the full
  // enumeration when it was asked for (probe --clients / --deep).
  CompatFacts compat;
  std::optional<TlsScan> scan;
};

}  // namespace tlsprobe::inspect
