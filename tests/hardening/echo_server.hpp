// A loopback upstream for load and fault tests, in a child process so that its descriptors
// do not count against the test's RLIMIT_NOFILE (10,000 tunnels need 10,000 on each side):
// one epoll loop that echoes every byte back, except that a connection whose first bytes are
// "GET " gets a small HTTP/1.1 response and is closed (for absolute-form requests).
// Fork it before the test starts threads: the child runs only this loop.
#pragma once

#include "hardening/hardening_support.hpp"

#include <sys/epoll.h>

#include <map>

namespace tlsprobe::hardening {

class EchoServerProcess {
 public:
  explicit EchoServerProcess(rlim_t fd_limit = 0) {
    Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    REQUIRE(listener);
    int one = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener.get(), 4096) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (fd_limit) {
        rlimit rl{};
        ::getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = std::min(fd_limit, rl.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &rl);
      }
      serve(listener.get());
      ::_exit(0);
    }
  }
  ~EchoServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  EchoServerProcess(const EchoServerProcess&) = delete;
  EchoServerProcess& operator=(const EchoServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  struct Conn {
    std::string pending;  // bytes not yet echoed (the peer reads slowly)
    bool first = true, http = false, eof = false;
  };

  // Runs until killed (the parent's destructor). The parent dies => the socket pair breaks
  // nothing here, so also stop when the parent is gone (getppid changes to 1 or a subreaper).
  static void serve(int listen_fd) {
    const pid_t parent = ::getppid();
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
    std::map<int, Conn> conns;
    std::vector<epoll_event> events(1024);
    char buf[65536];
    static constexpr std::string_view http_response =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    for (;;) {
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 500);
      if (::getppid() != parent) return;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd) {
          for (int k = 0; k < 256; ++k) {
            const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) break;
            epoll_event cev{};
            cev.events = EPOLLIN | EPOLLRDHUP;
            cev.data.fd = c;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
            conns[c];
          }
          continue;
        }
        auto it = conns.find(fd);
        if (it == conns.end()) continue;
        Conn& c = it->second;
        bool close_it = false;
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
          const auto r = ::recv(fd, buf, sizeof buf, 0);
          if (r > 0) {
            if (c.first) {
              c.first = false;
              c.http = r >= 4 && std::string_view(buf, 4) == "GET ";
              if (c.http) c.pending = http_response;
            }
            if (!c.http) c.pending.append(buf, static_cast<std::size_t>(r));
          } else if (r == 0) {
            c.eof = true;
          } else if (errno != EAGAIN) {
            close_it = true;
          }
        }
        if (!close_it && !c.pending.empty()) {
          const auto w = ::send(fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
          if (w > 0) c.pending.erase(0, static_cast<std::size_t>(w));
          if (w < 0 && errno != EAGAIN) close_it = true;
        }
        if (c.pending.empty() && (c.eof || (c.http && !c.first))) close_it = true;
        epoll_event mod{};
        mod.data.fd = fd;
        // Stop reading while output is pending: the peer's window bounds our memory.
        mod.events = c.pending.empty() ? (EPOLLIN | EPOLLRDHUP) : EPOLLOUT;
        if (close_it) {
          ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          ::close(fd);
          conns.erase(it);
        } else {
          ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &mod);
        }
      }
    }
  }

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tlsprobe::hardening
