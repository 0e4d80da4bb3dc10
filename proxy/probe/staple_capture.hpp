// What a probe handshake asks for and keeps for revocation and Certificate Transparency:
// a stapled OCSP response (status_request) and SCTs in the TLS extension
// (signed_certificate_timestamp), as browsers ask for them. Diagnosis judges them.
#pragma once

#include "inspect/observation.hpp"

#include <openssl/ssl.h>

namespace tlsprobe::proxy {

// Before the handshake: request the staple and the SCT extension. The CT callback accepts
// every SCT list: the probe records, diagnosis judges against the user's log list.
void request_staple_and_scts(SSL* ssl);
// After the handshake: the stapled response (DER) and the TLS-extension SCTs into `obs`.
void capture_staple_and_scts(SSL* ssl, inspect::HandshakeObservation& obs);

}  // namespace tlsprobe::proxy
