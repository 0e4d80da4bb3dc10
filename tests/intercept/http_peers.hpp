// Both ends of an intercepted HTTP connection, scripted by the tests:
// - TlsIo: blocking OpenSSL I/O on one socket where every read and write has a deadline
//   (the socket gets 200 ms SO_RCVTIMEO/SO_SNDTIMEO; loops retry until the deadline).
// - ScriptedUpstream: an in-process TLS origin on 127.0.0.1 that runs a test's script on each
//   accepted connection (keep-alive answers, 101 + echo, hostile replies...).
// - ProxyClient: a raw client that sends CONNECT to the proxy and then speaks TLS inside,
//   trusting only the tlsprobe CA (verified, host name checked), for what curl cannot do:
//   reading a response at its own pace, WebSocket bytes after a 101, timing.
// Request/response parsing here is the minimum the tests need (Content-Length, chunked,
// until-close), with a size cap on everything.
#pragma once

#include "certs/ascii.hpp"
#include "certs/ossl.hpp"
#include "support/buffered_reads.hpp"
#include "support/loopback_client.hpp"
#include "support/loopback_server.hpp"
#include "support/tls_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace tlsprobe::intercept_test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline constexpr std::size_t kMaxTestMessage = 64 * 1024 * 1024;  // any one body/head read

using certs::ascii_lower;
using testsupport::set_socket_timeouts;

// SSL_accept (`side` server) or SSL_connect on a socket with short timeouts (see
// set_socket_timeouts), retried until it completes, fails, `stopping` says so or `limit`
// passes. Whether it completed; the OpenSSL error queue is left for the caller.
enum class TlsSide { client, server };
inline bool handshake_within(SSL* ssl, TlsSide side, std::chrono::milliseconds limit,
                             const std::function<bool()>& stopping = {}) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    const int rc = side == TlsSide::server ? SSL_accept(ssl) : SSL_connect(ssl);
    if (rc == 1) return true;
    const int err = SSL_get_error(ssl, rc);
    const bool again = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
                       (err == SSL_ERROR_SYSCALL && errno == EAGAIN);
    if (!again || (stopping && stopping()) || Clock::now() > deadline) return false;
  }
}

// A parsed HTTP head (request or response): first line and lower-cased header names.
struct Head {
  std::string first_line;
  std::multimap<std::string, std::string> fields;
  std::string raw;

  std::string get(const std::string& name) const {
    auto it = fields.find(ascii_lower(name));
    return it == fields.end() ? "" : it->second;
  }
  bool has(const std::string& name) const { return fields.count(ascii_lower(name)) > 0; }
  int status() const {  // "HTTP/1.1 200 OK" -> 200
    auto sp = first_line.find(' ');
    return sp == std::string::npos ? 0 : std::atoi(first_line.c_str() + sp + 1);
  }
  std::string target() const {  // "GET /x HTTP/1.1" -> "/x"
    auto a = first_line.find(' ');
    auto b = first_line.rfind(' ');
    return a == std::string::npos || b <= a ? "" : first_line.substr(a + 1, b - a - 1);
  }
};

inline Head parse_head(const std::string& raw) {
  Head h;
  h.raw = raw;
  std::size_t pos = raw.find("\r\n");
  h.first_line = raw.substr(0, pos);
  while (pos != std::string::npos && pos + 2 < raw.size()) {
    const auto start = pos + 2;
    pos = raw.find("\r\n", start);
    const auto line = raw.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    h.fields.emplace(ascii_lower(line.substr(0, colon)), value);
  }
  return h;
}

struct Message {
  Head head;
  std::string body;
  bool complete = false;  // framing satisfied (false: deadline, error or close mid-body)
};

// One TLS connection (either side), blocking, every operation bounded by a deadline.
class TlsIo : public testsupport::BufferedReads<TlsIo> {
 public:
  TlsIo(certs::SslPtr ssl, int fd, std::function<bool()> stopping = {})
      : ssl_(std::move(ssl)), fd_(fd), stopping_(std::move(stopping)) {}

  SSL* ssl() const { return ssl_.get(); }
  int fd() const { return fd_; }

  // Writes all of `data` or fails (error, peer gone, deadline).
  bool write(std::string_view data, std::chrono::milliseconds limit = 10s) {
    const auto deadline = Clock::now() + limit;
    while (!data.empty()) {
      if (stopped() || Clock::now() > deadline) return false;
      const int chunk = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20));
      const int n = SSL_write(ssl_.get(), data.data(), chunk);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (!retryable(n)) return false;
    }
    return true;
  }

  // For BufferedReads: > 0 bytes, 0 on the socket's short timeout, < 0 closed or failed.
  long receive(char* buf, std::size_t n) {
    const int got = SSL_read(ssl_.get(), buf, static_cast<int>(n));
    if (got > 0) return got;
    return retryable(got) ? 0 : -1;
  }

  // Head and body of one message; `bodyless`: a response to HEAD or a 1xx/204/304.
  Message read_message(bool is_response, std::chrono::milliseconds limit = 10s,
                       std::size_t max_head = 128 * 1024) {
    Message m;
    const auto deadline = Clock::now() + limit;
    auto raw = read_until("\r\n\r\n", limit, max_head);
    if (!raw) return m;
    m.head = parse_head(*raw);
    const auto left = [&] {
      return std::max(
          std::chrono::milliseconds(1),
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    };
    const int status = is_response ? m.head.status() : 0;
    if (is_response && (status / 100 == 1 || status == 204 || status == 304)) {
      m.complete = true;
      return m;
    }
    if (ascii_lower(m.head.get("transfer-encoding")).find("chunked") != std::string::npos) {
      for (;;) {
        auto size_line = read_until("\r\n", left(), 1024);
        if (!size_line) return m;
        const auto size = std::strtoull(size_line->c_str(), nullptr, 16);
        if (size > kMaxTestMessage || m.body.size() + size > kMaxTestMessage) return m;
        if (size == 0) {  // trailer lines, then the empty line
          for (int i = 0; i < 64; ++i) {
            auto line = read_until("\r\n", left(), 8 * 1024);
            if (!line) return m;
            if (*line == "\r\n") {
              m.complete = true;
              return m;
            }
          }
          return m;
        }
        auto data = read_exact(size + 2, left());
        if (data.size() != size + 2) return m;
        m.body.append(data, 0, size);
      }
    }
    if (m.head.has("content-length")) {
      const auto n = std::strtoull(m.head.get("content-length").c_str(), nullptr, 10);
      if (n > kMaxTestMessage) return m;
      m.body = read_exact(n, left());
      m.complete = m.body.size() == n;
      return m;
    }
    if (!is_response) {
      m.complete = true;  // a request without framing has no body
      return m;
    }
    for (;;) {  // until close
      auto more = read_some(left());
      if (more.empty()) break;
      m.body += more;
      if (m.body.size() > kMaxTestMessage) return m;
    }
    m.complete = closed_;
    return m;
  }

  void shutdown() { SSL_shutdown(ssl_.get()); }
  bool stopped() const { return stopping_ && stopping_(); }

  // Sleeps `d` in small steps; false when the server stops meanwhile.
  bool pause(std::chrono::milliseconds d) const {
    const auto until = Clock::now() + d;
    while (Clock::now() < until) {
      if (stopped()) return false;
      std::this_thread::sleep_for(10ms);
    }
    return !stopped();
  }

 private:
  // SO_RCVTIMEO/SO_SNDTIMEO expiries come back as WANT_READ/WANT_WRITE: try again.
  bool retryable(int rc) {
    const int err = SSL_get_error(ssl_.get(), rc);
    const bool again =
        err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
        (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
    if (!again) ERR_clear_error();
    return again;
  }

  certs::SslPtr ssl_;
  int fd_;
  std::function<bool()> stopping_;
};

// A complete HTTP/1.1 response with Content-Length.
inline std::string http_response(int status, const std::string& reason, const std::string& body,
                                 const std::string& extra_headers = "",
                                 const std::string& content_type = "text/plain") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" +
         body;
}

inline std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

// A TLS origin that runs `script` on every connection after the handshake (blocking, on one
// of `workers` threads). The script sees the server's stopping() through TlsIo.
class ScriptedUpstream : public testsupport::LoopbackServer {
 public:
  using Script = std::function<void(TlsIo&)>;

  ScriptedUpstream(const testsupport::ServedChain& served, Script script, unsigned workers = 6)
      : LoopbackServer([this](int fd) { serve(fd); }, workers, Deferred{}),
        script_(std::move(script)) {
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    if (!ctx_) throw std::runtime_error("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx_.get(), SSL_MODE_NO_AUTO_CHAIN);
    if (SSL_CTX_use_certificate(ctx_.get(), served.chain.front().x509()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx_.get(), served.key.get()) != 1)
      throw std::runtime_error("ScriptedUpstream: certificate/key rejected");
    for (std::size_t i = 1; i < served.chain.size(); ++i)
      SSL_CTX_add1_chain_cert(ctx_.get(), served.chain[i].x509());
    // A stapled OCSP response for clients that ask (status_request), when one is set.
    SSL_CTX_set_tlsext_status_arg(ctx_.get(), this);
    SSL_CTX_set_tlsext_status_cb(ctx_.get(), &ScriptedUpstream::staple_cb);
    start();
  }
  ~ScriptedUpstream() override { stop(); }

  // The OCSPResponse (DER) stapled from now on; set before clients connect.
  void staple(std::string der) { staple_ = std::move(der); }
  std::size_t handshakes() const { return handshakes_.load(); }

 private:
  void serve(int fd) {
    set_socket_timeouts(fd, 200ms);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    if (!ssl) return;
    SSL_set_fd(ssl.get(), fd);
    if (!handshake_within(ssl.get(), TlsSide::server, 5s, [this] { return stopping(); })) {
      ERR_clear_error();
      return;
    }
    ++handshakes_;
    TlsIo io(std::move(ssl), fd, [this] { return stopping(); });
    script_(io);
    io.shutdown();
    ERR_clear_error();
  }

  static int staple_cb(SSL* ssl, void* arg) {
    const auto& der = static_cast<ScriptedUpstream*>(arg)->staple_;
    if (der.empty()) return SSL_TLSEXT_ERR_NOACK;
    auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(der.data(), der.size()));
    if (!copy) return SSL_TLSEXT_ERR_NOACK;
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der.size()));  // takes it
    return SSL_TLSEXT_ERR_OK;
  }

  Script script_;
  certs::SslCtxPtr ctx_;
  std::string staple_;
  std::atomic<std::size_t> handshakes_{0};
};

// A client of the intercepting proxy: CONNECT host:port, then TLS trusting only `ca_file`
// with SNI `sni` (empty: none) and the certificate checked for `sni` (or `host`).
class ProxyClient {
 public:
  ProxyClient(std::uint16_t proxy_port, const std::string& host, std::uint16_t port,
              const std::string& ca_file, std::optional<std::string> sni = std::nullopt) {
    fd_ = testsupport::connect_loopback(proxy_port, {.io_timeout = 200ms});
    if (fd_ < 0) throw std::runtime_error("connect to the proxy failed");
    const std::string authority = host + ":" + std::to_string(port);
    const std::string connect =
        "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
    if (::send(fd_, connect.data(), connect.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(connect.size()))
      throw std::runtime_error("CONNECT not sent");
    // Byte by byte up to the empty line: nothing of the TLS stream may be read here.
    std::string head;
    const auto deadline = Clock::now() + 10s;
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 4096 &&
           Clock::now() < deadline) {
      char c;
      const auto n = ::recv(fd_, &c, 1, 0);
      if (n == 1) head += c;
      if (n == 0) break;
    }
    if (head.rfind("HTTP/1.1 200", 0) != 0) throw std::runtime_error("CONNECT refused: " + head);
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx_.get(), ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("CA file not loaded: " + ca_file);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    static constexpr unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx_.get(), alpn, sizeof alpn);
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    SSL_set_fd(ssl.get(), fd_);
    const std::string check = sni.value_or(host);
    if (sni && !sni->empty()) SSL_set_tlsext_host_name(ssl.get(), sni->c_str());
    SSL_set1_host(ssl.get(), check.c_str());
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!handshake_within(ssl.get(), TlsSide::client, left)) {
      const auto why = certs::openssl_errors();
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("TLS to the proxy failed: " + why);
    }
    io_.emplace(std::move(ssl), fd_);
  }
  ~ProxyClient() { close(); }
  ProxyClient(const ProxyClient&) = delete;
  ProxyClient& operator=(const ProxyClient&) = delete;

  TlsIo& io() { return *io_; }

  // GET (or any method) with Host `host_header`; returns the response.
  Message request(const std::string& method, const std::string& target,
                  const std::string& host_header, const std::string& extra_headers = "",
                  const std::string& body = "", std::chrono::milliseconds limit = 10s) {
    std::string req =
        method + " " + target + " HTTP/1.1\r\nHost: " + host_header + "\r\n" + extra_headers;
    if (!body.empty()) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    if (!io_->write(req, limit)) return {};
    return io_->read_message(true, limit);
  }

  // Closes the TCP connection at once (no close_notify): a client that goes away.
  void close() {
    io_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  certs::SslCtxPtr ctx_;
  std::optional<TlsIo> io_;
};

// Compressed `data`: window_bits 15 + 16 = gzip (RFC 1952), 15 = zlib (the correct
// Content-Encoding: deflate), -15 = raw deflate (what some servers send as "deflate").
inline std::string compress(std::string_view data, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

inline std::string gzip(std::string_view data) { return compress(data, 15 + 16); }

// Resident set size of this process in KiB (/proc/self/status VmRSS), 0 when unknown.
inline std::size_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

// A deterministic byte pattern (position-dependent, so a lost or repeated piece shows).
inline std::string pattern(std::size_t offset, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    const auto p = offset + i;
    s[i] = static_cast<char>('a' + (p * 7 + p / 4096) % 26);
  }
  return s;
}

}  // namespace tlsprobe::intercept_test
