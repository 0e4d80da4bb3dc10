#include "proxy/tls/tls_failure.hpp"

#include <openssl/ssl.h>

namespace tlsprobe::proxy {

using inspect::FailureKind;

namespace {

bool is_version_reason(int reason) {
  return reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
         reason == SSL_R_VERSION_TOO_LOW || reason == SSL_R_WRONG_SSL_VERSION;
}

// What a server that does not speak TLS makes OpenSSL say: the first bytes do not read as a
// TLS record header (an HTTP answer, an SSH banner).
bool is_not_tls_reason(int reason) {
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG;
}

// The alerts a server sends when it refuses the client certificate we did not send.
bool refuses_missing_client_cert(int alert) {
  return alert == kAlertHandshakeFailure || alert == kAlertCertificateRequired ||
         alert == kAlertBadCertificate || alert == kAlertCertificateUnknown;
}

TlsFailure make(FailureKind kind, std::string detail, std::string alert) {
  TlsFailure f;
  f.kind = kind;
  f.detail = std::move(detail);
  f.alert = std::move(alert);
  return f;
}

}  // namespace

TlsFailure classify_tls_failure(const TlsFailureFacts& facts) {
  int received = facts.alert_received;
  // OpenSSL reports a received alert as the reason SSL_AD_REASON_OFFSET + description
  // (SSL_R_SSLV3_ALERT_*, SSL_R_TLSV1_ALERT_*): the engine without a message callback
  // learns the alert this way.
  if (received < 0 && facts.openssl_reason >= SSL_AD_REASON_OFFSET &&
      facts.openssl_reason < SSL_AD_REASON_OFFSET + 256)
    received = facts.openssl_reason - SSL_AD_REASON_OFFSET;
  const std::string received_name = received >= 0 ? alert_name(received) : std::string();

  switch (facts.transport) {
    case TransportEnd::timed_out:
      return make(FailureKind::handshake_timeout, "the TLS handshake did not finish in time",
                  received_name);
    case TransportEnd::peer_closed:
      if (facts.certificate_requested)
        return make(FailureKind::client_cert_required, "the server requires a client certificate",
                    received_name);
      return make(
          FailureKind::closed,
          "the server closed the connection during the handshake" +
              (facts.transport_error.empty() ? std::string() : " (" + facts.transport_error + ")"),
          received_name);
    case TransportEnd::error:
      return make(FailureKind::network,
                  facts.transport_error.empty() ? "socket error" : facts.transport_error,
                  received_name);
    case TransportEnd::open:
      break;
  }
  const std::string alert = received >= 0           ? received_name
                            : facts.alert_sent >= 0 ? alert_name(facts.alert_sent)
                                                    : std::string();
  const std::string& text = facts.openssl_text;
  if ((facts.certificate_requested && refuses_missing_client_cert(received)) ||
      received == kAlertCertificateRequired)
    return make(FailureKind::client_cert_required, "the server requires a client certificate",
                alert);
  if (received == kAlertProtocolVersion || facts.alert_sent == kAlertProtocolVersion ||
      is_version_reason(facts.openssl_reason))
    return make(FailureKind::no_common_version,
                "no protocol version in common" + (text.empty() ? "" : " (" + text + ")"), alert);
  if (received >= 0)
    return make(FailureKind::alert, "the server sent the TLS alert " + received_name, alert);
  if (is_not_tls_reason(facts.openssl_reason))
    return make(FailureKind::not_tls,
                "the server does not speak TLS" + (text.empty() ? "" : " (" + text + ")"), alert);
  return make(FailureKind::other, text.empty() ? "the TLS handshake failed" : text, alert);
}

void record_failure(inspect::HandshakeObservation& obs, TlsFailure failure) {
  obs.outcome = inspect::HandshakeOutcome::handshake_failed;
  obs.failure = failure.kind;
  obs.failure_detail = std::move(failure.detail);
  if (!failure.alert.empty()) obs.alert = std::move(failure.alert);
}

std::string alert_name(int d) {
  switch (d) {
    case 0:
      return "close_notify";
    case 10:
      return "unexpected_message";
    case 20:
      return "bad_record_mac";
    case 21:
      return "decryption_failed";
    case 22:
      return "record_overflow";
    case 30:
      return "decompression_failure";
    case 40:
      return "handshake_failure";
    case 41:
      return "no_certificate";
    case 42:
      return "bad_certificate";
    case 43:
      return "unsupported_certificate";
    case 44:
      return "certificate_revoked";
    case 45:
      return "certificate_expired";
    case 46:
      return "certificate_unknown";
    case 47:
      return "illegal_parameter";
    case 48:
      return "unknown_ca";
    case 49:
      return "access_denied";
    case 50:
      return "decode_error";
    case 51:
      return "decrypt_error";
    case 60:
      return "export_restriction";
    case 70:
      return "protocol_version";
    case 71:
      return "insufficient_security";
    case 80:
      return "internal_error";
    case 86:
      return "inappropriate_fallback";
    case 90:
      return "user_canceled";
    case 100:
      return "no_renegotiation";
    case 109:
      return "missing_extension";
    case 110:
      return "unsupported_extension";
    case 111:
      return "certificate_unobtainable";
    case 112:
      return "unrecognized_name";
    case 113:
      return "bad_certificate_status_response";
    case 115:
      return "unknown_psk_identity";
    case 116:
      return "certificate_required";
    case 120:
      return "no_application_protocol";
    default:
      return "alert_" + std::to_string(d);
  }
}

}  // namespace tlsprobe::proxy
