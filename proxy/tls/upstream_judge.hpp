// The verdict on an upstream handshake, the same way for intercept (role direct) and
// reverse (role origin): from the verdict cache, or verified and diagnosed now
// (UpstreamTls::verdict); and when the leaf does not cover the name, the side probe's
// no-SNI and unknown-SNI handshakes (cached per host) are awaited, bounded, to tell
// sni.default_cert (the server's default certificate) from a plain name.mismatch.
#pragma once

#include "proxy/net/session_connection.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

namespace tlsprobe::proxy {

// How long past its own timeout a side probe is waited for: SideProbe answers within
// request.timeout "plus a small margin" (its done callback runs on the prober's thread).
inline constexpr std::chrono::milliseconds kSideProbeSlack{1000};

// Waits on `conn`'s strand for the side probe of `req` (started, joined or cached), at most
// req.timeout + kSideProbeSlack; moves conn's deadline past that. Null when none came in time.
boost::asio::awaitable<std::shared_ptr<const SideProbeResult>> await_side_probe(
    SessionConnection& conn, SideProbe& side, const SideProbeRequest& req);

// The verdict for `handshake` (outcome ok). `side` may be null (no side probe: no
// sni.default_cert proof); `proof` says what to ask it for (host, port, dialled address, SNI,
// timeout), asked only when the verdict has a name.mismatch finding and no cached verdict.
boost::asio::awaitable<std::shared_ptr<const UpstreamVerdict>> judge_upstream(
    SessionConnection& conn, UpstreamTls& tls, const inspect::HandshakeObservation& handshake,
    SideProbe* side, const SideProbeRequest& proof);

// True when the verdict's findings say the leaf does not cover the name verified.
bool names_mismatch(const UpstreamVerdict& verdict);

}  // namespace tlsprobe::proxy
