#include "proxy/session/reverse_upstream.hpp"

namespace tlsprobe::proxy {

std::string observation_address(const tcp::endpoint& ep) {
  return config::format_host_port(ep.address().to_string(), ep.port());
}

asio::awaitable<inspect::HandshakeObservation> origin_handshake(SessionConnection& conn,
                                                                UpstreamTls& tls,
                                                                OriginStream& stream,
                                                                const OriginHandshakeSpec& spec) {
  UpstreamSpec us;
  us.host = spec.name;
  us.port = spec.port;
  us.address = spec.address;
  us.sni = spec.sni;
  conn.expires_after(spec.timeout);
  auto obs = co_await tls.handshake(stream, us);
  obs.role = inspect::Role::origin;
  if (obs.outcome != inspect::HandshakeOutcome::ok && conn.timed_out) {
    obs.failure = inspect::FailureKind::handshake_timeout;
    obs.failure_detail = "the origin did not complete the TLS handshake within " +
                         std::to_string(spec.timeout.count()) + " ms";
  }
  co_return obs;
}

}  // namespace tlsprobe::proxy
