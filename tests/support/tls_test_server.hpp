// TlsTestServer: an in-process TLS server on 127.0.0.1 (ephemeral port) that presents a
// chosen chain per SNI and a default chain otherwise, with the knobs the probe and proxy
// tests need (require SNI, legacy-only protocol, client certificate). Blocking OpenSSL on
// a few worker threads; stops in its destructor. See tests/support/README.md.
#pragma once

#include "certs/certificate.hpp"
#include "pki/test_pki.hpp"
#include "support/loopback_server.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

// What the server sends: `chain` in this exact order (chain[0] must be the certificate
// of `key`; OpenSSL always sends it first), nothing built or reordered.
struct ServedChain {
  certs::Chain chain;
  std::shared_ptr<EVP_PKEY> key;

  // leaf first, then `extra` in the given order (intermediates, a root, junk…).
  static ServedChain of(const testpki::Issued& leaf, certs::Chain extra = {});
  // The usual fullchain of a hierarchy: leaf, intermediate.
  static ServedChain of(const testpki::Hierarchy& h);
};

enum class TlsVersions {
  modern,       // TLS 1.2 and 1.3
  tls12_only,   // TLS 1.2
  tls13_only,   // TLS 1.3
  legacy_only,  // TLS 1.0 and 1.1 at security level 0 (tls.protocol_old)
};

struct TlsServerOptions {
  ServedChain default_chain;                  // no SNI, or an SNI not in `by_sni`
  std::map<std::string, ServedChain> by_sni;  // exact, lower-case SNI -> chain
  bool require_sni = false;                   // refuse a ClientHello without SNI (fatal alert)
  bool require_client_cert = false;           // ask for a client certificate and insist on one
  certs::Chain client_cas;  // CA names sent in the CertificateRequest (empty: none named)
  TlsVersions versions = TlsVersions::modern;
  unsigned workers = 4;  // concurrent connections served
  std::string reply;     // sent after the handshake when not empty (e.g. an HTTP response)
};

// Options that serve `chain` to every client (no SNI routing), the rest default.
TlsServerOptions serving(ServedChain chain);
// serving(ServedChain::of(h)): the hierarchy's leaf and intermediate.
TlsServerOptions serving(const testpki::Hierarchy& h);

class TlsTestServer : public LoopbackServer {
 public:
  explicit TlsTestServer(TlsServerOptions options);
  ~TlsTestServer() override;

  // Every SNI seen in a ClientHello so far, in arrival order; nullopt = none sent.
  std::vector<std::optional<std::string>> sni_seen() const;
  std::size_t handshakes_completed() const { return completed_.load(); }

 private:
  struct Contexts;
  void serve(int fd);
  TlsServerOptions options_;
  std::unique_ptr<Contexts> contexts_;
  mutable std::mutex sni_mutex_;
  std::vector<std::optional<std::string>> sni_seen_;
  std::atomic<std::size_t> completed_{0};
};

}  // namespace tlsprobe::testsupport
