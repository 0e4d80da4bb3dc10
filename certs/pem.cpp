#include "certs/pem.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tlsprobe::certs {
namespace {

[[noreturn]] void fail(std::string_view source, const std::string& what) {
  throw PemError(std::string(source) + ": " + what);
}

// The last OpenSSL reason on the queue, short ("bad base64 decode"), and clears the queue.
std::string last_reason() {
  unsigned long e = ERR_peek_last_error();
  std::string out;
  if (const char* r = e ? ERR_reason_error_string(e) : nullptr) out = r;
  if (out.empty()) out = openssl_errors();
  ERR_clear_error();
  return out.empty() ? "unreadable" : out;
}

BioPtr mem_bio(std::string_view data) {
  BioPtr bio{BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))};
  if (!bio) throw std::bad_alloc();
  return bio;
}

// Never prompt on the terminal for a passphrase (OpenSSL's default callback would).
int no_passphrase(char*, int, int, void*) { return -1; }

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len > 0 ? len : 0));
}

}  // namespace

Chain read_pem_chain(std::string_view pem, std::string_view source) {
  ERR_clear_error();
  BioPtr bio = mem_bio(pem);
  Chain chain;
  for (;;) {
    // PEM_read_bio_X509 skips blocks of other types (keys, CRLs) and stops with
    // PEM_R_NO_START_LINE at the end of the input.
    X509Ptr x{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)};
    if (!x) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;
      }
      fail(source,
           "bad PEM at certificate " + std::to_string(chain.size() + 1) + ": " + last_reason());
    }
    chain.push_back(Certificate::from_x509(x.get()));
  }
  if (chain.empty()) {
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos)
      fail(source, "no certificate found (only a private key)");
    fail(source, "no certificate found");
  }
  return chain;
}

Chain read_pem_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "cannot open: Is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) fail(path, std::string("cannot read: ") + std::strerror(errno));
  return read_pem_chain(buf.str(), path);
}

std::string write_pem(const Certificate& cert) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio || PEM_write_bio_X509(bio.get(), cert.x509()) != 1)
    throw std::runtime_error("write_pem: " + openssl_errors());
  return bio_to_string(bio.get());
}

std::string write_pem(const Chain& chain) {
  std::string out;
  for (const auto& c : chain) out += write_pem(c);
  return out;
}

EvpPkeyPtr read_private_key_pem(std::string_view pem, std::string_view source) {
  ERR_clear_error();
  BioPtr bio = mem_bio(pem);
  EvpPkeyPtr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)};
  if (!key) {
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
      ERR_clear_error();
      fail(source, "no private key found");
    }
    fail(source, "bad private key: " + last_reason());
  }
  return key;
}

std::string write_private_key_pem(EVP_PKEY* key) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio || !key ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("write_private_key_pem: " + openssl_errors());
  return bio_to_string(bio.get());
}

}  // namespace tlsprobe::certs
