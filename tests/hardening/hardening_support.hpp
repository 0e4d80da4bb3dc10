// Helpers for the hardening tests: the built tlsprobe binary run as a proxy in a child
// process (as users run it), raw loopback sockets with deadlines, and /proc readings (RSS,
// open descriptors). Everything listens on 127.0.0.1 and every wait is bounded.
#pragma once

#include "support/loopback_server.hpp"
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

using tlsprobe::testsupport::make_temp_dir;

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

// A blocking TCP connection to 127.0.0.1:port (invalid Fd when refused).
inline Fd connect_loopback(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fd();
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

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

inline std::size_t open_fds(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

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

// `tlsprobe proxy` in a child process on 127.0.0.1:0, with its log in a temporary directory.
struct ProxyOptions {
  std::string log{};                 // --log; empty = <dir>/connections.jsonl
  std::string config_toml{};         // written to <dir>/proxy.toml and passed as --config
  std::vector<std::string> extra{};  // more flags ("{dir}" = the proxy's temporary directory)
  rlim_t fd_limit = 0;               // RLIMIT_NOFILE (soft and hard) for the child; 0 = inherit
  // argv run instead of the binary, with the proxy's own argv appended (e.g. `unshare -m sh
  // -c '... && exec "$@"' sh`); it must exec the proxy in the same process, so that pid()
  // and stop() still reach it. wrapper[0] is an absolute path. Empty: run the binary itself.
  std::vector<std::string> wrapper{};
  std::string listen_host = "127.0.0.1";  // --listen HOST:port (an IPv4 literal)
  std::string admin = "off";              // --admin; "127.0.0.1:0" = a port the OS picks
};

class ProxyProcess {
 public:
  explicit ProxyProcess(ProxyOptions o = {}) : dir_(make_temp_dir("hard")) {
    log_ = o.log.empty() ? (dir_ / "connections.jsonl").string() : o.log;
    if (!o.config_toml.empty()) std::ofstream(dir_ / "proxy.toml") << o.config_toml;
    // `--listen 127.0.0.1:0` is refused ("port 0 is not allowed"), so a free port is picked
    // here; another process may take it first, hence a few attempts.
    std::string last_err;
    for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
      const std::uint16_t port = testsupport::unused_port();
      last_err = start(o, port);
      if (last_err.empty()) port_ = port;
    }
    if (port_ == 0) FAIL("tlsprobe proxy did not start: " << last_err);
  }

  ~ProxyProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const fs::path& dir() const { return dir_; }
  const std::string& log_path() const { return log_; }
  std::string stderr_text() const { return read_file(dir_ / "stderr.txt"); }
  // The admin listener's port from the startup line ("admin listener on port N"); 0 if none.
  std::uint16_t admin_port() const {
    static const std::regex line(R"(admin listener on port (\d+))");
    std::smatch m;
    const auto err = stderr_text();
    return std::regex_search(err, m, line) ? static_cast<std::uint16_t>(std::stoul(m[1])) : 0;
  }

  struct Exit {
    int code = -1;  // exit status, -1 when killed by a signal or the limit
    bool timed_out = false;
    double seconds = 0;
  };
  // Sends `sig` and waits for the exit (SIGKILL after `limit`).
  Exit stop(int sig = SIGTERM, std::chrono::milliseconds limit = 15s) {
    Exit e;
    if (pid_ <= 0) return e;
    const auto start = Clock::now();
    ::kill(pid_, sig);
    int status = 0;
    for (;;) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
      if (Clock::now() - start > limit) {
        e.timed_out = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    e.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
    return e;
  }

 private:
  // Starts the child on `port` and waits until it listens. "" on success, else its stderr.
  std::string start(const ProxyOptions& o, std::uint16_t port) {
    std::vector<std::string> args = {TLSPROBE_BINARY,
                                     "proxy",
                                     "--listen",
                                     o.listen_host + ":" + std::to_string(port),
                                     "--log",
                                     log_,
                                     "--admin",
                                     o.admin,
                                     "--no-system-trust"};
    if (!o.config_toml.empty()) {
      args.push_back("--config");
      args.push_back((dir_ / "proxy.toml").string());
    }
    // "{dir}" in a flag stands for this proxy's temporary directory (e.g. a state dir).
    for (auto e : o.extra) {
      if (const auto at = e.find("{dir}"); at != std::string::npos) e.replace(at, 5, dir_.string());
      args.push_back(e);
    }
    if (!o.wrapper.empty()) args.insert(args.begin(), o.wrapper.begin(), o.wrapper.end());
    const auto err_path = (dir_ / "stderr.txt").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Child: only async-signal-safe calls until exec.
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(err, 2);
      if (o.fd_limit) {
        rlimit rl{o.fd_limit, o.fd_limit};
        ::setrlimit(RLIMIT_NOFILE, &rl);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // The proxy announces itself on stderr once it listens.
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      const auto err = read_file(err_path);
      if (err.find("listening on " + o.listen_host + ":" + std::to_string(port)) !=
          std::string::npos)
        return "";
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return err.empty() ? "exited at startup" : err;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return "did not announce its port: " + read_file(err_path);
  }

  fs::path dir_;
  std::string log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tlsprobe::hardening
