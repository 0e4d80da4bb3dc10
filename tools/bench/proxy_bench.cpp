// proxy_bench: tlsprobe's forward proxy next to a direct connection, squid and tinyproxy
// (CONNECT), all against one local nginx (TLS 1.3, ECDSA P-256), in interleaved rounds.
// Each figure is the median over rounds of its ratio to the direct connection measured in
// the same round (same_round_ratios.hpp, the driver intercept_bench uses too).
//
//   proxy_bench [--rounds N] [--seconds S] [--bulk-mib M] [--idle N] [--tlsprobe PATH]
//               [--baseline PATH] [--peers yes|no] [--peer-logs both|on|off]
//
// --baseline adds a second tlsprobe binary (e.g. the build before a change) as candidate
// "baseline", measured in the same rounds: a before/after comparison under the same load.
// --peers no leaves squid and tinyproxy out: for profiling tlsprobe alone (perf, strace).
// --peer-logs: each peer logging nothing ("squid", "tinyproxy"), logging each connection as
// Debian ships it ("squid+log", "tinyproxy+log"), or both (the default). tlsprobe always
// writes its ECS record of each connection.
// "floor" is tools/bench/relay_floor, a bare CONNECT relay: the cost any proxy pays here.
//
// Figures: new tunnels/s (CONNECT + full TLS handshake + one request), keep-alive
// requests/s over one tunnel, bulk MB/s of one large body, proxy CPU ms per new tunnel
// (utime+stime from /proc), RSS per idle tunnel (5,000 open CONNECT tunnels by default).
#include "bench_common.hpp"
#include "certs/ossl.hpp"
#include "same_round_ratios.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using tlsprobe::bench::Child;
using tlsprobe::bench::Figures;
using tlsprobe::certs::SslCtxPtr;
using tlsprobe::certs::SslPtr;

std::atomic<bool> g_stop{false};  // SIGINT/SIGTERM: the rounds end, then normal cleanup
extern "C" void on_signal(int) { g_stop.store(true); }

int tcp_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A CONNECT proxy under test, or the direct connection (port 0 = no proxy).
struct Candidate {
  std::string name;
  std::uint16_t port = 0;
  Child proc;  // none for direct
  pid_t pid() const { return proc.pid(); }
};

// Opens a TCP connection to the origin, through `c` with CONNECT when it is a proxy.
int open_path(const Candidate& c, std::uint16_t origin) {
  if (c.port == 0) return tcp_connect(origin);
  const int fd = tcp_connect(c.port);
  if (fd < 0) return -1;
  const std::string req = "CONNECT 127.0.0.1:" + std::to_string(origin) +
                          " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(origin) + "\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string head;
  char ch;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 4096) {
    if (::recv(fd, &ch, 1, 0) != 1) break;
    head.push_back(ch);
  }
  if (head.compare(0, 12, "HTTP/1.1 200") != 0 && head.compare(0, 12, "HTTP/1.0 200") != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct TlsConn {
  int fd = -1;
  SslPtr ssl;
  ~TlsConn() {
    ssl.reset();
    if (fd >= 0) ::close(fd);
  }
};

bool tls_open(TlsConn& t, SSL_CTX* ctx, const Candidate& c, std::uint16_t origin) {
  t.fd = open_path(c, origin);
  if (t.fd < 0) return false;
  t.ssl.reset(SSL_new(ctx));
  SSL_set_fd(t.ssl.get(), t.fd);
  SSL_set_tlsext_host_name(t.ssl.get(), "bench.test");
  return SSL_connect(t.ssl.get()) == 1;
}

// Sends one GET and reads its response (Content-Length bodies only). Returns body bytes.
long long tls_get(TlsConn& t, const std::string& path, bool close) {
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: bench.test\r\n" +
                          (close ? "Connection: close\r\n" : "") + "\r\n";
  if (SSL_write(t.ssl.get(), req.data(), static_cast<int>(req.size())) <= 0) return -1;
  std::string buf;
  std::vector<char> chunk(256 * 1024);
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const int n = SSL_read(t.ssl.get(), chunk.data(), 16384);
    if (n <= 0) return -1;
    buf.append(chunk.data(), static_cast<std::size_t>(n));
  }
  const auto cl = buf.find("Content-Length: ");
  if (cl == std::string::npos) return -1;
  const long long want = std::atoll(buf.c_str() + cl + 16);
  long long have = static_cast<long long>(buf.size() - head_end - 4);
  while (have < want) {
    const int n = SSL_read(t.ssl.get(), chunk.data(), static_cast<int>(chunk.size()));
    if (n <= 0) return -1;
    have += n;
  }
  return want;
}

// Figures of one candidate in one round: "new/s", "cpu ms/new" (proxies only), "ka/s",
// "bulk MB/s".
Figures measure(const Candidate& c, SSL_CTX* ctx, std::uint16_t origin, double seconds,
                long long bulk_bytes) {
  Figures f;
  const pid_t pid = c.pid();
  // New tunnels: two client threads, each CONNECT + full handshake + one request.
  {
    const double cpu0 = pid > 0 ? tlsprobe::bench::tree_cpu_seconds(pid) : 0;
    std::atomic<long> done{0};
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    auto worker = [&] {
      while (Clock::now() < end && !g_stop.load()) {
        TlsConn t;
        if (tls_open(t, ctx, c, origin) && tls_get(t, "/", true) >= 0) ++done;
      }
    };
    const auto t0 = Clock::now();
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    f["new/s"] = static_cast<double>(done.load()) / el;
    if (pid > 0 && done > 0)
      f["cpu ms/new"] = (tlsprobe::bench::tree_cpu_seconds(pid) - cpu0) * 1000.0 / done.load();
  }
  // Keep-alive requests over one tunnel.
  {
    TlsConn t;
    if (tls_open(t, ctx, c, origin)) {
      long n = 0;
      const double cpu0 = pid > 0 ? tlsprobe::bench::tree_cpu_seconds(pid) : 0;
      const auto t0 = Clock::now();
      const auto end = t0 + std::chrono::duration<double>(seconds);
      while (Clock::now() < end && !g_stop.load() && tls_get(t, "/", false) >= 0) ++n;
      f["ka/s"] = static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
      if (pid > 0 && n > 0)
        f["cpu us/ka"] = (tlsprobe::bench::tree_cpu_seconds(pid) - cpu0) * 1e6 / n;
    }
  }
  // Bulk body.
  {
    TlsConn t;
    if (tls_open(t, ctx, c, origin)) {
      const auto t0 = Clock::now();
      const auto got = tls_get(t, "/bulk", true);
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      if (got == bulk_bytes) f["bulk MB/s"] = static_cast<double>(got) / 1e6 / el;
    }
  }
  return f;
}

// KiB of RSS per idle CONNECT tunnel: `idle` tunnels opened (no TLS) and held 300 ms.
std::string rss_per_idle_tunnel(const Candidate& c, std::uint16_t origin, int idle) {
  if (c.pid() <= 0 || idle <= 0) return "-";
  const long before = tlsprobe::bench::tree_status_kib(c.pid(), "VmRSS");
  std::vector<int> fds;
  for (int i = 0; i < idle; ++i) {
    const int fd = open_path(c, origin);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long after = tlsprobe::bench::tree_status_kib(c.pid(), "VmRSS");
  char b[64];
  std::snprintf(b, sizeof b, "%.1f KiB (%zu)",
                fds.empty() ? 0.0 : static_cast<double>(after - before) / fds.size(), fds.size());
  for (int fd : fds) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return b;
}

}  // namespace

Candidate start_tlsprobe(const std::string& name, const std::string& binary,
                         const std::string& dir) {
  Candidate t{name, tlsprobe::bench::free_port(), {}};
  t.proc = Child({binary, "proxy", "--listen", "127.0.0.1:" + std::to_string(t.port), "--log",
                  dir + "/" + name + ".jsonl", "--no-system-trust", "--ca-file", dir + "/cert.pem",
                  "--admin", "off", "--max-connections-per-client", "1000000"},
                 dir + "/" + name + ".out");
  return t;
}

int main(int argc, char** argv) {
  int rounds = 3;
  double seconds = 1.5;
  long long bulk_mib = 100;
  int idle = 5000;
  const auto bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path();
  std::string tlsprobe = (bin_dir / "tlsprobe").string();
  std::string baseline;
  bool peers = true;
  std::string peer_logs = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--rounds") rounds = std::atoi(argv[i + 1]);
    if (k == "--seconds") seconds = std::atof(argv[i + 1]);
    if (k == "--bulk-mib") bulk_mib = std::atoll(argv[i + 1]);
    if (k == "--idle") idle = std::atoi(argv[i + 1]);
    if (k == "--tlsprobe") tlsprobe = argv[i + 1];
    if (k == "--baseline") baseline = argv[i + 1];
    if (k == "--peers") peers = std::string(argv[i + 1]) != "no";
    if (k == "--peer-logs") peer_logs = argv[i + 1];
  }
  if (peer_logs != "both" && peer_logs != "on" && peer_logs != "off") {
    std::fprintf(stderr, "proxy_bench: --peer-logs must be both, on or off, not \"%s\"\n",
                 peer_logs.c_str());
    return 64;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);

  tlsprobe::bench::TempDir tmp("tlsprobe-bench");
  if (!tmp.ok()) {
    std::fprintf(stderr, "proxy_bench: cannot create a temp dir\n");
    return 2;
  }
  const std::string dir = tmp.path();
  const long long bulk_bytes = bulk_mib * 1024 * 1024;
  using tlsprobe::bench::sh;

  // nginx: ECDSA P-256, TLS 1.3, one worker, a bulk file.
  sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "
     "/CN=bench.test -addext subjectAltName=DNS:bench.test -keyout " +
     dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null");
  sh("head -c " + std::to_string(bulk_bytes) + " /dev/zero > " + dir + "/bulk");
  const auto origin = tlsprobe::bench::free_port();
  {
    std::ofstream conf(dir + "/nginx.conf");
    conf << "worker_processes 1; daemon off; pid " << dir << "/nginx.pid; error_log " << dir
         << "/error.log;\nworker_rlimit_nofile 30000;\nevents { worker_connections 20000; }\n"
         << "http { access_log off; client_body_temp_path " << dir << "; proxy_temp_path " << dir
         << "; fastcgi_temp_path " << dir << "; uwsgi_temp_path " << dir << "; scgi_temp_path "
         << dir << ";\n keepalive_requests 1000000; keepalive_timeout 300s; sendfile on;\n"
         << " server { listen 127.0.0.1:" << origin << " ssl; ssl_certificate " << dir
         << "/cert.pem; ssl_certificate_key " << dir
         << "/key.pem; ssl_protocols TLSv1.3; ssl_session_tickets off; ssl_session_cache off;\n"
         << "  location = / { default_type text/plain; return 200 \"ok\\n\"; }\n"
         << "  location = /bulk { default_type application/octet-stream; alias " << dir
         << "/bulk; } } }\n";
  }
  Child nginx({"nginx", "-c", dir + "/nginx.conf", "-p", dir}, dir + "/nginx.out");
  if (!tlsprobe::bench::wait_port(origin, nginx)) {
    std::fprintf(stderr, "proxy_bench: nginx did not start\n");
    return 2;
  }

  std::vector<Candidate> cands;
  cands.push_back(Candidate{"direct", 0, {}});
  // The floor: relay_floor (next to this binary) relays CONNECT tunnels and does nothing
  // else. Its CPU per tunnel is what the kernel and the machine cost any proxy here.
  if (const auto floor_bin = bin_dir / "relay_floor"; std::filesystem::exists(floor_bin)) {
    Candidate f{"floor", tlsprobe::bench::free_port(), {}};
    f.proc = Child({floor_bin.string(), std::to_string(f.port)}, dir + "/floor.out");
    cands.push_back(std::move(f));
  }
  cands.push_back(start_tlsprobe("tlsprobe", tlsprobe, dir));
  if (!baseline.empty()) cands.push_back(start_tlsprobe("baseline", baseline, dir));
  // Each peer as the bench has always run it, logging nothing, and (--peer-logs both, the
  // default) once more logging each connection as Debian ships it: squid's access.log through
  // its log daemon (a child, in the process tree whose CPU is counted), tinyproxy at LogLevel
  // Info into a file. tlsprobe always writes its record per connection; the logging rows
  // compare the same kind of work, the silent rows the relaying alone.
  for (const bool logging : {false, true}) {
    if (!peers || (logging ? peer_logs == "off" : peer_logs == "on")) continue;
    const std::string suffix = logging ? "+log" : "";
    // squid started as root runs as its cache_effective_user (Debian: proxy), and so does
    // its log daemon: the logs go where that user can write.
    const std::string log_dir = dir + "/peer-logs";
    if (logging && !std::filesystem::exists(log_dir)) {
      std::filesystem::create_directory(log_dir);
      if (const passwd* pw = ::getpwnam("proxy"); ::geteuid() == 0 && pw != nullptr) {
        if (::chown(log_dir.c_str(), pw->pw_uid, pw->pw_gid) != 0 ||
            ::chmod(dir.c_str(), 0711) != 0)
          std::fprintf(stderr, "proxy_bench: cannot hand %s to user proxy\n", log_dir.c_str());
      }
    }
    if (tlsprobe::bench::have_command("squid")) {
      Candidate s{"squid" + suffix, tlsprobe::bench::free_port(), {}};
      const std::string conf_path = dir + "/" + s.name + ".conf";
      std::ofstream conf(conf_path);
      conf << "http_port 127.0.0.1:" << s.port << "\nhttp_access allow all\ncache deny all\n"
           << (logging ? "access_log daemon:" + log_dir + "/squid-access.log squid\n"
                       : std::string("access_log none\n"))
           << "cache_log /dev/null\npid_filename none\ncache_mem 8 MB\n"
           << "max_filedescriptors 30000\nshutdown_lifetime 1 second\ncoredump_dir " << dir << "\n";
      conf.close();
      s.proc = Child({"squid", "-N", "-f", conf_path}, dir + "/" + s.name + ".out");
      cands.push_back(std::move(s));
    }
    if (tlsprobe::bench::have_command("tinyproxy")) {
      Candidate t{"tinyproxy" + suffix, tlsprobe::bench::free_port(), {}};
      const std::string conf_path = dir + "/" + t.name + ".conf";
      std::ofstream conf(conf_path);
      conf << "Port " << t.port << "\nListen 127.0.0.1\nTimeout 600\nMaxClients 10000\n"
           << "Allow 127.0.0.1\n"
           << (logging ? "LogFile \"" + log_dir + "/tinyproxy.log\"\nLogLevel Info\n"
                       : std::string("LogLevel Critical\n"));
      conf.close();
      t.proc = Child({"tinyproxy", "-d", "-c", conf_path}, dir + "/" + t.name + ".out");
      cands.push_back(std::move(t));
    }
  }
  for (auto& c : cands)
    if (c.pid() > 0 && !tlsprobe::bench::wait_port(c.port, c.proc))
      std::fprintf(stderr, "proxy_bench: %s did not start: %s\n", c.name.c_str(),
                   tlsprobe::bench::tail_lines(dir + "/" + c.name + ".out", 3).c_str());

  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);  // full handshakes only
  SSL_CTX_set1_groups_list(ctx.get(), "X25519");

  // Warm-up: the side probe of (127.0.0.1:origin, bench.test) gets cached.
  for (const auto& c : cands) measure(c, ctx.get(), origin, 0.3, bulk_bytes);

  const std::string load_start = tlsprobe::bench::load_average();
  std::vector<std::string> names;
  for (const auto& c : cands) names.push_back(c.name);
  tlsprobe::bench::SameRoundRatios res;
  tlsprobe::bench::run_rounds(
      names, rounds,
      [&](std::size_t i) { return measure(cands[i], ctx.get(), origin, seconds, bulk_bytes); }, res,
      g_stop, "proxy_bench");
  const std::string load_end = tlsprobe::bench::load_average();

  std::printf("proxy_bench: %d rounds x %.1f s, bulk %lld MiB, median of same-round ratios\n",
              res.rounds(), seconds, bulk_mib);
  std::printf("load average (1/5/15 min): %s at start, %s at end; %u CPUs\n", load_start.c_str(),
              load_end.c_str(), std::thread::hardware_concurrency());
  std::printf("%-13s %18s %20s %18s %11s %10s %16s\n", "candidate", "new tunnels/s",
              "keep-alive req/s", "bulk MB/s", "CPU ms/new", "CPU us/ka", "RSS/idle tunnel");
  using tlsprobe::bench::raw_and_ratio;
  using tlsprobe::bench::raw_only;
  for (const auto& c : cands) {
    std::printf("%-13s %18s %20s %18s %11s %10s %16s\n", c.name.c_str(),
                raw_and_ratio(res, c.name, "new/s").c_str(),
                raw_and_ratio(res, c.name, "ka/s", "%8.0f").c_str(),
                raw_and_ratio(res, c.name, "bulk MB/s").c_str(),
                raw_only(res, c.name, "cpu ms/new").c_str(),
                raw_only(res, c.name, "cpu us/ka", "%.0f").c_str(),
                rss_per_idle_tunnel(c, origin, g_stop.load() ? 0 : idle).c_str());
  }
  return g_stop.load() ? 130 : 0;
}
