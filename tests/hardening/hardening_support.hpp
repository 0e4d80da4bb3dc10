// Helpers for the hardening tests: raw loopback sockets with deadlines and /proc readings
// (RSS, open descriptors); the proxy itself runs as a child (support/proxy_process.hpp). Everything
// listens on 127.0.0.1 and every wait is bounded.
#pragma once

#include "support/loopback_client.hpp"
#include "support/loopback_server.hpp"
#include "support/proxy_process.hpp"
#include "support/sanitized.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::hardening {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

using testsupport::sanitized_build;

using testsupport::ProxyOptions;
using testsupport::ProxyProcess;
using testsupport::TempDir;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY, owned (invalid Fd when
// refused). Reads poll with their own deadline (read_until), so no socket timeouts.
inline Fd connect_loopback(std::uint16_t port) {
  return Fd(testsupport::connect_loopback(port, {.no_delay = true}));
}

using testsupport::send_all;

struct ReadResult {
  std::string data;
  bool eof = false;      // orderly close seen
  bool error = false;    // reset or other error
  bool timeout = false;  // deadline passed first
};

// Reads until `stop` returns true for the data so far, EOF, an error or the deadline.
template <class Stop>
ReadResult read_until(int fd, std::chrono::milliseconds limit, Stop stop) {
  ReadResult r;
  const auto deadline = Clock::now() + limit;
  char buf[16384];
  while (!stop(r.data)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      r.timeout = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr == 0) continue;
    if (pr < 0) {
      r.error = true;
      break;
    }
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      r.eof = true;
      break;
    }
    if (n < 0) {
      r.error = true;
      break;
    }
    r.data.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

inline ReadResult read_to_end(int fd, std::chrono::milliseconds limit) {
  return read_until(fd, limit, [](const std::string&) { return false; });
}

inline ReadResult read_head(int fd, std::chrono::milliseconds limit) {
  return read_until(fd, limit,
                    [](const std::string& d) { return d.find("\r\n\r\n") != std::string::npos; });
}

// CONNECT through the proxy; the connected tunnel, or an invalid Fd with `status_line` set to
// what the proxy answered instead.
inline Fd open_tunnel(std::uint16_t proxy_port, const std::string& authority,
                      std::string* status_line = nullptr,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  Fd fd = connect_loopback(proxy_port);
  if (!fd) return fd;
  if (!send_all(fd.get(), "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"))
    return Fd();
  auto head = read_head(fd.get(), limit);
  const auto line = head.data.substr(0, head.data.find("\r\n"));
  if (status_line) *status_line = line;
  if (line.rfind("HTTP/1.1 200", 0) != 0) return Fd();
  return fd;
}

// VmRSS of a process in KiB (0 when unknown).
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// CPU seconds (user + system) a process has used so far.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline std::size_t open_fds(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// Short timeouts (a proxy.toml section) so that faults resolve within seconds.
inline constexpr const char* kFastTimeouts = R"(
[timeouts]
connect = "1s"
handshake = "2s"
header = "5s"
idle = "20s"
probe = "3s"
drain = "3s"
)";

// Raises this process's soft descriptor limit to at least `want` (up to the hard limit).
inline std::size_t raise_own_fd_limit(std::size_t want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    rl.rlim_cur = std::min<rlim_t>(want, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

}  // namespace tlsprobe::hardening
