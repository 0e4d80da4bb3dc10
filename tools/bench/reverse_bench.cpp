// reverse_bench: what reverse mode costs a CDN. In one run: an in-process HTTPS origin
// (keep-alive, tiny responses), the reverse proxy in front of it (in-process proxy::Server +
// ReverseService, minted client leaf, strict origin verification), and blocking OpenSSL
// clients that measure requests per second and per-request latency, going to the origin
// directly and through the proxy, for keep-alive and for new connections (TLS handshake per
// request). Rounds are interleaved (direct, proxied, direct, ...) and the median of the rounds
// is reported, with the proxied/direct ratio and the added latency.
//
//   reverse_bench [--rounds N] [--seconds S] [--clients C]
#include "certs/authority.hpp"
#include "certs/leaf_minter.hpp"
#include "certs/trust_store.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/net/server.hpp"
#include "proxy/session/reverse_service.hpp"
#include "proxy/session/reverse_session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace tlsprobe;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kHost = "origin.bench";

int listen_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0) {
    std::perror("bind");
    std::exit(2);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads one HTTP message head + Content-Length body from `ssl` (bench traffic only).
bool read_message(SSL* ssl, std::string& in, std::string* head_out = nullptr) {
  std::size_t end;
  char buf[16384];
  while ((end = in.find("\r\n\r\n")) == std::string::npos) {
    const int r = SSL_read(ssl, buf, sizeof buf);
    if (r <= 0) return false;
    in.append(buf, static_cast<std::size_t>(r));
  }
  std::string head = in.substr(0, end + 4);
  in.erase(0, end + 4);
  std::size_t body = 0;
  for (const char* name : {"Content-Length: ", "content-length: "})
    if (auto p = head.find(name); p != std::string::npos) body = std::stoul(head.substr(p + 16));
  while (in.size() < body) {
    const int r = SSL_read(ssl, buf, sizeof buf);
    if (r <= 0) return false;
    in.append(buf, static_cast<std::size_t>(r));
  }
  in.erase(0, body);
  if (head_out) *head_out = std::move(head);
  return true;
}

// The origin: one thread per connection, keep-alive, "ok" for every request.
class Origin {
 public:
  explicit Origin(const certs::MintedLeaf& leaf) : ctx_(certs::make_server_ctx(leaf)) {
    fd_ = listen_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~Origin() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(fd_);
    std::lock_guard lock(mutex_);
    for (int c : open_) ::shutdown(c, SHUT_RDWR);
    for (auto& t : threads_) t.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard lock(mutex_);
      open_.push_back(c);
      threads_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    const int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    SSL_set_fd(ssl.get(), c);
    if (SSL_accept(ssl.get()) == 1) {
      std::string in, head;
      static const std::string res = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      while (read_message(ssl.get(), in, &head)) {
        if (SSL_write(ssl.get(), res.data(), static_cast<int>(res.size())) <= 0) break;
        if (head.find("Connection: close") != std::string::npos) break;
      }
      SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
    std::lock_guard lock(mutex_);
    open_.erase(std::remove(open_.begin(), open_.end(), c), open_.end());
    ::close(c);
  }

  certs::SslCtxPtr ctx_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_;
  std::vector<std::thread> threads_;
};

enum class Conn { keep_alive, new_each };

struct Sample {
  double rps = 0;
  double median_us = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// `clients` threads send requests to `port` for `seconds`; per-request latency recorded.
Sample run_clients(SSL_CTX* ctx, std::uint16_t port, Conn mode, unsigned clients, double seconds) {
  std::atomic<std::uint64_t> done{0};
  std::mutex mutex;
  std::vector<double> lat;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      const std::string req = std::string("GET / HTTP/1.1\r\nHost: ") + kHost +
                              (mode == Conn::new_each ? "\r\nConnection: close" : "") + "\r\n\r\n";
      while (Clock::now() < end) {
        const int fd = connect_loopback(port);
        if (fd < 0) break;
        certs::SslPtr ssl{SSL_new(ctx)};
        SSL_set_fd(ssl.get(), fd);
        SSL_set_tlsext_host_name(ssl.get(), kHost);
        bool ok = true;
        auto t0 = Clock::now();
        if (SSL_connect(ssl.get()) != 1) ok = false;
        std::string in;
        while (ok && Clock::now() < end) {
          if (mode == Conn::keep_alive) t0 = Clock::now();
          if (SSL_write(ssl.get(), req.data(), static_cast<int>(req.size())) <= 0 ||
              !read_message(ssl.get(), in)) {
            ok = false;
            break;
          }
          mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
          ++done;
          if (mode == Conn::new_each) break;
        }
        SSL_shutdown(ssl.get());
        ERR_clear_error();
        ::close(fd);
        if (!ok) break;
      }
      std::lock_guard lock(mutex);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return Sample{static_cast<double>(done.load()) / elapsed, median(lat)};
}

}  // namespace

int main(int argc, char** argv) {
  unsigned rounds = 5, clients = 2;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rounds") rounds = static_cast<unsigned>(std::atoi(argv[i + 1]));
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--clients") clients = static_cast<unsigned>(std::atoi(argv[i + 1]));
  }
  if (rounds == 0 || clients == 0 || seconds <= 0) {
    std::fprintf(stderr, "usage: reverse_bench [--rounds N] [--seconds S] [--clients C]\n");
    return 64;
  }
  ::signal(SIGPIPE, SIG_IGN);

  // Origin: a leaf for origin.bench from a throwaway CA, which the proxy trusts.
  const auto origin_ca = certs::Authority::make_throwaway();
  certs::LeafMinter origin_minter(origin_ca);
  const auto origin_leaf = origin_minter.mint(nullptr, kHost);
  Origin origin(*origin_leaf.leaf);

  proxy::ProxySettings s;
  s.listen = {boost::asio::ip::make_address("127.0.0.1"), 0};
  s.threads = 2;
  proxy::ReverseOptions o;
  o.upstream.address = *proxy::parse_authority("127.0.0.1:" + std::to_string(origin.port()));
  o.upstream.sni = kHost;  // the Host the bench's clients ask for: a served name
  o.authority = certs::Authority::make_throwaway();
  auto trust = std::make_shared<const certs::TrustStore>(
      certs::TrustStore::from_anchors({origin_ca.certificate()}));
  o.trust = trust;
  o.diagnose = [trust](const inspect::Observations& obs) {
    inspect::DiagnoseOptions d;
    d.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    d.trust = trust.get();
    return inspect::diagnose(obs, d);
  };
  proxy::Server server(s, nullptr);
  auto service = std::make_shared<proxy::ReverseService>(std::move(o));
  server.set_session_starter(reverse_session_starter(service));
  if (auto ec = server.start()) {
    std::fprintf(stderr, "reverse_bench: cannot listen: %s\n", ec.message().c_str());
    return 2;
  }
  const std::uint16_t proxy_port = server.local_endpoint().port();
  std::thread proxy_thread([&] { server.run(proxy::SignalHandling::none); });

  certs::SslCtxPtr client_ctx{SSL_CTX_new(TLS_client_method())};
  SSL_CTX_set_min_proto_version(client_ctx.get(), TLS1_2_VERSION);
  // New-connection rounds measure full handshakes, as a CDN's first pull does.
  SSL_CTX_set_session_cache_mode(client_ctx.get(), SSL_SESS_CACHE_OFF);

  std::printf(
      "reverse_bench: %u rounds x %.1f s, %u client threads, origin 127.0.0.1:%u, proxy "
      "127.0.0.1:%u\n",
      rounds, seconds, clients, origin.port(), proxy_port);
  for (Conn mode : {Conn::keep_alive, Conn::new_each}) {
    std::vector<double> d_rps, p_rps, d_lat, p_lat;
    for (unsigned r = 0; r < rounds; ++r) {
      const auto d = run_clients(client_ctx.get(), origin.port(), mode, clients, seconds);
      const auto p = run_clients(client_ctx.get(), proxy_port, mode, clients, seconds);
      d_rps.push_back(d.rps);
      p_rps.push_back(p.rps);
      d_lat.push_back(d.median_us);
      p_lat.push_back(p.median_us);
    }
    const double dr = median(d_rps), pr = median(p_rps), dl = median(d_lat), pl = median(p_lat);
    std::printf(
        "%-16s direct %8.0f req/s %8.0f us | reverse %8.0f req/s %8.0f us | ratio %.2f, "
        "added %.0f us/request\n",
        mode == Conn::keep_alive ? "keep-alive" : "new connection", dr, dl, pr, pl,
        dr > 0 ? pr / dr : 0.0, pl - dl);
  }
  std::printf("origin verdicts: %llu cached, %llu computed\n",
              static_cast<unsigned long long>(service->verdict_hits()),
              static_cast<unsigned long long>(service->verdict_misses()));
  server.shutdown();
  proxy_thread.join();
  return 0;
}
