// Real TLS byte streams for the ServerHello parser and the tunnel's TLS watch: an OpenSSL
// client and server run a handshake (and optionally exchange data) over memory BIOs, and every
// byte each side writes is recorded, as a tunnel in between would see it.
#pragma once

#include "certs/ossl.hpp"
#include "pki/test_pki.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tlsprobe::testing {

struct PairOptions {
  int client_max_version = 0;  // 0: OpenSSL's default (TLS 1.3)
  int client_min_version = 0;
  int server_max_version = 0;
  std::string client_cipher_list;        // TLS <= 1.2 suites the client offers (OpenSSL names)
  std::string client_ciphersuites;       // TLS 1.3 suites the client offers
  std::string client_groups;             // e.g. "X25519:P-256": key share for the first only
  std::string server_groups;             // "P-256" with the above forces a HelloRetryRequest
  bool client_trusts_server = true;      // false: the client rejects the certificate (unknown CA)
  std::string client_data, server_data;  // application data after the handshake, if any
};

// One write as a tunnel in between would relay it, in the order the two sides wrote.
struct TlsChunk {
  bool from_client = false;
  std::vector<std::uint8_t> bytes;
};

struct TlsPair {
  std::vector<std::uint8_t> client_to_server, server_to_client;
  std::vector<TlsChunk> chunks;                   // both directions interleaved, in order
  bool client_done = false, server_done = false;  // each side's handshake completed
  std::string version;                            // as OpenSSL says: "TLSv1.3"
  std::string cipher;                             // IANA name of the suite OpenSSL negotiated
  std::uint16_t cipher_id = 0;
};

namespace pair_detail {
// Moves what `from` wrote into `to`'s read BIO and records it; true when bytes moved.
inline bool move(BIO* from, BIO* to, TlsPair& pair, bool from_client) {
  char buf[4096];
  bool moved = false;
  auto& log = from_client ? pair.client_to_server : pair.server_to_client;
  for (;;) {
    const int n = BIO_read(from, buf, sizeof buf);
    if (n <= 0) break;
    log.insert(log.end(), buf, buf + n);
    pair.chunks.push_back({from_client, std::vector<std::uint8_t>(buf, buf + n)});
    REQUIRE(BIO_write(to, buf, n) == n);
    moved = true;
  }
  return moved;
}
}  // namespace pair_detail

inline TlsPair run_tls_pair(const PairOptions& o) {
  static const testpki::Hierarchy pki = testpki::make_hierarchy({"pair.test"}, testpki::now());
  certs::SslCtxPtr sctx{SSL_CTX_new(TLS_server_method())};
  certs::SslCtxPtr cctx{SSL_CTX_new(TLS_client_method())};
  REQUIRE((sctx && cctx));
  REQUIRE(SSL_CTX_use_certificate(sctx.get(), pki.leaf.cert.x509()) == 1);
  REQUIRE(SSL_CTX_add1_chain_cert(sctx.get(), pki.intermediate.cert.x509()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(sctx.get(), pki.leaf.pkey()) == 1);
  if (o.server_max_version) SSL_CTX_set_max_proto_version(sctx.get(), o.server_max_version);
  if (!o.server_groups.empty())
    REQUIRE(SSL_CTX_set1_groups_list(sctx.get(), o.server_groups.c_str()) == 1);
  if (o.client_max_version) SSL_CTX_set_max_proto_version(cctx.get(), o.client_max_version);
  if (o.client_min_version) SSL_CTX_set_min_proto_version(cctx.get(), o.client_min_version);
  if (!o.client_cipher_list.empty())
    REQUIRE(SSL_CTX_set_cipher_list(cctx.get(), o.client_cipher_list.c_str()) == 1);
  if (!o.client_ciphersuites.empty())
    REQUIRE(SSL_CTX_set_ciphersuites(cctx.get(), o.client_ciphersuites.c_str()) == 1);
  if (!o.client_groups.empty())
    REQUIRE(SSL_CTX_set1_groups_list(cctx.get(), o.client_groups.c_str()) == 1);
  SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_PEER, nullptr);
  if (o.client_trusts_server)
    REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx.get()), pki.root.cert.x509()) == 1);

  certs::SslPtr client{SSL_new(cctx.get())}, server{SSL_new(sctx.get())};
  REQUIRE((client && server));
  // Each SSL owns its two BIOs; `c_out` is what the client writes, `c_in` what it reads.
  BIO* c_in = BIO_new(BIO_s_mem());
  BIO* c_out = BIO_new(BIO_s_mem());
  BIO* s_in = BIO_new(BIO_s_mem());
  BIO* s_out = BIO_new(BIO_s_mem());
  REQUIRE((c_in && c_out && s_in && s_out));
  SSL_set_bio(client.get(), c_in, c_out);
  SSL_set_bio(server.get(), s_in, s_out);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  SSL_set_tlsext_host_name(client.get(), "pair.test");

  TlsPair out;
  bool client_failed = false, server_failed = false;
  const auto step = [](SSL* ssl, bool& done, bool& failed) {
    if (done || failed) return;
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      done = true;
    } else if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ) {
      failed = true;
    }
  };
  for (int round = 0; round < 32; ++round) {  // a handshake takes 2 to 4 round trips
    step(client.get(), out.client_done, client_failed);
    bool moved = pair_detail::move(c_out, s_in, out, true);
    step(server.get(), out.server_done, server_failed);
    moved = pair_detail::move(s_out, c_in, out, false) || moved;
    if (!moved && (client_failed || server_failed || (out.client_done && out.server_done))) break;
  }
  if (!(out.client_done && out.server_done)) return out;
  out.version = SSL_get_version(client.get());
  const SSL_CIPHER* c = SSL_get_current_cipher(client.get());
  REQUIRE(c != nullptr);
  out.cipher = SSL_CIPHER_standard_name(c);
  out.cipher_id = static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(c));

  char buf[4096];
  if (!o.client_data.empty()) {
    REQUIRE(SSL_write(client.get(), o.client_data.data(), static_cast<int>(o.client_data.size())) >
            0);
    pair_detail::move(c_out, s_in, out, true);
    REQUIRE(SSL_read(server.get(), buf, sizeof buf) > 0);  // also answers with tickets (1.3)
    pair_detail::move(s_out, c_in, out, false);
  }
  if (!o.server_data.empty()) {
    REQUIRE(SSL_write(server.get(), o.server_data.data(), static_cast<int>(o.server_data.size())) >
            0);
    pair_detail::move(s_out, c_in, out, false);
    REQUIRE(SSL_read(client.get(), buf, sizeof buf) > 0);
    pair_detail::move(c_out, s_in, out, true);
  }
  return out;
}

}  // namespace tlsprobe::testing
