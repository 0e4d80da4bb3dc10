// A client certificate and its key (`probe --cert FILE --key FILE`), for servers that insist
// on one. Loaded once with OpenSSL and shared by every handshake of a run; applied to each
// SSL object (the SSL_CTXs stay shared and certificate-free).
#pragma once

#include "certs/certificate.hpp"
#include "certs/ossl.hpp"

#include <memory>
#include <stdexcept>
#include <string>

namespace tlsprobe::proxy {

// what() is one line naming the file and what is wrong with it.
struct ClientIdentityError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ClientIdentity {
 public:
  // `cert_file`: PEM, the client certificate first, then any intermediates to send with it.
  // `key_file`: PEM private key matching the first certificate. Throws ClientIdentityError
  // for an unreadable file, a PEM without a certificate or key, or a key that does not
  // belong to the certificate.
  static std::shared_ptr<const ClientIdentity> load(const std::string& cert_file,
                                                    const std::string& key_file);

  // Offers this identity on `ssl` (before the handshake). False with OpenSSL's reason in
  // `error` when OpenSSL refuses it (e.g. a key too weak for the security level).
  bool apply(SSL* ssl, std::string& error) const;

  const certs::Chain& chain() const { return chain_; }

 private:
  certs::Chain chain_;  // leaf first
  certs::EvpPkeyPtr key_;
};

}  // namespace tlsprobe::proxy
