// Test origins for reverse mode: a keep-alive HTTPS/1.1 server on 127.0.0.1:0 with a chain
// per SNI and a default one (like TlsTestServer), which answers every request with a small
// text body telling what it saw (Host, SNI, X-Forwarded-For, Via, body length), and fault
// modes (slow answer, reset after the request). Blocking OpenSSL on LoopbackServer workers;
// every read has a socket timeout, so a stuck client holds a worker for 3 s at most.
#pragma once

#include "certs/ascii.hpp"
#include "certs/ossl.hpp"
#include "support/loopback_server.hpp"
#include "support/tls_test_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace tlsprobe::reverse_test {

enum class OriginFault {
  none,
  slow,   // waits `slow_for` before answering (response timeout)
  reset,  // reads the request, then closes with a TCP reset
};

struct OriginOptions {
  testsupport::ServedChain default_chain;
  std::map<std::string, testsupport::ServedChain> by_sni;
  OriginFault fault = OriginFault::none;
  std::chrono::milliseconds slow_for{3000};
  unsigned workers = 8;
};

class HttpsOrigin : public testsupport::LoopbackServer {
 public:
  explicit HttpsOrigin(OriginOptions o)
      : LoopbackServer([this](int fd) { serve(fd); }, o.workers, Deferred{}), o_(std::move(o)) {
    default_ctx_ = make_ctx(o_.default_chain);
    for (const auto& [name, chain] : o_.by_sni) by_sni_[name] = make_ctx(chain);
    SSL_CTX_set_tlsext_servername_arg(default_ctx_.get(), this);
    SSL_CTX_set_tlsext_servername_callback(
        default_ctx_.get(), +[](SSL* ssl, int*, void* arg) -> int {
          auto* self = static_cast<HttpsOrigin*>(arg);
          const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
          if (name) {
            auto it = self->by_sni_.find(name);
            if (it != self->by_sni_.end()) SSL_set_SSL_CTX(ssl, it->second.get());
          }
          return SSL_TLSEXT_ERR_OK;
        });
    start();
  }
  ~HttpsOrigin() override { stop(); }

  std::size_t requests() const { return requests_.load(); }
  std::size_t handshakes() const { return handshakes_.load(); }

 private:
  static certs::SslCtxPtr make_ctx(const testsupport::ServedChain& c) {
    certs::SslCtxPtr ctx{SSL_CTX_new(TLS_server_method())};
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_use_certificate(ctx.get(), c.chain.front().x509());
    SSL_CTX_use_PrivateKey(ctx.get(), c.key.get());
    for (std::size_t i = 1; i < c.chain.size(); ++i)
      SSL_CTX_add1_chain_cert(ctx.get(), c.chain[i].x509());
    return ctx;
  }

  static std::string header(const std::string& head, const std::string& name) {
    const std::string lower_head = certs::ascii_lower(head);
    const auto pos = lower_head.find("\r\n" + name + ":");
    if (pos == std::string::npos) return "";
    auto start = pos + name.size() + 3;
    while (start < head.size() && head[start] == ' ') ++start;
    return head.substr(start, head.find("\r\n", start) - start);
  }

  void serve(int fd) {
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    certs::SslPtr ssl{SSL_new(default_ctx_.get())};
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) != 1) {
      ERR_clear_error();
      return;
    }
    ++handshakes_;
    const char* sni_c = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
    const std::string sni = sni_c ? sni_c : "-";
    std::string in;
    for (int exchanges = 0; exchanges < 1000 && !stopping(); ++exchanges) {
      std::size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        char buf[16384];
        const int r = SSL_read(ssl.get(), buf, sizeof buf);
        if (r <= 0) {
          ERR_clear_error();
          return;
        }
        in.append(buf, static_cast<std::size_t>(r));
      }
      const std::string head = in.substr(0, end + 2);
      in.erase(0, end + 4);
      const auto cl = header(head, "content-length");
      std::size_t body = cl.empty() ? 0 : std::stoul(cl);
      while (in.size() < body) {
        char buf[16384];
        const int r = SSL_read(ssl.get(), buf, sizeof buf);
        if (r <= 0) return;
        in.append(buf, static_cast<std::size_t>(r));
      }
      in.erase(0, body);
      ++requests_;
      if (o_.fault == OriginFault::reset) {
        linger lg{1, 0};  // close() sends RST
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        return;
      }
      if (o_.fault == OriginFault::slow) {
        for (auto waited = std::chrono::milliseconds(0); waited < o_.slow_for && !stopping();
             waited += std::chrono::milliseconds(20))
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      const std::string text = "host=" + header(head, "host") + ";sni=" + sni +
                               ";xff=" + header(head, "x-forwarded-for") +
                               ";proto=" + header(head, "x-forwarded-proto") +
                               ";via=" + header(head, "via") + ";body=" + std::to_string(body) +
                               ";conn=" + header(head, "connection") + "\n";
      const std::string res = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                              std::to_string(text.size()) + "\r\n\r\n" + text;
      if (SSL_write(ssl.get(), res.data(), static_cast<int>(res.size())) <= 0) return;
    }
  }

  OriginOptions o_;
  certs::SslCtxPtr default_ctx_;
  std::map<std::string, certs::SslCtxPtr> by_sni_;
  std::atomic<std::size_t> requests_{0}, handshakes_{0};
};

}  // namespace tlsprobe::reverse_test
