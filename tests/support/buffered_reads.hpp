// Buffered, deadline-bounded reads written once for the tests' scripted peers (PlainIo over
// TCP in support/relay_peers.hpp, TlsIo over TLS in intercept/http_peers.hpp), so that one
// scenario reads the same way on either transport. CRTP: `Io` provides `bool stopped()` and
// `long receive(char* buf, std::size_t n)`: the bytes read (> 0), 0 when nothing came before
// the socket's short timeout (try again), < 0 when the peer closed or the transport failed.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tlsprobe::testsupport {

inline constexpr std::size_t kMaxTestRead = 64 * 1024 * 1024;  // any one accumulated read

template <class Io>
class BufferedReads {
 public:
  // Some bytes (buffered first), "" on close, error, stop or deadline.
  std::string read_some(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    if (!pending_.empty()) return std::exchange(pending_, {});
    auto& io = static_cast<Io&>(*this);
    const auto deadline = Clock::now() + limit;
    char buf[16384];
    while (!io.stopped() && Clock::now() <= deadline) {
      const long n = io.receive(buf, sizeof buf);
      if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
      if (n < 0) {
        closed_ = true;
        break;
      }
    }
    return {};
  }

  // The peer closed (or the transport failed) during a read.
  bool closed() const { return closed_; }

  // Everything up to and including `delim` (the rest stays buffered); nullopt on close,
  // deadline or more than `cap` bytes without it (what came stays buffered).
  std::optional<std::string> read_until(std::string_view delim,
                                        std::chrono::milliseconds limit = std::chrono::seconds(10),
                                        std::size_t cap = kMaxTestRead) {
    const auto deadline = Clock::now() + limit;
    std::string acc = std::exchange(pending_, {});
    for (;;) {
      if (auto at = acc.find(delim); at != std::string::npos) {
        pending_ = acc.substr(at + delim.size());
        acc.resize(at + delim.size());
        return acc;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (acc.size() > cap || left.count() <= 0) break;
      auto more = read_some(left);
      if (more.empty()) break;
      acc += more;
    }
    pending_ = std::move(acc);
    return std::nullopt;
  }

  // Exactly n bytes, or what came before close/deadline.
  std::string read_exact(std::size_t n,
                         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = Clock::now() + limit;
    std::string acc = std::exchange(pending_, {});
    while (acc.size() < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      auto more = read_some(left);
      if (more.empty()) break;
      acc += more;
    }
    if (acc.size() > n) {
      pending_ = acc.substr(n);
      acc.resize(n);
    }
    return acc;
  }

 protected:
  using Clock = std::chrono::steady_clock;
  std::string pending_;  // read from the transport, not handed out yet
  bool closed_ = false;
};

}  // namespace tlsprobe::testsupport
