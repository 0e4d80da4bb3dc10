// Client certificates (issue 15 item 3). A server that sends a CertificateRequest names the
// CAs whose client certificates it accepts (certificate_authorities; an empty list means
// "any"). tls.client_cert_requested reports that for a handshake that completed without one
// (client authentication optional); when the server refused us for want of a certificate,
// the tls.handshake_failed finding says which CAs it wants and how to pass one.
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

namespace tlsprobe::inspect::detail {

namespace {

std::string ca_list_text(const std::vector<std::string>& names) {
  if (names.empty()) return "any CA (the server named none)";
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += "; ";
    out += n;
  }
  return out;
}

}  // namespace

void check_client_cert(const HandshakeObservation& obs, Findings& group) {
  // A request we answered with --cert/--key is no finding: the client had what was asked.
  if (!obs.client_cert_requested || obs.client_cert_offered) return;
  if (obs.outcome == HandshakeOutcome::ok) {
    auto f = make_finding(codes::tls_client_cert_requested, Severity::info, obs.role,
                          endpoint_of(obs.host, obs.port));
    f.evidence["host"] = obs.host;
    f.evidence["port"] = std::to_string(obs.port);
    f.evidence["address"] = obs.address;
    f.evidence["accepted_cas"] = ca_list_text(obs.client_ca_names);
    f.evidence["accepted_ca_count"] = std::to_string(obs.client_ca_names.size());
    f.evidence["handshake_completed"] = "true";
    explain(f);
    group.push_back(std::move(f));
    return;
  }
  if (obs.failure != FailureKind::client_cert_required) return;
  for (auto& f : group) {
    if (f.code != codes::tls_handshake_failed) continue;
    f.evidence["accepted_cas"] = ca_list_text(obs.client_ca_names);
    f.evidence["accepted_ca_count"] = std::to_string(obs.client_ca_names.size());
    f.message +=
        " It accepts client certificates issued by: " + ca_list_text(obs.client_ca_names) + ".";
    f.remedy =
        "Pass a client certificate issued by one of those CAs, with its key: tlsprobe "
        "`--cert client.pem --key client.key`, curl `--cert client.pem --key client.key`, "
        "openssl s_client `-cert client.pem -key client.key`. Or make client authentication "
        "optional for this name (nginx `ssl_verify_client optional;`, Apache `SSLVerifyClient "
        "optional`).";
  }
}

}  // namespace tlsprobe::inspect::detail
