// Interception upstream of tlsprobe (issue 15 item 2, proxy mode): the chain the proxy's
// own connection for the client got, compared with the side probe's handshake to the same
// address and SNI. Both leave the same machine; when one path gets a certificate from a
// different organisation than the other, something on the way re-signs one of them (a
// transparent proxy that picks connections by client, SNI, port or TLS fingerprint).
#pragma once

#include "inspect/finding.hpp"
#include "inspect/observation.hpp"

namespace tlsprobe::inspect {

// tls.intercepted (evidence path_differs = "true") when both handshakes completed with a
// chain, their leaves differ, and the leaves' issuers belong to different organisations (a
// site serving an RSA and an ECDSA certificate from the same CA, or renewing between the two
// handshakes, is not reported). The product is named when either issuer is a known
// interception CA. Role of the finding: direct.
Findings compare_paths(const HandshakeObservation& client_path,
                       const HandshakeObservation& side_probe);

}  // namespace tlsprobe::inspect
