// relay_floor: the least a CONNECT proxy can do, as a benchmark baseline for proxy_bench.
// One thread, one epoll set, no log, no metrics, no ClientHello tap, no timeouts: accept,
// read the CONNECT head, connect, answer 200, then recv(2)/send(2) both ways until both
// sides have closed. What it costs per tunnel in proxy_bench is the kernel's and the
// machine's share (loopback TCP, wake-ups, syscall entry), which any proxy pays; what
// tlsprobe costs above it is tlsprobe's own.
//
//   relay_floor PORT        listens on 127.0.0.1:PORT until killed
//
// Not a proxy to use: it trusts its client, understands only "CONNECT a.b.c.d:port" and
// keeps no limits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Tunnel;

// One socket of a tunnel; the epoll event carries a pointer to it.
struct End {
  Tunnel* tunnel = nullptr;
  int fd = -1;
  bool eof = false;     // its peer sent FIN (passed on as shutdown(SHUT_WR) to the other)
  std::string pending;  // bytes read from the other end that this socket did not take yet
};

struct Tunnel {
  End client, upstream;
  bool closed = false;  // both sockets closed; freed after the current epoll batch
  enum class State { head, connecting, relaying } state = State::head;
  std::string head;
};

constexpr std::uint32_t kIn = EPOLLIN, kOut = EPOLLOUT;
int g_epoll = -1;
std::unordered_map<Tunnel*, std::unique_ptr<Tunnel>> g_tunnels;
std::vector<Tunnel*> g_closed;  // freed once the events of the current batch are handled

void watch(End& e, int op, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &e;
  ::epoll_ctl(g_epoll, op, e.fd, &ev);
}

void close_tunnel(Tunnel* t) {
  if (t->closed) return;
  t->closed = true;
  for (End* e : {&t->client, &t->upstream})
    if (e->fd >= 0) ::close(e->fd);  // close(2) also leaves the epoll set
  g_closed.push_back(t);
}

End& other(End& e) { return &e == &e.tunnel->client ? e.tunnel->upstream : e.tunnel->client; }

// Sends what `to` has pending; false on an error. Until it is all gone, `from` is not read.
bool flush(End& to) {
  while (!to.pending.empty()) {
    const ssize_t n = ::send(to.fd, to.pending.data(), to.pending.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN;
    to.pending.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

void start_connect(Tunnel* t) {
  // "CONNECT 127.0.0.1:443 HTTP/1.1"
  const auto sp = t->head.find(' ');
  const auto colon = t->head.find(':', sp + 1);
  const auto sp2 = t->head.find(' ', colon + 1);
  if (t->head.compare(0, 8, "CONNECT ") != 0 || colon == std::string::npos ||
      sp2 == std::string::npos) {
    close_tunnel(t);
    return;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(t->head.c_str() + colon + 1)));
  if (::inet_pton(AF_INET, t->head.substr(sp + 1, colon - sp - 1).c_str(), &a.sin_addr) != 1) {
    close_tunnel(t);
    return;
  }
  t->upstream.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(t->upstream.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(t->upstream.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 &&
      errno != EINPROGRESS) {
    close_tunnel(t);
    return;
  }
  t->state = Tunnel::State::connecting;
  watch(t->client, EPOLL_CTL_MOD, 0);  // nothing to read from it until the 200
  watch(t->upstream, EPOLL_CTL_ADD, EPOLLOUT);
}

void on_connected(Tunnel* t) {
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(t->upstream.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  static constexpr char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  if (err != 0 || ::send(t->client.fd, ok, sizeof ok - 1, MSG_NOSIGNAL) < 0) {
    close_tunnel(t);
    return;
  }
  t->state = Tunnel::State::relaying;
  watch(t->client, EPOLL_CTL_MOD, EPOLLIN);
  watch(t->upstream, EPOLL_CTL_MOD, EPOLLIN);
  // Bytes the client sent after its head (a ClientHello sent early) go on first.
  const auto end = t->head.find("\r\n\r\n") + 4;
  t->upstream.pending = t->head.substr(end);
  if (!flush(t->upstream)) close_tunnel(t);
}

void on_event(End& e, std::uint32_t events) {
  Tunnel* t = e.tunnel;
  if (t->closed) return;  // an event of the same batch, after its tunnel closed
  char buf[64 * 1024];
  if (t->state == Tunnel::State::head) {
    const ssize_t n = ::recv(e.fd, buf, sizeof buf, 0);
    if (n <= 0) return close_tunnel(t);
    t->head.append(buf, static_cast<std::size_t>(n));
    if (t->head.find("\r\n\r\n") != std::string::npos) start_connect(t);
    return;
  }
  if (t->state == Tunnel::State::connecting) {
    if (&e == &t->upstream) on_connected(t);
    return;
  }
  if (e.eof && (events & (EPOLLHUP | EPOLLERR))) return close_tunnel(t);  // both ways done
  End& to = other(e);
  if (events & EPOLLOUT) {  // `e` drained its pending bytes: read its peer again
    if (!flush(e)) return close_tunnel(t);
    if (e.pending.empty()) {
      watch(e, EPOLL_CTL_MOD, e.eof ? 0 : kIn);
      if (!to.eof) watch(to, EPOLL_CTL_MOD, EPOLLIN);
    }
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !to.pending.empty()) return;
  const ssize_t n = ::recv(e.fd, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno != EAGAIN) close_tunnel(t);
    return;
  }
  if (n == 0) {
    e.eof = true;
    ::shutdown(to.fd, SHUT_WR);
    if (to.eof) return close_tunnel(t);
    watch(e, EPOLL_CTL_MOD, 0);
    return;
  }
  to.pending.assign(buf, static_cast<std::size_t>(n));
  if (!flush(to)) return close_tunnel(t);
  if (!to.pending.empty()) {  // the receiver is slow: wait for it, stop reading here
    watch(to, EPOLL_CTL_MOD, kOut | (to.eof ? 0 : kIn));
    watch(e, EPOLL_CTL_MOD, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: relay_floor PORT\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // inherited
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener, 4096) != 0) {
    std::fprintf(stderr, "relay_floor: cannot listen on 127.0.0.1:%s: %s\n", argv[1],
                 std::strerror(errno));
    return 1;
  }
  g_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  End accept_end;  // the listener's event: data.ptr == &accept_end
  accept_end.fd = listener;
  watch(accept_end, EPOLL_CTL_ADD, EPOLLIN);
  epoll_event events[128];
  for (;;) {
    const int n = ::epoll_wait(g_epoll, events, 128, -1);
    for (int i = 0; i < n; ++i) {
      auto* e = static_cast<End*>(events[i].data.ptr);
      if (e == &accept_end) {
        for (;;) {
          const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          auto owned = std::make_unique<Tunnel>();
          Tunnel* t = owned.get();
          g_tunnels.emplace(t, std::move(owned));
          t->client.tunnel = t->upstream.tunnel = t;
          t->client.fd = fd;
          watch(t->client, EPOLL_CTL_ADD, EPOLLIN);
        }
        continue;
      }
      on_event(*e, events[i].events);
    }
    for (Tunnel* t : g_closed) g_tunnels.erase(t);
    g_closed.clear();
  }
}
