// Real ClientHellos for parser tests: OpenSSL's client writes its first flight into a memory
// BIO and we capture the bytes (as mitmproxy's SSLTest and Envoy's generateClientHello do).
#pragma once

#include "certs/ossl.hpp"

#include <openssl/err.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tlsprobe::testing {

// The bytes of a captured flight as the char pointer the taps and parsers read.
inline const char* chars(const std::vector<std::uint8_t>& v) {
  return reinterpret_cast<const char*>(v.data());
}

struct HelloOptions {
  std::optional<std::string> sni;
  std::vector<std::string> alpn;
  int max_version = 0;  // 0 = OpenSSL's default (TLS 1.3); TLS1_2_VERSION for a 1.2-only client
};

inline std::vector<std::uint8_t> generate_client_hello(const HelloOptions& o) {
  certs::SslCtxPtr ctx{SSL_CTX_new(TLS_client_method())};
  REQUIRE(ctx);
  if (o.max_version != 0) REQUIRE(SSL_CTX_set_max_proto_version(ctx.get(), o.max_version) == 1);
  certs::SslPtr ssl{SSL_new(ctx.get())};
  REQUIRE(ssl);
  certs::BioPtr rbio{BIO_new(BIO_s_mem())};
  certs::BioPtr wbio{BIO_new(BIO_s_mem())};
  REQUIRE((rbio && wbio));
  BIO* out = wbio.get();
  // SSL_set_bio takes ownership of both BIOs.
  SSL_set_bio(ssl.get(), rbio.release(), wbio.release());
  if (o.sni) REQUIRE(SSL_set_tlsext_host_name(ssl.get(), o.sni->c_str()) == 1);
  if (!o.alpn.empty()) {
    std::vector<unsigned char> wire;
    for (const auto& p : o.alpn) {
      wire.push_back(static_cast<unsigned char>(p.size()));
      wire.insert(wire.end(), p.begin(), p.end());
    }
    // SSL_set_alpn_protos returns 0 on success (unlike most of OpenSSL).
    REQUIRE(SSL_set_alpn_protos(ssl.get(), wire.data(), static_cast<unsigned>(wire.size())) == 0);
  }
  ERR_clear_error();
  int rc = SSL_connect(ssl.get());
  REQUIRE(rc <= 0);  // nothing to read yet: it wrote the ClientHello and now waits
  REQUIRE(SSL_get_error(ssl.get(), rc) == SSL_ERROR_WANT_READ);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  REQUIRE(n > 0);
  return std::vector<std::uint8_t>(data, data + n);
}

// Re-frames the handshake bytes carried by `records` into records of at most `fragment`
// payload bytes each: the same ClientHello split the way a middlebox or a client with a small
// max_fragment_length might send it.
inline std::vector<std::uint8_t> refragment(std::span<const std::uint8_t> records,
                                            std::size_t fragment) {
  std::vector<std::uint8_t> payload;
  std::size_t off = 0;
  while (off + 5 <= records.size()) {
    std::size_t len = static_cast<std::size_t>(records[off + 3] << 8 | records[off + 4]);
    REQUIRE(off + 5 + len <= records.size());
    payload.insert(payload.end(), records.begin() + static_cast<std::ptrdiff_t>(off + 5),
                   records.begin() + static_cast<std::ptrdiff_t>(off + 5 + len));
    off += 5 + len;
  }
  std::vector<std::uint8_t> out;
  for (std::size_t p = 0; p < payload.size(); p += fragment) {
    std::size_t n = std::min(fragment, payload.size() - p);
    out.insert(out.end(), {0x16, 0x03, 0x01, static_cast<std::uint8_t>(n >> 8),
                           static_cast<std::uint8_t>(n & 0xff)});
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(p),
               payload.begin() + static_cast<std::ptrdiff_t>(p + n));
  }
  return out;
}

inline std::vector<std::uint8_t> read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_binary(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary);
  REQUIRE(out);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace tlsprobe::testing
