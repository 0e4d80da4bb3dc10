// The smuggling test bench: one proxy per mode (forward, intercept, reverse) in front of a raw
// backend that records every byte it receives on every connection (plain TCP for forward, TLS
// for intercept and reverse), answers each request it can parse strictly, and never guesses.
// A client sends a case's bytes in one write, half-closes, and reads until the proxy closes.
#pragma once

#include "framing/wire.hpp"
#include "intercept/http_peers.hpp"
#include "intercept/intercept_fixture.hpp"
#include "reverse/reverse_fixture.hpp"
#include "support/in_process_proxy.hpp"
#include "support/relay_peers.hpp"

#include <poll.h>

#include <map>
#include <mutex>

namespace tlsprobe::framing_test {

using namespace std::chrono_literals;
using intercept_test::Clock;
using intercept_test::TlsIo;

enum class Mode { forward, intercept, reverse };

inline const char* to_string(Mode m) {
  return m == Mode::forward ? "forward" : m == Mode::intercept ? "intercept" : "reverse";
}

// How the backend answers each request it parsed.
enum class Reply {
  ok,              // 200 with a Content-Length body naming the target
  chunk_overflow,  // 200 chunked whose first chunk size overflows 64 bits
};

// What the backend saw: the bytes of each connection. A connection counts from the moment the
// kernel completed it (LoopbackServer::connections() + queued()), so take() cannot miss one the
// proxy opened a moment ago and leave its bytes to the next case (it did under load: the
// previous case's truncated upstream request showed up as the next case's).
class BackendLog {
 public:
  explicit BackendLog(std::function<std::size_t()> accepted) : accepted_(std::move(accepted)) {}
  std::size_t open() {
    std::lock_guard lock(mutex_);
    conns_.emplace(next_, std::string());
    return next_++;
  }
  void append(std::size_t conn, std::string_view bytes) {
    std::lock_guard lock(mutex_);
    conns_[conn].append(bytes);
  }
  void close() {
    std::lock_guard lock(mutex_);
    ++finished_;
  }
  // Waits (bounded) until every accepted connection has ended, then hands over and forgets
  // what was seen.
  std::vector<std::string> take(std::chrono::milliseconds limit = 10s) {
    const auto until = Clock::now() + limit;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        idle_ = finished_ >= accepted_();
        if (idle_ || Clock::now() > until) {
          std::vector<std::string> out;
          for (auto& [id, bytes] : conns_) out.push_back(std::move(bytes));
          conns_.clear();
          return out;
        }
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  bool was_idle() const { return idle_; }

 private:
  std::function<std::size_t()> accepted_;
  std::mutex mutex_;
  std::map<std::size_t, std::string> conns_;
  std::size_t next_ = 0, finished_ = 0;
  bool idle_ = true;
};

inline std::string reply_for(Reply how, const SeenRequest& r) {
  if (how == Reply::chunk_overflow)
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "fffffffffffffffff1\r\nabc\r\n0\r\n\r\n";
  const std::string body = "seen " + r.method + " " + r.target + " body=" + r.body;
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The backend's loop for one connection: `read` gives bytes ("" = nothing yet, nullopt = the
// connection ended), `write` answers. Bounded: 15 s per connection at most.
inline void record_and_answer(BackendLog& log, std::size_t id, Reply how,
                              const std::function<std::optional<std::string>()>& read,
                              const std::function<bool(std::string_view)>& write) {
  std::string pending;
  const auto until = Clock::now() + 15s;
  while (Clock::now() < until) {
    const auto more = read();
    if (!more) break;
    if (more->empty()) continue;
    log.append(id, *more);
    pending += *more;
    bool stop = false;
    for (;;) {
      auto r = parse_strict_request(pending);
      if (r.status == Parse::bad) {
        stop = true;  // a malformed stream: the test reads why from the log
        break;
      }
      if (r.status == Parse::incomplete) break;
      pending.erase(0, r.consumed);
      if (!write(reply_for(how, r.request))) {
        stop = true;
        break;
      }
    }
    if (stop) break;
  }
}

// Plain TCP backend (forward mode).
class PlainBackend : public testsupport::LoopbackServer {
 public:
  explicit PlainBackend(Reply how = Reply::ok)
      : LoopbackServer([this](int fd) { serve(fd); }, 8, Deferred{}),
        log_([this] { return connections() + queued(); }),
        how_(how) {
    start();
  }
  ~PlainBackend() override { stop(); }
  BackendLog& log() { return log_; }

 private:
  void serve(int fd) {
    const auto id = log_.open();
    record_and_answer(
        log_, id, how_,
        [&]() -> std::optional<std::string> {
          if (stopping()) return std::nullopt;
          if (!wait_readable(fd, 200ms)) return std::string();
          char buf[16384];
          const auto n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) return std::nullopt;
          return std::string(buf, static_cast<std::size_t>(n));
        },
        [&](std::string_view data) {
          while (!data.empty()) {
            const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
          }
          return true;
        });
    log_.close();
  }
  BackendLog log_;
  Reply how_;
};

// TLS backend (intercept and reverse upstream), certificate for www.example.test. Every
// accepted connection is logged, a failed handshake too (as a connection without bytes).
class TlsBackend : public testsupport::LoopbackServer {
 public:
  explicit TlsBackend(const testsupport::ServedChain& served, Reply how = Reply::ok)
      : LoopbackServer([this](int fd) { serve(fd); }, 8, Deferred{}),
        log_([this] { return connections() + queued(); }),
        how_(how) {
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    REQUIRE(ctx_);
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_OFF);
    REQUIRE(SSL_CTX_use_certificate(ctx_.get(), served.chain.front().x509()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx_.get(), served.key.get()) == 1);
    for (std::size_t i = 1; i < served.chain.size(); ++i)
      SSL_CTX_add1_chain_cert(ctx_.get(), served.chain[i].x509());
    start();
  }
  ~TlsBackend() override { stop(); }
  BackendLog& log() { return log_; }

 private:
  void serve(int fd) {
    const auto id = log_.open();
    serve_tls(fd, id);
    log_.close();
  }
  void serve_tls(int fd, std::size_t id) {
    intercept_test::set_socket_timeouts(fd, 200ms);
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    if (!ssl) return;
    SSL_set_fd(ssl.get(), fd);
    if (!intercept_test::handshake_within(ssl.get(), intercept_test::TlsSide::server, 5s,
                                          [this] { return stopping(); })) {
      ERR_clear_error();
      return;
    }
    TlsIo io(std::move(ssl), fd, [this] { return stopping(); });
    record_and_answer(
        log_, id, how_,
        [&]() -> std::optional<std::string> {
          if (io.stopped()) return std::nullopt;
          auto s = io.read_some(200ms);
          if (s.empty() && io.closed()) return std::nullopt;
          return s;
        },
        [&](std::string_view data) { return io.write(data); });
    io.shutdown();
    ERR_clear_error();
  }

  BackendLog log_;
  Reply how_;
  certs::SslCtxPtr ctx_;
};

inline const testpki::Hierarchy& pki() {
  static const auto h = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  return h;
}

// A forward-mode proxy (no interception) on 127.0.0.1:0, wired as production wires it.
inline config::Config forward_config() {
  auto cfg = testsupport::hermetic_config();
  cfg.timeouts.header = 5s;
  cfg.timeouts.idle = 10s;
  cfg.timeouts.drain = 500ms;
  return cfg;
}

// A plain TCP client socket with 200 ms receive/send timeouts.
inline int connect_plain(std::uint16_t port) {
  return testsupport::connect_loopback(port, {.io_timeout = 200ms});
}

// Sends `bytes`, half-closes, reads until the peer closes (at most 10 s).
inline std::string exchange_plain(std::uint16_t port, const std::string& bytes) {
  const int fd = connect_plain(port);
  REQUIRE(fd >= 0);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const auto n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  ::shutdown(fd, SHUT_WR);
  std::string got;
  const auto until = Clock::now() + 10s;
  while (Clock::now() < until) {
    char buf[16384];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      break;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got;
}

// Over TLS: sends `bytes`, close_notify, reads until the peer closes (at most 10 s).
inline std::string exchange_tls(TlsIo& io, const std::string& bytes) {
  io.write(bytes);
  io.shutdown();
  std::string got;
  const auto until = Clock::now() + 10s;
  while (Clock::now() < until && !io.closed()) got += io.read_some(200ms);
  return got;
}

// A TLS client straight to the reverse proxy (it shows a throwaway-CA leaf: not verified).
class DirectTlsClient {
 public:
  DirectTlsClient(std::uint16_t port, const std::string& sni) {
    fd_ = connect_plain(port);
    REQUIRE(fd_ >= 0);
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    SSL_set_fd(ssl.get(), fd_);
    SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
    REQUIRE(intercept_test::handshake_within(ssl.get(), intercept_test::TlsSide::client, 10s));
    io_.emplace(std::move(ssl), fd_);
  }
  ~DirectTlsClient() {
    io_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  TlsIo& io() { return *io_; }

 private:
  int fd_ = -1;
  certs::SslCtxPtr ctx_;
  std::optional<TlsIo> io_;
};

// One proxy and backend for a mode; run() sends one case on a fresh client connection.
class Bench {
 public:
  explicit Bench(Mode mode, Reply how = Reply::ok) : mode_(mode) {
    if (mode == Mode::forward) {
      plain_.emplace(how);
      forward_.emplace(forward_config(), proxy::ProxyAppOptions{}, "framing");
      return;
    }
    tls_.emplace(testsupport::ServedChain::of(pki()), how);
    if (mode == Mode::intercept) {
      intercept_test::ProxyOptions o;
      o.anchors = {pki().root.cert};
      o.resolve = {{"www.example.test", "127.0.0.1"}};
      o.idle = 10s;
      o.upstream_response = 5s;
      intercept_.emplace(o);
      return;
    }
    auto o = reverse_test::test_config(tls_->address(), {pki().root.cert});
    o.add_site("www.example.test", tls_->address(), "www.example.test");
    reverse_.emplace(std::move(o));
  }

  // Placeholders of the corpus: {T} the target's prefix (absolute in forward mode), {H} the
  // Host value, {ABS} the same origin in absolute form, {OTHER} another origin.
  std::string expand(std::string raw) const {
    const std::string bport =
        std::to_string(mode_ == Mode::forward ? plain_->port() : tls_->port());
    std::string t, h, abs, other;
    if (mode_ == Mode::forward) {
      h = "127.0.0.1:" + bport;
      t = abs = "http://" + h;
      other = "http://127.0.0.1:1";
    } else if (mode_ == Mode::intercept) {
      h = "www.example.test:" + bport;
      abs = "https://" + h;
      other = "https://other.example.test";
    } else {
      h = "www.example.test";
      abs = "https://" + h;
      other = "https://other.example.test";
    }
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"{T}", t},
                                     {"{H}", h},
                                     {"{ABS}", abs},
                                     {"{OTHER}", other}})
      for (auto at = raw.find(key); at != std::string::npos; at = raw.find(key, at + value.size()))
        raw.replace(at, key.size(), value);
    return raw;
  }

  // What the client got back, for `raw` (placeholders expanded).
  std::string run(const std::string& raw) {
    const auto bytes = expand(raw);
    if (mode_ == Mode::forward) return exchange_plain(forward_->port(), bytes);
    if (mode_ == Mode::intercept) {
      intercept_test::ProxyClient client(intercept_->port(), "www.example.test", tls_->port(),
                                         intercept_->ca_path(), "www.example.test");
      return exchange_tls(client.io(), bytes);
    }
    DirectTlsClient client(reverse_->port(), sni_);
    return exchange_tls(client.io(), bytes);
  }

  // Reverse mode: the SNI the client sends (default www.example.test).
  void client_sni(std::string sni) { sni_ = std::move(sni); }
  reverse_test::ReverseProxy& reverse() { return *reverse_; }
  intercept_test::InterceptingProxy& intercept() { return *intercept_; }

  BackendLog& backend() { return mode_ == Mode::forward ? plain_->log() : tls_->log(); }
  Mode mode() const { return mode_; }

 private:
  Mode mode_;
  std::string sni_ = "www.example.test";
  std::optional<PlainBackend> plain_;
  std::optional<TlsBackend> tls_;
  std::optional<testsupport::InProcessProxy> forward_;
  std::optional<intercept_test::InterceptingProxy> intercept_;
  std::optional<reverse_test::ReverseProxy> reverse_;
};

}  // namespace tlsprobe::framing_test
