#include "support/loopback_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tlsprobe::testsupport {

namespace {

int listen_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1024) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("bind/listen on 127.0.0.1: " + err);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

std::uint16_t unused_port() {
  std::uint16_t port = 0;
  const int fd = listen_loopback(port);
  ::close(fd);
  return port;
}

LoopbackServer::LoopbackServer(Handler handler, unsigned workers)
    : LoopbackServer(std::move(handler), workers, Deferred{}) {
  start();
}

LoopbackServer::LoopbackServer(Handler handler, unsigned workers, Deferred)
    : handler_(std::move(handler)), worker_count_(workers == 0 ? 1 : workers) {
  // Servers write to sockets their clients may have closed (blocking OpenSSL uses write()):
  // a test process must get EPIPE there, not die of SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  listen_fd_ = listen_loopback(port_);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("pipe2 failed");
  }
}

void LoopbackServer::start() {
  if (acceptor_.joinable()) return;
  acceptor_ = std::thread([this] { accept_loop(); });
  for (unsigned i = 0; i < worker_count_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

LoopbackServer::~LoopbackServer() {
  stop();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void LoopbackServer::stop() {
  if (stopping_.exchange(true)) return;
  // The pipe wakes every poll() in the acceptor and in handlers at once.
  const char byte = 'x';
  [[maybe_unused]] const auto n = ::write(stop_pipe_[1], &byte, 1);
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  std::lock_guard lock(mutex_);
  for (int fd : pending_) ::close(fd);
  pending_.clear();
}

bool LoopbackServer::wait_readable(int fd, std::chrono::milliseconds timeout) const {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  const int r = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (r <= 0 || (fds[1].revents & POLLIN)) return false;
  return (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

std::size_t LoopbackServer::queued() const {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(listen_fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  return info.tcpi_unacked;  // Linux reports a listening socket's accept queue length here
}

void LoopbackServer::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, 1000) <= 0) continue;
    if (fds[1].revents & POLLIN) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(fd);
    }
    cv_.notify_one();
  }
}

void LoopbackServer::worker_loop() {
  for (;;) {
    int fd = -1;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      fd = pending_.front();
      pending_.pop_front();
    }
    try {
      handler_(fd);
    } catch (...) {
      // A test server never takes the test process down; the client sees the close.
    }
    ::close(fd);
  }
}

PlainHttpServer::PlainHttpServer()
    : LoopbackServer([this](int fd) {
        if (!wait_readable(fd, std::chrono::seconds(5))) return;
        char buf[4096];
        [[maybe_unused]] const auto r = ::read(fd, buf, sizeof buf);
        static const char reply[] =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
            "Connection: close\r\n\r\nnot TLS here";
        [[maybe_unused]] const auto w = ::send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL);
      }) {}

CloseMidHandshakeServer::CloseMidHandshakeServer()
    : LoopbackServer([this](int fd) {
        if (!wait_readable(fd, std::chrono::seconds(5))) return;
        char buf[4096];
        [[maybe_unused]] const auto r = ::read(fd, buf, sizeof buf);
      }) {}

SilentServer::SilentServer()
    : LoopbackServer(
          [this](int fd) {
            // Swallow what the client sends; return when it closes or the server stops.
            char buf[4096];
            while (wait_readable(fd, std::chrono::seconds(60)))
              if (::read(fd, buf, sizeof buf) <= 0) return;
          },
          16) {}

}  // namespace tlsprobe::testsupport
