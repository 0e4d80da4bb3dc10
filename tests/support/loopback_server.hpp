// Loopback servers for tests: a TCP listener on 127.0.0.1 with an ephemeral port, served
// by a small pool of threads, plus the fault servers the probe tests need. Every server
// stops cleanly (and quickly) in its destructor. See tests/support/README.md.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::testsupport {

// Accepts on 127.0.0.1:0 and runs `handler(fd)` for each connection on one of `workers`
// threads; the fd is closed after the handler returns. Handlers must return promptly once
// stopping() is true: use wait_readable() instead of blocking reads without a timeout.
class LoopbackServer {
 public:
  using Handler = std::function<void(int fd)>;
  // Listens and starts serving at once.
  explicit LoopbackServer(Handler handler, unsigned workers = 4);
  virtual ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool stopping() const { return stopping_.load(); }
  std::size_t connections() const { return connections_.load(); }  // accepted so far
  // Connections the kernel completed that accept() has not taken yet (the listening socket's
  // accept queue): a peer may be connected before connections() counts it.
  std::size_t queued() const;

  // Waits until `fd` is readable, the server stops, or `timeout` passes. True: readable.
  bool wait_readable(int fd, std::chrono::milliseconds timeout) const;

 protected:
  struct Deferred {};
  // Listens (port() is known) but serves only after start(): a derived class calls start()
  // at the end of its constructor, once everything its handler touches exists.
  LoopbackServer(Handler handler, unsigned workers, Deferred);
  void start();
  // Derived classes whose handler touches their own members call this first thing in
  // their destructor, so no handler runs on a half-destroyed object.
  void stop();

 private:
  void accept_loop();
  void worker_loop();

  Handler handler_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connections_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<int> pending_;
  unsigned worker_count_ = 1;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

// Answers whatever it is sent with "HTTP/1.1 400 Bad Request" and closes (a plain-HTTP
// server on a TLS port).
class PlainHttpServer : public LoopbackServer {
 public:
  PlainHttpServer();
  ~PlainHttpServer() override { stop(); }
};

// Reads the ClientHello (the first bytes), then closes without answering.
class CloseMidHandshakeServer : public LoopbackServer {
 public:
  CloseMidHandshakeServer();
  ~CloseMidHandshakeServer() override { stop(); }
};

// Accepts and never answers, keeping the connection open until the client goes away or
// the server stops (a handshake timeout).
class SilentServer : public LoopbackServer {
 public:
  SilentServer();
  ~SilentServer() override { stop(); }
};

// A port on 127.0.0.1 where nothing listens right now (bound, then released): connections
// to it are refused. Racy in theory, fine on a test machine.
std::uint16_t unused_port();

}  // namespace tlsprobe::testsupport
