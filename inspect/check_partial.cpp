// Handshakes that give less than a full view:
//  - a handshake that "completed" without a server certificate (an anonymous cipher suite):
//    nothing authenticated the server, so it is a failed handshake, never "ok";
//  - a handshake refused for want of a client certificate after the server had sent its
//    chain: the chain is judged anyway, and the failure finding says so.
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

namespace tlsprobe::inspect::detail {

void check_no_certificate(const HandshakeObservation& obs, Findings& out) {
  auto f = make_finding(codes::tls_handshake_failed, Severity::error, obs.role,
                        endpoint_of(obs.host, obs.port));
  f.evidence["host"] = obs.host;
  f.evidence["port"] = std::to_string(obs.port);
  f.evidence["address"] = obs.address;
  f.evidence["sni"] = obs.sni.value_or("");
  f.evidence["failure"] = "no_certificate";
  f.evidence["cipher"] = obs.cipher;
  f.evidence["tls_version"] = obs.tls_version;
  f.evidence["detail"] = "the server sent no certificate (cipher suite " +
                         (obs.cipher.empty() ? std::string("unknown") : obs.cipher) +
                         "): nothing authenticates it, and no client accepts that";
  explain(f);
  out.push_back(std::move(f));
}

void note_chain_judged(const HandshakeObservation& obs, Findings& group) {
  for (auto& f : group) {
    if (f.code != codes::tls_handshake_failed) continue;
    f.evidence["chain_judged"] = "true";
    f.evidence["certificates_sent"] = std::to_string(obs.chain.size());
    f.message += " The server sent its certificate chain (" + std::to_string(obs.chain.size()) +
                 (obs.chain.size() == 1 ? " certificate" : " certificates") +
                 ") before that: it is judged in the other findings.";
  }
}

}  // namespace tlsprobe::inspect::detail
