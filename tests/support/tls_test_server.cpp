#include "support/tls_test_server.hpp"

#include "certs/ascii.hpp"
#include "certs/ossl.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <stdexcept>

namespace tlsprobe::testsupport {

ServedChain ServedChain::of(const testpki::Issued& leaf, certs::Chain extra) {
  ServedChain s;
  s.chain.push_back(leaf.cert);
  for (auto& c : extra) s.chain.push_back(std::move(c));
  s.key = leaf.key;
  return s;
}

ServedChain ServedChain::of(const testpki::Hierarchy& h) {
  return of(h.leaf, {h.intermediate.cert});
}

TlsServerOptions serving(ServedChain chain) {
  TlsServerOptions o;
  o.default_chain = std::move(chain);
  return o;
}

TlsServerOptions serving(const testpki::Hierarchy& h) { return serving(ServedChain::of(h)); }

struct TlsTestServer::Contexts {
  certs::SslCtxPtr default_ctx;
  std::map<std::string, certs::SslCtxPtr> by_sni;
};

namespace {

certs::SslCtxPtr make_server_ctx(const ServedChain& served, const TlsServerOptions& options) {
  if (served.chain.empty() || !served.key)
    throw std::invalid_argument("TlsTestServer: empty chain");
  certs::SslCtxPtr ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
  switch (options.versions) {
    case TlsVersions::modern:
      SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
      break;
    case TlsVersions::tls12_only:
      SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
      break;
    case TlsVersions::tls13_only:
      SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
      break;
    case TlsVersions::legacy_only:
      SSL_CTX_set_security_level(ctx.get(), 0);
      SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_1_VERSION);
      SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
      break;
  }
  // Weak test keys and SHA-1 signatures must still be servable: tests exist to see them.
  if (options.versions != TlsVersions::legacy_only) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  // Send exactly the configured chain: never complete it from a store.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate(ctx.get(), served.chain.front().x509()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), served.key.get()) != 1)
    throw std::runtime_error("TlsTestServer: certificate/key rejected: " + certs::openssl_errors());
  for (std::size_t i = 1; i < served.chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), served.chain[i].x509()) != 1)
      throw std::runtime_error("TlsTestServer: chain cert rejected: " + certs::openssl_errors());
  }
  if (options.require_client_cert) {
    // Any certificate would do; what matters is that none is refused.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       [](int, X509_STORE_CTX*) { return 1; });
    // The accepted CAs a client is told about (SSL_CTX_add_client_CA copies the subject).
    for (const auto& ca : options.client_cas)
      if (SSL_CTX_add_client_CA(ctx.get(), ca.x509()) != 1)
        throw std::runtime_error("TlsTestServer: client CA rejected: " + certs::openssl_errors());
  }
  return ctx;
}

}  // namespace

TlsTestServer::TlsTestServer(TlsServerOptions options)
    : LoopbackServer([this](int fd) { serve(fd); }, options.workers, Deferred{}),
      options_(std::move(options)),
      contexts_(std::make_unique<Contexts>()) {
  // Contexts are built before start(): no connection is served before they exist.
  contexts_->default_ctx = make_server_ctx(options_.default_chain, options_);
  for (const auto& [name, served] : options_.by_sni)
    contexts_->by_sni.emplace(name, make_server_ctx(served, options_));
  SSL_CTX_set_tlsext_servername_arg(contexts_->default_ctx.get(), this);
  SSL_CTX_set_tlsext_servername_callback(
      contexts_->default_ctx.get(), +[](SSL* ssl, int* alert, void* arg) -> int {
        auto* self = static_cast<TlsTestServer*>(arg);
        const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        {
          std::lock_guard lock(self->sni_mutex_);
          self->sni_seen_.push_back(name ? std::optional<std::string>(name) : std::nullopt);
        }
        if (!name && self->options_.require_sni) {
          *alert = SSL_AD_UNRECOGNIZED_NAME;
          return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        if (name) {
          auto it = self->contexts_->by_sni.find(certs::ascii_lower(name));
          if (it != self->contexts_->by_sni.end()) SSL_set_SSL_CTX(ssl, it->second.get());
        }
        return SSL_TLSEXT_ERR_OK;
      });
  start();
}

TlsTestServer::~TlsTestServer() { stop(); }

std::vector<std::optional<std::string>> TlsTestServer::sni_seen() const {
  std::lock_guard lock(sni_mutex_);
  return sni_seen_;
}

void TlsTestServer::serve(int fd) {
  // Blocking I/O with socket timeouts: a stuck client can hold a worker for 3 s at most.
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  certs::SslPtr ssl{SSL_new(contexts_->default_ctx.get())};
  if (!ssl) return;
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) != 1) {
    ERR_clear_error();
    return;
  }
  ++completed_;
  if (!options_.reply.empty()) {
    char buf[4096];
    [[maybe_unused]] const int r = SSL_read(ssl.get(), buf, sizeof buf);  // the request
    SSL_write(ssl.get(), options_.reply.data(), static_cast<int>(options_.reply.size()));
  } else if (wait_readable(fd, std::chrono::seconds(3))) {
    // Wait for the client's close_notify or close, so our tickets are not cut short.
    char buf[256];
    [[maybe_unused]] const int r = SSL_read(ssl.get(), buf, sizeof buf);
  }
  SSL_shutdown(ssl.get());
  ERR_clear_error();
}

}  // namespace tlsprobe::testsupport
