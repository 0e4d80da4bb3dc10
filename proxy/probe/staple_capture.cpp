#include "proxy/probe/staple_capture.hpp"

#include <openssl/ct.h>
#include <openssl/err.h>

namespace tlsprobe::proxy {

namespace {

int accept_any_scts(const CT_POLICY_EVAL_CTX*, const STACK_OF(SCT) *, void*) { return 1; }

}  // namespace

void request_staple_and_scts(SSL* ssl) {
  SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
  if (SSL_set_ct_validation_callback(ssl, accept_any_scts, nullptr) != 1) ERR_clear_error();
}

void capture_staple_and_scts(SSL* ssl, inspect::HandshakeObservation& obs) {
  const unsigned char* staple = nullptr;
  const long len = SSL_get_tlsext_status_ocsp_resp(ssl, &staple);
  if (staple && len > 0)
    obs.ocsp_staple.assign(reinterpret_cast<const char*>(staple), static_cast<std::size_t>(len));
  obs.tls_scts.clear();
  // Parses the SCTs of all three sources; only the TLS extension's are not found elsewhere
  // (embedded ones are in the leaf, stapled ones in the response).
  if (const STACK_OF(SCT)* scts = SSL_get0_peer_scts(ssl)) {
    for (int i = 0; i < sk_SCT_num(scts); ++i) {
      SCT* sct = sk_SCT_value(scts, i);
      if (SCT_get_source(sct) != SCT_SOURCE_TLS_EXTENSION) continue;
      unsigned char* out = nullptr;
      const int n = i2o_SCT(sct, &out);
      if (n > 0)
        obs.tls_scts.emplace_back(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
      OPENSSL_free(out);
    }
  }
  ERR_clear_error();
}

}  // namespace tlsprobe::proxy
