// The one rule that says whether the proxy may vouch for an upstream (intercept: relay
// behind a minted leaf; reverse: forward to the origin): the decision sits on the result,
// as BoringSSL's pki puts it on CertPathBuilder::Result, never inside a session.
#pragma once

#include "certs/verify.hpp"
#include "inspect/finding.hpp"

namespace tlsprobe::inspect {

// True when OpenSSL verified the path (trust, name, dates: `verify.ok`) AND no finding of
// severity error is about the upstream handshake itself (`role`: direct for intercept,
// origin for reverse): a weak key or a SHA-1 signature fails the upstream even when
// OpenSSL accepts the path. Findings of other roles (client.*, the nosni/othersni proof
// handshakes) never decide. Pure.
bool upstream_acceptable(const certs::VerifyResult& verify, const Findings& findings, Role role);

}  // namespace tlsprobe::inspect
