#include "proxy/probe/client_identity.hpp"

#include "certs/pem.hpp"

#include <openssl/err.h>

#include <fstream>
#include <sstream>

namespace tlsprobe::proxy {

namespace {

std::string read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ClientIdentityError(std::string(flag) + " " + path + ": cannot read the file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::shared_ptr<const ClientIdentity> ClientIdentity::load(const std::string& cert_file,
                                                           const std::string& key_file) {
  auto id = std::make_shared<ClientIdentity>();
  try {
    id->chain_ = certs::read_pem_chain(read_file(cert_file, "--cert"), "--cert " + cert_file);
  } catch (const certs::PemError& e) {
    throw ClientIdentityError(e.what());
  }
  try {
    id->key_ = certs::read_private_key_pem(read_file(key_file, "--key"), "--key " + key_file);
  } catch (const certs::PemError& e) {
    throw ClientIdentityError(e.what());
  }
  // OpenSSL's own check (X509_check_private_key compares the public halves): a mismatch
  // here would otherwise surface as a vague handshake failure at the server.
  ERR_clear_error();
  if (X509_check_private_key(id->chain_.front().x509(), id->key_.get()) != 1) {
    certs::openssl_errors();  // drain
    throw ClientIdentityError("--key " + key_file +
                              " does not belong to the certificate in --cert " + cert_file + " (" +
                              id->chain_.front().subject() + ")");
  }
  return id;
}

bool ClientIdentity::apply(SSL* ssl, std::string& error) const {
  ERR_clear_error();
  bool ok = SSL_use_certificate(ssl, chain_.front().x509()) == 1 &&
            SSL_use_PrivateKey(ssl, key_.get()) == 1;
  for (std::size_t i = 1; ok && i < chain_.size(); ++i)
    ok = SSL_add1_chain_cert(ssl, chain_[i].x509()) == 1;  // add1: the SSL takes its own reference
  if (!ok) error = "cannot use the client certificate: " + certs::openssl_errors();
  return ok;
}

}  // namespace tlsprobe::proxy
