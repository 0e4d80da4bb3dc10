// Scripted peers for the HTTP relay tests of forward and reverse mode (tests/reverse includes
// this file too):
// - PlainIo: blocking plain-TCP I/O where every read and write has a deadline, with the same
//   calls as intercept/http_peers.hpp's TlsIo, so one scenario serves both transports.
// - ScriptedOrigin: a plain-HTTP origin on 127.0.0.1 that runs a test's script on each
//   accepted connection (the forward proxy's upstream).
// - Scenarios written once for any Io: a response that pauses until the client has its first
//   bytes, a chunked response whose framing arrives in separate pieces, and an accepted
//   upgrade whose new protocol echoes.
#pragma once

#include "support/buffered_reads.hpp"
#include "support/loopback_client.hpp"
#include "support/loopback_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace tlsprobe::relaytest {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline void short_socket_timeouts(int fd) {
  testsupport::set_socket_timeouts(fd, 200ms);  // loops below retry until their own deadline
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// One plain TCP connection (either side), blocking, every operation bounded by a deadline.
class PlainIo : public testsupport::BufferedReads<PlainIo> {
 public:
  explicit PlainIo(int fd, std::function<bool()> stopping = {})
      : fd_(fd), stopping_(std::move(stopping)) {
    short_socket_timeouts(fd_);
  }

  bool write(std::string_view data, std::chrono::milliseconds limit = 10s) {
    const auto deadline = Clock::now() + limit;
    while (!data.empty()) {
      if (stopped() || Clock::now() > deadline) return false;
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      return false;
    }
    return true;
  }

  // For BufferedReads: > 0 bytes, 0 on the socket's short timeout, < 0 closed or failed.
  long receive(char* buf, std::size_t n) {
    const auto got = ::recv(fd_, buf, n, 0);
    if (got > 0) return static_cast<long>(got);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return -1;
  }

  bool stopped() const { return stopping_ && stopping_(); }

 private:
  int fd_;
  std::function<bool()> stopping_;
};

// A plain-HTTP origin that runs `script` on every connection (on one of `workers` threads).
class ScriptedOrigin : public testsupport::LoopbackServer {
 public:
  using Script = std::function<void(PlainIo&)>;
  explicit ScriptedOrigin(Script script, unsigned workers = 4)
      : LoopbackServer([this](int fd) { serve(fd); }, workers, Deferred{}),
        script_(std::move(script)) {
    start();
  }
  ~ScriptedOrigin() override { stop(); }

 private:
  void serve(int fd) {
    PlainIo io(fd, [this] { return stopping(); });
    script_(io);
  }
  Script script_;
};

// A client connection to 127.0.0.1:port (-1 on failure) for PlainIo, which sets its own
// timeouts.
using testsupport::connect_loopback;

inline std::string chunk_of(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

// The body of a chunked message (no trailers); nullopt when the framing is broken or the
// last chunk is missing.
inline std::optional<std::string> dechunk(std::string_view wire) {
  std::string body;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const auto eol = wire.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    char* end = nullptr;
    const std::string size_text(wire.substr(pos, eol - pos));
    const auto n = std::strtoull(size_text.c_str(), &end, 16);
    if (end == size_text.c_str()) return std::nullopt;
    if (n == 0) return wire.substr(eol + 2) == "\r\n" ? std::optional(body) : std::nullopt;
    if (eol + 2 + n + 2 > wire.size() || wire.substr(eol + 2 + n, 2) != "\r\n") return std::nullopt;
    body.append(wire.substr(eol + 2, n));
    pos = eol + 2 + n + 2;
  }
  return std::nullopt;
}

// A response that pauses: the origin sends the head and kFirst, then waits (at most
// kOriginPatience) until the client says it has kFirst, then sends kRest. A relay that holds
// pieces back until it has more (or until the message ends) delivers nothing in time.
struct PausingResponse {
  static constexpr std::string_view kFirst = "event: first piece, sent before the pause\n";
  static constexpr std::string_view kRest = "event: the rest, sent once the client had the first\n";
  static constexpr auto kOriginPatience = 5s;
  static constexpr auto kClientPatience = 3s;  // for kFirst, well under kOriginPatience

  bool chunked = false;
  std::atomic<bool> client_has_first{false};
  std::atomic<bool> origin_gave_up{false};

  // The origin's side: one request, the paused answer.
  template <class Io>
  void serve(Io& io) {
    if (!io.read_until("\r\n\r\n", 5s)) return;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n";
    head += chunked
                ? "Transfer-Encoding: chunked\r\n\r\n"
                : "Content-Length: " + std::to_string(kFirst.size() + kRest.size()) + "\r\n\r\n";
    if (!io.write(head + (chunked ? chunk_of(kFirst) : std::string(kFirst)))) return;
    const auto deadline = Clock::now() + kOriginPatience;
    while (!client_has_first && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    if (!client_has_first) {
      origin_gave_up = true;
      return;
    }
    io.write(chunked ? chunk_of(kRest) + "0\r\n\r\n" : std::string(kRest));
    // Stay until the client has read it all (or 3 s): the close must not race the data.
    io.read_some(3s);
  }

  struct Seen {
    bool first_in_time = false;
    std::chrono::milliseconds first_after{0};
    std::string head;
    std::optional<std::string> body;  // decoded, when complete
  };

  // The client's side, after it sent its request.
  template <class Io>
  Seen read(Io& io) {
    Seen out;
    const auto t0 = Clock::now();
    auto upto_first = io.read_until(kFirst, std::chrono::milliseconds(kClientPatience));
    out.first_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    if (!upto_first) return out;
    out.first_in_time = true;
    client_has_first = true;
    const std::string tail_mark = chunked ? "0\r\n\r\n" : std::string(kRest);
    auto rest = io.read_until(tail_mark, 5s);
    if (!rest) return out;
    const std::string wire = *upto_first + *rest;
    const auto split = wire.find("\r\n\r\n");
    out.head = wire.substr(0, split + 4);
    const auto body_wire = wire.substr(split + 4);
    out.body = chunked ? dechunk(body_wire) : std::optional(body_wire);
    return out;
  }
};

// The origin's side of an upgrade it accepted: answers 101, then echoes what it reads,
// upper-cased, until the client closes (at most 10 reads). A stand-in for a WebSocket server:
// the bytes after the 101 are not HTTP, so a relay that still parses them breaks the echo.
template <class Io>
void accept_upgrade_then_echo(Io& io) {
  if (!io.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\n\r\n"))
    return;
  for (int i = 0; i < 10; ++i) {
    auto bytes = io.read_some(5s);
    if (bytes.empty()) return;
    for (auto& c : bytes) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!io.write(bytes)) return;
  }
}

// A chunked response whose framing arrives apart from the data: each chunk-size line, each
// chunk's data and each CRLF is its own write with a pause between, so the relay sees reads
// that parse framing only (which must send nothing: an empty piece is the last chunk).
struct SplitChunks {
  static constexpr int kChunks = 24;

  static std::string body() {
    std::string b;
    for (int i = 0; i < kChunks; ++i) b += "piece " + std::to_string(i) + std::string(i * 7, 'x');
    return b;
  }

  template <class Io>
  static void serve(Io& io) {
    if (!io.read_until("\r\n\r\n", 5s)) return;
    if (!io.write(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"))
      return;
    for (int i = 0; i < kChunks; ++i) {
      const std::string data = "piece " + std::to_string(i) + std::string(i * 7, 'x');
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", data.size());
      for (const std::string& part : {std::string(size), data, std::string("\r\n")}) {
        if (!io.write(part)) return;
        std::this_thread::sleep_for(3ms);
      }
    }
    io.write("0\r\n\r\n");
    io.read_some(3s);  // until the client is done
  }
};

}  // namespace tlsprobe::relaytest
