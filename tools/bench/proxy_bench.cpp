// proxy_bench: tlsprobe's forward proxy next to a direct connection, squid and tinyproxy
// (CONNECT), all against one local nginx (TLS 1.3, ECDSA P-256), in interleaved rounds.
// Each figure is the median over rounds of its ratio to the direct connection measured in
// the same round (PEERS.md section 7: raw numbers swing, same-round ratios do not).
//
//   proxy_bench [--rounds N] [--seconds S] [--bulk-mib M] [--idle N]
//
// Figures: new tunnels/s (CONNECT + full TLS handshake + one request), keep-alive
// requests/s over one tunnel, bulk MB/s of one large body, proxy CPU ms per new tunnel
// (utime+stime from /proc), RSS per idle tunnel (5,000 open CONNECT tunnels by default).
#include "certs/ossl.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
using tlsprobe::certs::SslCtxPtr;
using tlsprobe::certs::SslPtr;

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

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

pid_t spawn(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::freopen("/dev/null", "w", stdout);
    ::freopen("/dev/null", "w", stderr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

void wait_port(std::uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    const int fd = tcp_connect(port);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr, "proxy_bench: nothing listens on %u\n", port);
}

std::string sh(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// A CONNECT proxy under test, or the direct connection (port 0 = no proxy).
struct Candidate {
  std::string name;
  std::uint16_t port = 0;
  pid_t pid = -1;
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

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  const auto close = s.rfind(')');
  std::istringstream rest(s.substr(close + 2));
  std::string f;
  std::vector<std::string> fields;
  while (rest >> f) fields.push_back(f);
  // Fields after ")": state is [0]; utime is field 14 of stat -> [11], stime [12].
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / ticks;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

struct Figures {
  double new_per_s = 0, ka_per_s = 0, bulk_mb_s = 0, cpu_ms_per_new = -1;
};

Figures measure(const Candidate& c, SSL_CTX* ctx, std::uint16_t origin, double seconds,
                long long bulk_bytes) {
  Figures f;
  // New tunnels: two client threads, each CONNECT + full handshake + one request.
  {
    const double cpu0 = c.pid > 0 ? cpu_seconds(c.pid) : 0;
    std::atomic<long> done{0};
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    auto worker = [&] {
      while (Clock::now() < end) {
        TlsConn t;
        if (tls_open(t, ctx, c, origin) && tls_get(t, "/", true) >= 0) ++done;
      }
    };
    const auto t0 = Clock::now();
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    f.new_per_s = static_cast<double>(done.load()) / el;
    if (c.pid > 0 && done > 0)
      f.cpu_ms_per_new = (cpu_seconds(c.pid) - cpu0) * 1000.0 / done.load();
  }
  // Keep-alive requests over one tunnel.
  {
    TlsConn t;
    if (tls_open(t, ctx, c, origin)) {
      long n = 0;
      const auto t0 = Clock::now();
      const auto end = t0 + std::chrono::duration<double>(seconds);
      while (Clock::now() < end && tls_get(t, "/", false) >= 0) ++n;
      f.ka_per_s =
          static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
    }
  }
  // Bulk body.
  {
    TlsConn t;
    if (tls_open(t, ctx, c, origin)) {
      const auto t0 = Clock::now();
      const auto got = tls_get(t, "/bulk", true);
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      if (got == bulk_bytes) f.bulk_mb_s = static_cast<double>(got) / 1e6 / el;
    }
  }
  return f;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  double seconds = 1.5;
  long long bulk_mib = 100;
  int idle = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--rounds") rounds = std::atoi(argv[i + 1]);
    if (k == "--seconds") seconds = std::atof(argv[i + 1]);
    if (k == "--bulk-mib") bulk_mib = std::atoll(argv[i + 1]);
    if (k == "--idle") idle = std::atoi(argv[i + 1]);
  }
  ::signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);

  char tmpl[] = "/tmp/tlsprobe-bench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const auto bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path();
  const std::string tlsprobe = (bin_dir / "tlsprobe").string();
  const long long bulk_bytes = bulk_mib * 1024 * 1024;

  // nginx: ECDSA P-256, TLS 1.3, one worker, a bulk file.
  sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "
     "/CN=bench.test -addext subjectAltName=DNS:bench.test -keyout " +
     dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null");
  sh("head -c " + std::to_string(bulk_bytes) + " /dev/zero > " + dir + "/bulk");
  const auto origin = free_port();
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
  std::vector<pid_t> children;
  children.push_back(spawn({"nginx", "-c", dir + "/nginx.conf", "-p", dir}));
  wait_port(origin);

  std::vector<Candidate> cands{{"direct", 0, -1}};
  {
    Candidate t{"tlsprobe", free_port(), -1};
    t.pid = spawn({tlsprobe, "proxy", "--listen", "127.0.0.1:" + std::to_string(t.port), "--log",
                   dir + "/tlsprobe.jsonl", "--no-system-trust", "--ca-file", dir + "/cert.pem",
                   "--admin", "off", "--max-connections-per-client", "1000000"});
    children.push_back(t.pid);
    wait_port(t.port);
    cands.push_back(t);
  }
  if (!sh("command -v squid").empty()) {
    Candidate s{"squid", free_port(), -1};
    std::ofstream conf(dir + "/squid.conf");
    conf << "http_port 127.0.0.1:" << s.port << "\nhttp_access allow all\ncache deny all\n"
         << "access_log none\ncache_log /dev/null\npid_filename none\ncache_mem 8 MB\n"
         << "max_filedescriptors 30000\nshutdown_lifetime 1 second\ncoredump_dir " << dir << "\n";
    conf.close();
    s.pid = spawn({"squid", "-N", "-f", dir + "/squid.conf"});
    children.push_back(s.pid);
    wait_port(s.port);
    cands.push_back(s);
  }
  if (!sh("command -v tinyproxy").empty()) {
    Candidate t{"tinyproxy", free_port(), -1};
    std::ofstream conf(dir + "/tinyproxy.conf");
    conf << "Port " << t.port << "\nListen 127.0.0.1\nTimeout 600\nMaxClients 10000\n"
         << "Allow 127.0.0.1\nLogLevel Critical\n";
    conf.close();
    t.pid = spawn({"tinyproxy", "-d", "-c", dir + "/tinyproxy.conf"});
    children.push_back(t.pid);
    wait_port(t.port);
    cands.push_back(t);
  }

  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);  // full handshakes only
  SSL_CTX_set1_groups_list(ctx.get(), "X25519");

  // Warm-up: the side probe of (127.0.0.1:origin, bench.test) gets cached.
  for (const auto& c : cands) measure(c, ctx.get(), origin, 0.3, bulk_bytes);

  std::map<std::string, std::vector<double>> r_new, r_ka, r_bulk, cpu, raw_new, raw_ka, raw_bulk;
  for (int round = 0; round < rounds; ++round) {
    std::map<std::string, Figures> got;
    // Interleaved: every candidate once per round; the order rotates between rounds.
    for (std::size_t k = 0; k < cands.size(); ++k) {
      const auto& c = cands[(k + static_cast<std::size_t>(round)) % cands.size()];
      got[c.name] = measure(c, ctx.get(), origin, seconds, bulk_bytes);
    }
    const auto& d = got["direct"];
    for (const auto& [name, f] : got) {
      r_new[name].push_back(d.new_per_s > 0 ? f.new_per_s / d.new_per_s : 0);
      r_ka[name].push_back(d.ka_per_s > 0 ? f.ka_per_s / d.ka_per_s : 0);
      r_bulk[name].push_back(d.bulk_mb_s > 0 ? f.bulk_mb_s / d.bulk_mb_s : 0);
      raw_new[name].push_back(f.new_per_s);
      raw_ka[name].push_back(f.ka_per_s);
      raw_bulk[name].push_back(f.bulk_mb_s);
      if (f.cpu_ms_per_new >= 0) cpu[name].push_back(f.cpu_ms_per_new);
    }
    std::fprintf(stderr, "round %d done\n", round + 1);
  }

  std::printf("proxy_bench: %d rounds x %.1f s, bulk %lld MiB, median of same-round ratios\n",
              rounds, seconds, bulk_mib);
  std::printf("%-10s %18s %20s %18s %14s %16s\n", "candidate", "new tunnels/s", "keep-alive req/s",
              "bulk MB/s", "CPU ms/new", "RSS/idle tunnel");
  for (const auto& c : cands) {
    std::string rss = "-";
    if (c.pid > 0 && idle > 0) {
      const long before = rss_kib(c.pid);
      std::vector<int> fds;
      for (int i = 0; i < idle; ++i) {
        const int fd = open_path(c, origin);
        if (fd < 0) break;
        fds.push_back(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const long after = rss_kib(c.pid);
      char b[64];
      std::snprintf(b, sizeof b, "%.1f KiB (%zu)",
                    fds.empty() ? 0.0 : static_cast<double>(after - before) / fds.size(),
                    fds.size());
      rss = b;
      for (int fd : fds) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    char cpu_s[32] = "-";
    if (!cpu[c.name].empty()) std::snprintf(cpu_s, sizeof cpu_s, "%.3f", median(cpu[c.name]));
    std::printf("%-10s %8.0f (%5.2fx) %10.0f (%5.2fx) %8.0f (%5.2fx) %14s %16s\n", c.name.c_str(),
                median(raw_new[c.name]), median(r_new[c.name]), median(raw_ka[c.name]),
                median(r_ka[c.name]), median(raw_bulk[c.name]), median(r_bulk[c.name]), cpu_s,
                rss.c_str());
  }
  for (pid_t p : children) ::kill(p, SIGTERM);
  for (pid_t p : children) ::waitpid(p, nullptr, 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
