// Why a TLS client handshake failed, said once for both handshake engines: the prober's
// memory-BIO engine (proxy/probe/handshake.cpp) and the proxy's upstream TLS over an Asio
// ssl::stream (proxy/tls/upstream_tls.cpp). Each engine gathers the facts it has (how the
// socket ended, OpenSSL's first error reason, the alerts seen) into TlsFailureFacts; the
// pure classify_tls_failure() turns them into a FailureKind and a sentence a person
// understands ("the server requires a client certificate", "no protocol version in
// common"), as mitmproxy's tls layer does with OpenSSL's error tuples.
//
// Compiled into tlsprobe_probe (the prober needs it and does not link the sessions).
#pragma once

#include "inspect/observation.hpp"

#include <string>

namespace tlsprobe::proxy {

// How the transport under the failed handshake ended, if it did.
enum class TransportEnd {
  open,         // the socket is fine: OpenSSL refused (an alert, a protocol error)
  timed_out,    // the handshake's deadline passed
  peer_closed,  // EOF, a reset or a truncated stream from the server mid-handshake
  error,        // another socket error
};

// Everything an engine knows about one failed handshake.
struct TlsFailureFacts {
  TransportEnd transport = TransportEnd::open;
  std::string transport_error;  // the socket error's text (peer_closed, error)
  // ERR_GET_REASON of OpenSSL's first queued error (0: none). A reason in the alert range
  // (SSL_AD_REASON_OFFSET + description) means the server sent that alert.
  int openssl_reason = 0;
  std::string openssl_text;            // the error queue as text, for the detail
  int alert_received = -1;             // description of the alert the server sent, -1: none
  int alert_sent = -1;                 // description of the alert we sent, -1: none
  bool certificate_requested = false;  // the server sent a CertificateRequest
};

struct TlsFailure {
  inspect::FailureKind kind = inspect::FailureKind::other;
  std::string detail;  // one sentence for people (may be reworded: never parse it)
  std::string alert;   // RFC 8446 name of the alert received (else sent); empty: none
};

// Pure. Order of the rules (first match wins):
//   timed out                                   -> handshake_timeout
//   server closed after asking for a client certificate -> client_cert_required
//   server closed                               -> closed
//   other socket error                          -> network
//   CertificateRequest then handshake_failure / bad_certificate / certificate_unknown, or
//   certificate_required at any time            -> client_cert_required
//   protocol_version alert, or OpenSSL's version reasons -> no_common_version
//   any other alert from the server             -> alert
//   wrong version number / oversized record     -> not_tls (the server does not speak TLS)
//   anything else                               -> other, with OpenSSL's text
TlsFailure classify_tls_failure(const TlsFailureFacts& facts);

// Fills `obs` (outcome handshake_failed, failure, failure_detail, alert) from `failure`.
void record_failure(inspect::HandshakeObservation& obs, TlsFailure failure);

// RFC 8446 name of a TLS alert description ("handshake_failure"); "alert_<n>" if unknown.
std::string alert_name(int description);

// TLS alert descriptions (RFC 8446 section 6, and the TLS 1.2 ones still seen).
inline constexpr int kAlertHandshakeFailure = 40;
inline constexpr int kAlertBadCertificate = 42;
inline constexpr int kAlertCertificateUnknown = 46;
inline constexpr int kAlertUnknownCa = 48;
inline constexpr int kAlertProtocolVersion = 70;
inline constexpr int kAlertInsufficientSecurity = 71;
inline constexpr int kAlertCertificateRequired = 116;

}  // namespace tlsprobe::proxy
