// Reading and writing PEM.
#pragma once

#include "certs/certificate.hpp"

#include <stdexcept>
#include <string>

namespace tlsprobe::certs {

// Thrown when a PEM file or buffer cannot be read or holds no certificate.
// what() is one line: "<path>: <what was wrong>".
struct PemError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every certificate in a PEM buffer, in order. Throws PemError (source names the input).
Chain read_pem_chain(std::string_view pem, std::string_view source = "<memory>");
// Same, from a file.
Chain read_pem_file(const std::string& path);
std::string write_pem(const Certificate& cert);
std::string write_pem(const Chain& chain);
// Private keys (PKCS#8 PEM); read throws PemError.
EvpPkeyPtr read_private_key_pem(std::string_view pem, std::string_view source = "<memory>");
std::string write_private_key_pem(EVP_PKEY* key);

}  // namespace tlsprobe::certs
