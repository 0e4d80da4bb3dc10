// client.no_sni and client.sni_host_mismatch, from what the client sent (proxy modes).
#include "certs/name_match.hpp"
#include "inspect/checks.hpp"
#include "inspect/codes.hpp"

namespace tlsprobe::inspect::detail {

namespace {

// "Host" header or CONNECT authority -> bare name: port stripped (IPv6 brackets too),
// lower case, trailing dot removed.
std::string host_without_port(std::string_view hostport) {
  std::string_view h = hostport;
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    h = close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1);
  } else if (h.find(':') == h.rfind(':')) {  // one colon at most: "host:port"
    auto colon = h.find(':');
    if (colon != std::string_view::npos) h = h.substr(0, colon);
  }  // several colons without brackets: a bare IPv6 literal, no port
  return normalize_name(h);
}

}  // namespace

void check_client(const Observations& obs, Findings& out) {
  if (!obs.client) return;
  const auto& c = *obs.client;
  std::string connect_host = host_without_port(c.connect_host);
  if (connect_host.empty()) connect_host = normalize_name(obs.host);
  const std::string subject = obs.target.empty() ? endpoint_of(obs.host, obs.port) : obs.target;

  const bool no_sni = !c.sni || c.sni->empty();
  // An IP literal is never sent as SNI (RFC 6066 section 3): no SNI is correct then.
  if (no_sni && !connect_host.empty() && !certs::is_ip_literal(connect_host)) {
    auto f = make_finding(codes::client_no_sni, Severity::warning, Role::client, subject);
    f.evidence["connect_host"] = connect_host;
    f.evidence["http_host"] = c.http_host;
    f.evidence["alpn"] = join(c.alpn);
    f.evidence["versions"] = join(c.versions);
    explain(f);
    out.push_back(std::move(f));
  }

  // SNI against the CONNECT authority: the proxy connects to one name while the client asks
  // for another (domain fronting, or an attempt to get a leaf for a name the upstream was
  // never verified for; issue 12 item 1). Reported once per connection, apart from Host.
  if (!no_sni && !c.connect_host.empty()) {
    const std::string sni = normalize_name(*c.sni);
    if (!connect_host.empty() && sni != connect_host) {
      auto f =
          make_finding(codes::client_sni_host_mismatch, Severity::warning, Role::client, subject);
      f.evidence["sni"] = *c.sni;
      f.evidence["connect_host"] = c.connect_host;
      explain(f, "connect");
      out.push_back(std::move(f));
    }
  }

  if (!no_sni && !c.http_host.empty()) {
    const std::string sni = normalize_name(*c.sni);
    const std::string http_host = host_without_port(c.http_host);
    if (!http_host.empty() && sni != http_host) {
      auto f =
          make_finding(codes::client_sni_host_mismatch, Severity::warning, Role::client, subject);
      f.evidence["sni"] = *c.sni;
      f.evidence["http_host"] = c.http_host;
      f.evidence["connect_host"] = c.connect_host;
      explain(f);
      out.push_back(std::move(f));
    }
  }
}

}  // namespace tlsprobe::inspect::detail
