// probe_bench: target probes per second with the in-process Prober against a local TLS
// server, at 1, 16 and 256 concurrent targets, side by side (same run, same server, same
// number of runs at the same concurrency) with `openssl s_client` processes; peak memory.
//
//   probe_bench [--quick]
//
// The server runs in this process on its own thread (Asio, TLS 1.3, ECDSA P-256 leaf from
// a throwaway CA). A "probe" is what `tlsprobe probe` does for a healthy target: the main
// handshake plus the no-SNI handshake for sni.required, plus the client-compatibility
// handshakes (issue 15: DHE only and TLS 1.0/1.1 only, both refused by this TLS 1.3 server;
// Chrome's offer is inferred from the TLS 1.3 main handshake), so four handshakes;
// the "no compat" column is the same probe without the compatibility handshakes (the probe
// before issue 15); the handshake-only column (no extra handshakes at all) compares
// one-to-one with s_client.
#include "certs/authority.hpp"
#include "certs/leaf_minter.hpp"
#include "proxy/probe/prober.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

extern char** environ;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace tlsprobe;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, asio::ssl::context& ctx)
      : stream_(std::move(s), ctx), timer_(stream_.get_executor()) {}
  void start() {
    // Every connection ends within 5 s whatever the client does.
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self = shared_from_this()](auto ec) {
      if (!ec) self->stream_.lowest_layer().close(ec);
    });
    stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](auto ec) {
      if (ec) {
        self->timer_.cancel();
        return;
      }
      self->read();
    });
  }

 private:
  void read() {
    stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](auto ec, std::size_t) {
      if (ec) {
        self->timer_.cancel();
        return;
      }  // close_notify or close: done
      self->read();
    });
  }
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  std::array<char, 4096> buf_{};
};

class BenchServer {
 public:
  explicit BenchServer(const certs::MintedLeaf& leaf)
      : ctx_(asio::ssl::context::tls_server),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    SSL_CTX* c = ctx_.native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_use_certificate(c, leaf.chain.front().x509());
    for (std::size_t i = 1; i < leaf.chain.size(); ++i)
      SSL_CTX_add1_chain_cert(c, leaf.chain[i].x509());
    SSL_CTX_use_PrivateKey(c, leaf.key.get());
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(c, 0);
    acceptor_.listen(1024);
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~BenchServer() {
    asio::post(io_, [this] { acceptor_.close(); });
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept() {
    acceptor_.async_accept([this](auto ec, tcp::socket s) {
      if (ec) return;
      std::make_shared<Session>(std::move(s), ctx_)->start();
      accept();
    });
  }
  asio::io_context io_;
  asio::ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct PrRun {
  double seconds = 0;
  std::size_t ok = 0, handshakes = 0;
};

PrRun run_prober(std::size_t n, std::size_t concurrency, std::uint16_t port,
                 proxy::SniChecks checks, proxy::CompatChecks compat) {
  std::vector<proxy::ProbeRequest> rs(n);
  for (auto& r : rs) {
    r.host = "bench.test";
    r.port = 443;
    r.connect = "127.0.0.1:" + std::to_string(port);
    r.sni_checks = checks;
    r.compat = compat;
    r.timeout = std::chrono::seconds(30);
  }
  PrRun out;
  const auto start = Clock::now();
  const auto all = proxy::probe_all(std::move(rs), concurrency, {}, 1);
  out.seconds = seconds_since(start);
  for (const auto& o : all) {
    out.handshakes += o.handshakes.size();
    // The client-compatibility handshakes (issue 15) are kept apart from the chain views.
    const auto& c = o.compat;
    // Chrome's offer is not a handshake of its own after a TLS 1.3 main handshake.
    const bool browsers_made =
        c.browsers && !(c.browsers->version == "1.3" && !o.handshakes.empty() &&
                        o.handshakes[0].tls_version == "1.3");
    out.handshakes += (browsers_made ? 1 : 0) + (c.dhe ? 1 : 0) + (c.legacy ? 1 : 0) +
                      (c.anything ? 1 : 0) + c.profiles.size() -
                      (c.profiles.empty() ? 0 : 1);  // Chrome's entry repeats `browsers`
    if (!o.handshakes.empty() && o.handshakes[0].outcome == inspect::HandshakeOutcome::ok) ++out.ok;
  }
  return out;
}

PrRun run_s_client(std::size_t n, std::size_t concurrency, std::uint16_t port) {
  const std::string connect = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> argv{"openssl", "s_client",    "-connect",
                                connect,   "-servername", "bench.test"};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  PrRun out;
  std::size_t started = 0, running = 0;
  const auto start = Clock::now();
  while (started < n || running > 0) {
    while (started < n && running < concurrency) {
      pid_t pid;
      if (posix_spawnp(&pid, "openssl", &actions, nullptr, args.data(), environ) != 0) {
        std::fprintf(stderr, "probe_bench: cannot run openssl\n");
        std::exit(1);
      }
      ++started;
      ++running;
    }
    int status = 0;
    if (::waitpid(-1, &status, 0) > 0) {
      --running;
      ++out.handshakes;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++out.ok;
    }
  }
  out.seconds = seconds_since(start);
  posix_spawn_file_actions_destroy(&actions);
  return out;
}

long max_rss_kb(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  auto ca = certs::Authority::make_throwaway();
  certs::LeafMinter minter(ca);
  const auto minted = minter.mint(nullptr, "bench.test");
  if (!minted) {
    std::fprintf(stderr, "probe_bench: cannot mint a leaf: %s\n", minted.detail.c_str());
    return 1;
  }
  BenchServer server(*minted.leaf);
  const long rss_before = max_rss_kb(RUSAGE_SELF);

  std::printf("probe_bench: loopback TLS server in-process (TLS 1.3, ECDSA P-256), %u cores\n",
              std::thread::hardware_concurrency());
  std::printf("%-11s %6s | %12s %12s %10s | %14s | %14s %8s\n", "concurrency", "runs", "probes/s",
              "handshakes/s", "no compat", "handshake-only/s", "s_client/s", "ratio");
  for (std::size_t c : {std::size_t{1}, std::size_t{16}, std::size_t{256}}) {
    const std::size_t n = quick ? std::max<std::size_t>(c, 8) : std::max<std::size_t>(c, 64);
    run_prober(std::min<std::size_t>(n, 8), std::min<std::size_t>(c, 8), server.port(),
               proxy::SniChecks::off, proxy::CompatChecks::off);  // warm-up
    const auto full = run_prober(n, c, server.port(), proxy::SniChecks::with_sni_required,
                                 proxy::CompatChecks::cheap);
    const auto before = run_prober(n, c, server.port(), proxy::SniChecks::with_sni_required,
                                   proxy::CompatChecks::off);
    const auto hs =
        run_prober(n, c, server.port(), proxy::SniChecks::off, proxy::CompatChecks::off);
    const auto sc = run_s_client(n, c, server.port());
    const double hs_rate = hs.ok / hs.seconds, sc_rate = sc.ok / sc.seconds;
    std::printf("%-11zu %6zu | %12.1f %12.1f %10.1f | %16.1f | %14.1f %7.1fx\n", c, n,
                full.ok / full.seconds, full.handshakes / full.seconds, before.ok / before.seconds,
                hs_rate, sc_rate, sc_rate > 0 ? hs_rate / sc_rate : 0.0);
    if (full.ok != n || hs.ok != n || sc.ok != n)
      std::printf("  (failures: probe %zu/%zu, handshake-only %zu/%zu, s_client %zu/%zu ok)\n",
                  full.ok, n, hs.ok, n, sc.ok, n);
  }
  std::printf("peak RSS: this process %ld KiB (%ld KiB before probing), largest s_client %ld KiB\n",
              max_rss_kb(RUSAGE_SELF), rss_before, max_rss_kb(RUSAGE_CHILDREN));
  return 0;
}
