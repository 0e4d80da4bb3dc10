#include "inspect/observation.hpp"

namespace tlsprobe::inspect {

std::string_view to_string(FailureKind k) {
  switch (k) {
    case FailureKind::none:
      return "none";
    case FailureKind::dns:
      return "dns";
    case FailureKind::refused:
      return "refused";
    case FailureKind::connect_timeout:
      return "connect_timeout";
    case FailureKind::network:
      return "network";
    case FailureKind::handshake_timeout:
      return "handshake_timeout";
    case FailureKind::not_tls:
      return "not_tls";
    case FailureKind::closed:
      return "closed";
    case FailureKind::alert:
      return "alert";
    case FailureKind::no_common_version:
      return "no_common_version";
    case FailureKind::client_cert_required:
      return "client_cert_required";
    case FailureKind::other:
      return "other";
  }
  return "other";
}

bool chain_judged(const HandshakeObservation& h) {
  if (h.outcome == HandshakeOutcome::ok) return true;
  return h.outcome == HandshakeOutcome::handshake_failed &&
         h.failure == FailureKind::client_cert_required && !h.chain.empty();
}

}  // namespace tlsprobe::inspect
