// Loopback servers for the proxy tests: a tiny keep-alive HTTP/1.1 origin (for absolute-form
// forwarding through the proxy) and a raw TCP echo server (for tunnel transparency and
// half-close). Both on 127.0.0.1 with an ephemeral port, stopped in their destructors.
#pragma once

#include "support/loopback_server.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

// HTTP/1.1 origin. GET /bytes/N answers N bytes of pattern_bytes(N); POST /echo answers the
// request body; anything else answers "hello\n". Bodies by Content-Length or chunked.
// Keeps the connection open unless the request says "Connection: close".
class ProxyOrigin : public LoopbackServer {
 public:
  ProxyOrigin();
  ~ProxyOrigin() override { stop(); }

  // Header lines (lower-case name -> value) of every request, in arrival order.
  std::vector<std::map<std::string, std::string>> requests() const;
  std::vector<std::string> request_lines() const;

 private:
  void serve(int fd);
  mutable std::mutex mutex_;
  std::vector<std::map<std::string, std::string>> requests_;
  std::vector<std::string> lines_;
};

// Deterministic body bytes: byte i is (i * 7 + i / 251) mod 256.
std::string pattern_bytes(std::size_t n);

// Echoes every byte back; when the client half-closes, finishes sending and half-closes too.
class EchoServer : public LoopbackServer {
 public:
  EchoServer();
  ~EchoServer() override { stop(); }
};

}  // namespace tlsprobe::testsupport
