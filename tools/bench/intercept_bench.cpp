// intercept_bench: tlsprobe's intercept mode (`tlsprobe proxy --intercept`) next to a direct
// connection, mitmproxy (mitmdump), sslsplit and squid ssl_bump, all intercepting with one
// ECDSA P-256 CA made by `tlsprobe ca init`, all in front of one local nginx origin (TLS,
// ECDSA P-256 leaf from a test root that every proxy is told to trust, session tickets and
// cache off so that every connection costs full handshakes on both legs).
//
//   intercept_bench [--quick] [--rounds N] [--seconds S] [--bulk-mib M] [--mem-mib M]
//                   [--concurrency C] [--only a,b,...] [--tlsprobe PATH]
//
// Figures, each the median over interleaved rounds of its ratio to the direct connection
// measured in the same round (raw numbers swing on shared machines, same-round ratios do not):
// new connections/s (CONNECT + fresh TLS to the minted leaf + one GET, C concurrent clients),
// keep-alive GETs/s over one connection, bulk MB/s of one large body, the proxy's CPU time per
// new connection (utime+stime of its process tree from /proc), its peak RSS (VmHWM), and its
// RSS while one more connection streams a 1 GiB body (does memory stay flat?).
//
// The client is the same for every candidate: in-process Boost.Asio + OpenSSL, TLS 1.2+,
// X25519, no session resumption, verifying the presented chain and the name origin.test
// against the test root and the interception CA.
#include "bench_common.hpp"
#include "certs/ascii.hpp"
#include "same_round_ratios.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;
using Clock = std::chrono::steady_clock;
using tlsprobe::bench::Child;
using tlsprobe::bench::sh;

constexpr const char* kHost = "origin.test";           // the name every client asks for
constexpr auto kOpTimeout = std::chrono::seconds(15);  // any one connect/read/write/handshake
constexpr std::size_t kMaxHead = 64 * 1024;            // response header limit
constexpr std::size_t kReadChunk = 256 * 1024;         // body read size
constexpr long kFlatGrowthKib = 16 * 1024;             // "memory stays flat": < 16 MiB growth

std::atomic<bool> g_stop{false};  // SIGINT/SIGTERM: every loop ends, then normal cleanup

extern "C" void on_signal(int) { g_stop.store(true); }

struct Options {
  int rounds = 5;
  double seconds = 2.5;
  long long bulk_mib = 256;
  long long mem_mib = 1024;
  int concurrency = 8;
  std::vector<std::string> only;  // empty: every candidate
  std::string tlsprobe;           // default: next to this executable
  bool keep = false;
  std::string phases = "new,keepalive,bulk";  // fewer for profiling one of them              //
                                              // keep the temp dir (configs, logs) for debugging
};

// One thing the client can talk to: the origin itself, or a proxy in front of it.
struct Candidate {
  std::string name;
  std::string note;          // how the client reaches it, what it checks upstream
  std::uint16_t port = 0;    // where the client connects
  bool use_connect = false;  // an explicit proxy: CONNECT `authority` first
  std::string authority;     // CONNECT target
  std::string host_header;   // "origin.test:PORT" (squid builds its URL from it)
  Child proc;                // the proxy (none for direct)
  std::string skipped;       // why it is not measured
  std::string tls_version;   // negotiated on the client's leg
  std::string log;           // the child's stdout+stderr
};

// ---------------------------------------------------------------------------------------
// The client.

// Closes the socket when an operation takes longer than it was armed for. The handler holds
// only a shared flag, so it is harmless after the connection is gone (each io_context runs on
// one thread, so the flag and the socket are never touched concurrently).
class Watchdog {
 public:
  Watchdog(asio::io_context& io, tcp::socket& s)
      : timer_(io), sock_(&s), alive_(std::make_shared<bool>(true)) {}
  ~Watchdog() { *alive_ = false; }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void arm(std::chrono::steady_clock::duration d = kOpTimeout) {
    timer_.expires_after(d);
    timer_.async_wait([alive = alive_, s = sock_](const boost::system::error_code& ec) {
      boost::system::error_code ignored;
      if (!ec && *alive) s->close(ignored);
    });
  }

 private:
  asio::steady_timer timer_;
  tcp::socket* sock_;
  std::shared_ptr<bool> alive_;
};

struct ClientConn {
  ClientConn(asio::io_context& io, asio::ssl::context& ctx)
      : tls(io, ctx), dog(io, tls.next_layer()) {}
  TlsStream tls;
  Watchdog dog;       // declared after tls: destroyed first
  std::string buf;    // bytes read but not consumed yet
  std::string host;   // Host header of its requests
  std::string error;  // what went wrong, for the report
};

// The client's TLS settings: the same for every candidate.
asio::ssl::context make_client_context(const std::vector<std::string>& anchors) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  // X25519 first (its key share is sent); P-256 too, because sslsplit only does P-256 ECDHE
  // (its -G) and would fail the handshake otherwise (it gets a HelloRetryRequest instead).
  SSL_CTX_set1_groups_list(c, "X25519:P-256");
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);  // full handshakes only
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  static constexpr unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(c, alpn, sizeof alpn);
  for (const auto& a : anchors) ctx.load_verify_file(a);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

// Value of header `name` (lower case) in a response head, or nullopt.
std::optional<std::string> header_value(const std::string& head, const std::string& name) {
  const std::string l = tlsprobe::certs::ascii_lower(head);
  const auto pos = l.find("\r\n" + name + ":");
  if (pos == std::string::npos) return std::nullopt;
  auto start = pos + name.size() + 3;
  const auto end = l.find("\r\n", start);
  while (start < end && (l[start] == ' ' || l[start] == '\t')) ++start;
  return l.substr(start, end - start);
}

// TCP (+ CONNECT) + TLS handshake to the candidate, verifying kHost.
asio::awaitable<bool> open_conn(ClientConn& c, const Candidate& cand) {
  auto& sock = c.tls.next_layer();
  c.host = cand.host_header;
  c.dog.arm();
  auto [cec] =
      co_await sock.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), cand.port),
                                  asio::as_tuple(asio::use_awaitable));
  if (cec) {
    c.error = "connect: " + cec.message();
    co_return false;
  }
  boost::system::error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  if (cand.use_connect) {
    const std::string req =
        "CONNECT " + cand.authority + " HTTP/1.1\r\nHost: " + cand.authority + "\r\n\r\n";
    c.dog.arm();
    auto [wec, wn] =
        co_await asio::async_write(sock, asio::buffer(req), asio::as_tuple(asio::use_awaitable));
    c.dog.arm();
    auto [rec, rn] =
        co_await asio::async_read_until(sock, asio::dynamic_buffer(c.buf, kMaxHead), "\r\n\r\n",
                                        asio::as_tuple(asio::use_awaitable));
    if (wec || rec || c.buf.size() < 12 || c.buf.compare(9, 3, "200") != 0 || rn != c.buf.size()) {
      c.error = "CONNECT: " + (wec ? wec.message() : rec ? rec.message() : c.buf.substr(0, 40));
      co_return false;
    }
    c.buf.clear();
  }
  SSL* ssl = c.tls.native_handle();
  SSL_set_tlsext_host_name(ssl, kHost);
  SSL_set1_host(ssl, kHost);
  c.dog.arm();
  auto [hec] = co_await c.tls.async_handshake(asio::ssl::stream_base::client,
                                              asio::as_tuple(asio::use_awaitable));
  if (hec) {
    c.error = "TLS handshake: " + hec.message();
    co_return false;
  }
  co_return true;
}

// Reads until `buf` holds at least `n` bytes (n small: chunk-size lines).
asio::awaitable<bool> read_line(ClientConn& c) {
  c.dog.arm();
  auto [ec, n] = co_await asio::async_read_until(c.tls, asio::dynamic_buffer(c.buf, kMaxHead),
                                                 "\r\n", asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// Consumes `want` body bytes: first what is buffered, then straight from the stream.
asio::awaitable<bool> skip_bytes(ClientConn& c, long long want, std::vector<char>& scratch) {
  const auto from_buf = std::min<long long>(want, static_cast<long long>(c.buf.size()));
  c.buf.erase(0, static_cast<std::size_t>(from_buf));
  want -= from_buf;
  while (want > 0) {
    const auto ask =
        static_cast<std::size_t>(std::min<long long>(want, static_cast<long long>(scratch.size())));
    c.dog.arm();
    auto [ec, n] = co_await c.tls.async_read_some(asio::buffer(scratch.data(), ask),
                                                  asio::as_tuple(asio::use_awaitable));
    if (ec) {
      c.error = "body: " + ec.message();
      co_return false;
    }
    want -= static_cast<long long>(n);
  }
  co_return true;
}

// One GET; returns the body size (-1 on failure). Content-Length and chunked bodies.
asio::awaitable<long long> get(ClientConn& c, const std::string& path, bool close,
                               std::vector<char>& scratch) {
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + c.host +
                          "\r\nUser-Agent: intercept_bench\r\n" +
                          (close ? "Connection: close\r\n" : "") + "\r\n";
  c.dog.arm();
  auto [wec, wn] =
      co_await asio::async_write(c.tls, asio::buffer(req), asio::as_tuple(asio::use_awaitable));
  if (wec) {
    c.error = "request: " + wec.message();
    co_return -1;
  }
  c.dog.arm();
  auto [rec, hn] = co_await asio::async_read_until(c.tls, asio::dynamic_buffer(c.buf, kMaxHead),
                                                   "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
  if (rec) {
    c.error = "response head: " + rec.message();
    co_return -1;
  }
  const std::string head = c.buf.substr(0, hn);
  c.buf.erase(0, hn);
  if (head.size() < 12 || head.compare(9, 3, "200") != 0) {
    c.error = "status: " + head.substr(0, head.find("\r\n"));
    co_return -1;
  }
  const auto te = header_value(head, "transfer-encoding");
  if (te && te->find("chunked") != std::string::npos) {
    long long total = 0;
    for (int i = 0; i < 1'000'000; ++i) {  // bounded: at most a million chunks
      if (!co_await read_line(c)) co_return -1;
      const auto eol = c.buf.find("\r\n");
      const long long size = std::strtoll(c.buf.c_str(), nullptr, 16);
      c.buf.erase(0, eol + 2);
      if (size == 0) {
        if (!co_await read_line(c)) co_return -1;  // the empty line after the last chunk
        c.buf.erase(0, c.buf.find("\r\n") + 2);
        co_return total;
      }
      if (!co_await skip_bytes(c, size, scratch) || !co_await read_line(c)) co_return -1;
      c.buf.erase(0, c.buf.find("\r\n") + 2);
      total += size;
    }
    c.error = "too many chunks";
    co_return -1;
  }
  const auto cl = header_value(head, "content-length");
  if (!cl) {
    c.error = "no Content-Length";
    co_return -1;
  }
  const long long want = std::atoll(cl->c_str());
  if (!co_await skip_bytes(c, want, scratch)) co_return -1;
  co_return want;
}

// First error of a phase, kept for the report.
struct ErrorNote {
  std::mutex m;
  std::string first;
  void note(const std::string& e) {
    std::lock_guard lock(m);
    if (first.empty()) first = e;
  }
};

// Runs `workers` coroutines made by `make(io)` on `threads` io_contexts, one thread each.
template <class Make>
void run_clients(int threads, int workers, Make make) {
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (int t = 0; t < threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
  for (int w = 0; w < workers; ++w) {
    auto& io = *ios[static_cast<std::size_t>(w % threads)];
    asio::co_spawn(io, make(io), asio::detached);
  }
  std::vector<std::thread> running;
  for (auto& io : ios) running.emplace_back([&io] { io->run(); });
  for (auto& t : running) t.join();
}

struct Figures {
  double new_per_s = 0, ka_per_s = 0, bulk_mb_s = 0;
  // The proxy's CPU time (process tree) per unit of each phase; -1 = not measured.
  double cpu_ms_per_new = -1, cpu_us_per_ka = -1, cpu_ms_per_100mb = -1;
  long new_failed = 0;
  std::string error;
};

// New connections: `concurrency` clients, each connection one GET with Connection: close.
void measure_new(Candidate& cand, asio::ssl::context& ctx, const Options& o, Figures& f) {
  const pid_t pid = cand.proc.pid();
  const double cpu0 = pid > 0 ? tlsprobe::bench::tree_cpu_seconds(pid) : 0;
  std::atomic<long> ok{0}, failed{0};
  ErrorNote err, version;
  const auto t0 = Clock::now();
  const auto end =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  run_clients(2, o.concurrency, [&](asio::io_context& io) -> asio::awaitable<void> {
    std::vector<char> scratch(16 * 1024);
    while (!g_stop.load() && Clock::now() < end) {
      ClientConn c(io, ctx);
      const bool good = co_await open_conn(c, cand) && co_await get(c, "/", true, scratch) >= 0;
      if (good) {
        version.note(SSL_get_version(c.tls.native_handle()));
        ++ok;
      } else {
        ++failed;
        err.note(c.error);
      }
    }
  });
  const double el = std::chrono::duration<double>(Clock::now() - t0).count();
  f.new_per_s = static_cast<double>(ok.load()) / el;
  f.new_failed = failed.load();
  if (!version.first.empty()) cand.tls_version = version.first;
  if (!err.first.empty()) f.error = "new: " + err.first;
  if (pid > 0 && ok.load() > 0)
    f.cpu_ms_per_new = (tlsprobe::bench::tree_cpu_seconds(pid) - cpu0) * 1000.0 / ok.load();
}

// Keep-alive: sequential GETs over one connection for `seconds`.
void measure_keepalive(const Candidate& cand, asio::ssl::context& ctx, const Options& o,
                       Figures& f) {
  run_clients(1, 1, [&](asio::io_context& io) -> asio::awaitable<void> {
    std::vector<char> scratch(16 * 1024);
    ClientConn c(io, ctx);
    if (!co_await open_conn(c, cand)) {
      f.error = "keep-alive: " + c.error;
      co_return;
    }
    long n = 0;
    const pid_t pid = cand.proc.pid();
    const double cpu0 = pid > 0 ? tlsprobe::bench::tree_cpu_seconds(pid) : 0;
    const auto t0 = Clock::now();
    const auto end =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    while (!g_stop.load() && Clock::now() < end) {
      if (co_await get(c, "/", false, scratch) < 0) {
        f.error = "keep-alive: " + c.error;
        break;
      }
      ++n;
    }
    f.ka_per_s = static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
    if (pid > 0 && n > 0)
      f.cpu_us_per_ka =
          (tlsprobe::bench::tree_cpu_seconds(pid) - cpu0) * 1e6 / static_cast<double>(n);
  });
}

// One large body over one connection; returns MB/s (0 on failure). `during` runs on the side
// every 20 ms while the body streams (memory sampling).
template <class During>
double stream_body(const Candidate& cand, asio::ssl::context& ctx, const std::string& path,
                   long long bytes, std::string& error, During during) {
  std::atomic<bool> done{false};
  double mb_s = 0;
  std::thread side([&] {
    while (!done.load()) {
      during();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  run_clients(1, 1, [&](asio::io_context& io) -> asio::awaitable<void> {
    std::vector<char> scratch(kReadChunk);
    ClientConn c(io, ctx);
    if (!co_await open_conn(c, cand)) {
      error = c.error;
      co_return;
    }
    const auto t0 = Clock::now();
    const long long got = co_await get(c, path, true, scratch);
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    if (got == bytes)
      mb_s = static_cast<double>(got) / 1e6 / el;
    else
      error = got < 0 ? c.error : "short body: " + std::to_string(got);
  });
  done.store(true);
  side.join();
  return mb_s;
}

Figures measure(Candidate& cand, asio::ssl::context& ctx, const Options& o) {
  Figures f;
  if (o.phases.find("new") != std::string::npos) measure_new(cand, ctx, o, f);
  if (!g_stop.load() && o.phases.find("keepalive") != std::string::npos)
    measure_keepalive(cand, ctx, o, f);
  if (!g_stop.load() && o.phases.find("bulk") != std::string::npos) {
    std::string err;
    const pid_t pid = cand.proc.pid();
    const double cpu0 = pid > 0 ? tlsprobe::bench::tree_cpu_seconds(pid) : 0;
    f.bulk_mb_s = stream_body(cand, ctx, "/bulk", o.bulk_mib << 20, err, [] {});
    if (pid > 0 && f.bulk_mb_s > 0)
      f.cpu_ms_per_100mb = (tlsprobe::bench::tree_cpu_seconds(pid) - cpu0) * 1000.0 /
                           (static_cast<double>(o.bulk_mib << 20) / 1e8);
    if (!err.empty() && f.error.empty()) f.error = "bulk: " + err;
  }
  return f;
}

// ---------------------------------------------------------------------------------------
// The setup: certificates, origin, proxies.

struct Lab {
  std::string dir;
  std::string root, root_key;  // test root the origin chains to (every proxy trusts it)
  std::string origin_cert, origin_key;
  std::string ca, ca_key;  // the interception CA (tlsprobe ca init)
  std::string hosts;       // a hosts file: origin.test -> 127.0.0.1
  std::uint16_t origin_port = 0;
  Child origin;
};

bool run_ok(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// Test root and the origin's leaf (origin.test and 127.0.0.1), ECDSA P-256, 30 days.
bool make_origin_pki(Lab& lab) {
  lab.root = lab.dir + "/root.pem";
  lab.root_key = lab.dir + "/root-key.pem";
  lab.origin_cert = lab.dir + "/origin.pem";
  lab.origin_key = lab.dir + "/origin-key.pem";
  const std::string ext = lab.dir + "/origin.ext";
  std::ofstream(ext) << "subjectAltName=DNS:" << kHost << ",IP:127.0.0.1\n"
                     << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                     << "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                     << "authorityKeyIdentifier=keyid\n";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
  return run_ok("openssl req -x509" + ec + "-days 30 -subj '/CN=intercept_bench test root' " +
                "-addext basicConstraints=critical,CA:TRUE -addext " +
                "keyUsage=critical,keyCertSign,cRLSign -keyout " + lab.root_key + " -out " +
                lab.root) &&
         run_ok("openssl req" + ec + "-subj /CN=" + kHost + " -keyout " + lab.origin_key +
                " -out " + lab.dir + "/origin.csr") &&
         run_ok("openssl x509 -req -in " + lab.dir + "/origin.csr -CA " + lab.root + " -CAkey " +
                lab.root_key + " -CAcreateserial -days 30 -extfile " + ext + " -out " +
                lab.origin_cert);
}

// Sparse files: the origin reads zeros without using disk.
void make_sparse(const std::string& path, long long bytes) {
  std::ofstream(path).close();
  fs::resize_file(path, static_cast<std::uintmax_t>(bytes));
}

bool start_origin(Lab& lab, const Options& o) {
  make_sparse(lab.dir + "/bulk", o.bulk_mib << 20);
  make_sparse(lab.dir + "/mem", o.mem_mib << 20);
  lab.origin_port = tlsprobe::bench::free_port();
  const std::string& d = lab.dir;
  std::ofstream conf(d + "/nginx.conf");
  conf << "worker_processes 1; pid " << d << "/nginx.pid; error_log " << d << "/nginx-error.log;\n"
       << "worker_rlimit_nofile 8192; events { worker_connections 4096; }\n"
       << "http { access_log off; client_body_temp_path " << d << "; proxy_temp_path " << d
       << "; fastcgi_temp_path " << d << "; uwsgi_temp_path " << d << "; scgi_temp_path " << d
       << ";\n keepalive_requests 1000000; keepalive_timeout 300s; sendfile on;\n"
       << " server { listen 127.0.0.1:" << lab.origin_port << " ssl; ssl_certificate "
       << lab.origin_cert << "; ssl_certificate_key " << lab.origin_key << ";\n"
       << "  ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519:prime256v1;\n"
       << "  ssl_session_tickets off; ssl_session_cache off;\n"
       << "  location = / { default_type text/plain; return 200 \"ok\\n\"; }\n"
       << "  location = /bulk { default_type application/octet-stream; alias " << d << "/bulk; }\n"
       << "  location = /mem { default_type application/octet-stream; alias " << d << "/mem; }\n"
       << " } }\n";
  conf.close();
  // As root the worker must stay root to read the private temp dir.
  const std::string g =
      ::geteuid() == 0 ? "daemon off; master_process on; user root;" : "daemon off;";
  lab.origin =
      Child({"nginx", "-p", d, "-c", d + "/nginx.conf", "-e", d + "/nginx-error.log", "-g", g},
            d + "/nginx.out");
  return tlsprobe::bench::wait_port(lab.origin_port, lab.origin);
}

std::string origin_authority(const Lab& lab) {
  return std::string(kHost) + ":" + std::to_string(lab.origin_port);
}

// Starts `argv` for `c`, waits until it listens; on failure sets c.skipped with its log.
void launch(Candidate& c, const std::vector<std::string>& argv, const Lab& lab) {
  c.log = lab.dir + "/" + c.name + ".out";
  c.proc = Child(argv, c.log);
  if (!tlsprobe::bench::wait_port(c.port, c.proc)) {
    c.skipped = "did not start: " + tlsprobe::bench::tail_lines(c.log, 3);
    c.proc.stop();
  }
}

Candidate make_direct(const Lab& lab) {
  Candidate c;
  c.name = "direct";
  c.port = lab.origin_port;
  c.note = "client -> nginx (TLS, origin.test)";
  return c;
}

Candidate make_tlsprobe(const Lab& lab, const Options& o) {
  Candidate c;
  c.name = "tlsprobe";
  c.port = tlsprobe::bench::free_port();
  c.use_connect = true;
  c.authority = origin_authority(lab);
  c.note =
      "CONNECT origin.test; [resolve] in its config; verifies upstream (trust = test root "
      "only); writes its JSON connection log";
  if (::access(o.tlsprobe.c_str(), X_OK) != 0) {
    c.skipped = "not built (" + o.tlsprobe + ")";
    return c;
  }
  const std::string conf = lab.dir + "/tlsprobe.toml";
  std::ofstream(conf) << "listen = \"127.0.0.1:" << c.port << "\"\nadmin = \"off\"\n"
                      << "[trust]\nca_files = [\"" << lab.root << "\"]\nsystem = false\n"
                      << "[log]\nfile = \"" << lab.dir << "/tlsprobe.jsonl\"\n"
                      << "stderr_findings = false\n"
                      << "[intercept]\nenabled = true\nstate_dir = \"" << lab.dir << "/state\"\n"
                      << "[limits]\nmax_connections_per_client = 1000000\n"
                      << "[resolve]\n\"" << c.authority << "\" = \"127.0.0.1\"\n";
  launch(c, {o.tlsprobe, "proxy", "--config", conf}, lab);
  return c;
}

// mitmdump resolves with the system resolver and has no hosts option: it runs in a private
// mount namespace where a bind-mounted hosts file names origin.test (gone with the process;
// /etc/hosts itself is never touched). Without that (not root), it is asked for 127.0.0.1 by
// CONNECT, still with SNI origin.test.
Candidate make_mitmdump(const Lab& lab) {
  Candidate c;
  c.name = "mitmdump";
  if (!tlsprobe::bench::have_command("mitmdump")) {
    c.skipped = "not installed";
    return c;
  }
  c.port = tlsprobe::bench::free_port();
  c.use_connect = true;
  const std::string confdir = lab.dir + "/mitm";
  fs::create_directories(confdir);
  // mitmproxy wants key and certificate in one PEM named mitmproxy-ca.pem in its confdir.
  std::ofstream(confdir + "/mitmproxy-ca.pem")
      << tlsprobe::bench::read_text(lab.ca_key) << tlsprobe::bench::read_text(lab.ca);
  const std::string cmd = "mitmdump -q --listen-host 127.0.0.1 --listen-port " +
                          std::to_string(c.port) + " --set confdir=" + confdir +
                          " --set ssl_verify_upstream_trusted_ca=" + lab.root +
                          " --set stream_large_bodies=1m";
  const bool ns = run_ok("unshare -m --propagation private true");
  if (ns) {
    c.authority = origin_authority(lab);
    c.note =
        "CONNECT origin.test (hosts file bind-mounted in a private mount namespace); "
        "verifies upstream; stream_large_bodies=1m (its default buffers whole bodies)";
    launch(c,
           {"unshare", "-m", "--propagation", "private", "sh", "-c",
            "mount --bind " + lab.hosts + " /etc/hosts && exec " + cmd},
           lab);
  } else {
    c.authority = "127.0.0.1:" + std::to_string(lab.origin_port);
    c.note =
        "CONNECT 127.0.0.1 (no private mount namespace here), SNI origin.test; verifies "
        "upstream; stream_large_bodies=1m";
    launch(c, {"sh", "-c", "exec " + cmd}, lab);
  }
  return c;
}

// sslsplit is transparent only: a static target, and the client talks TLS to its port.
// `ssl` mode (opaque bytes) because `https` mode turns keep-alive off.
Candidate make_sslsplit(const Lab& lab) {
  Candidate c;
  c.name = "sslsplit";
  if (!tlsprobe::bench::have_command("sslsplit")) {
    c.skipped = "not installed";
    return c;
  }
  c.port = tlsprobe::bench::free_port();
  c.note =
      "static target, no CONNECT (TLS straight to its port), `ssl` mode; does NOT verify "
      "the upstream certificate (0.5.5 has no option for it)";
  // Its leaf key: ECDSA P-256 like everyone's (its default is RSA-2048).
  const std::string leaf_key = lab.dir + "/sslsplit-leaf-key.pem";
  if (!run_ok("openssl ecparam -name prime256v1 -genkey -noout -out " + leaf_key)) {
    c.skipped = "cannot make its leaf key";
    return c;
  }
  launch(c,
         {"sslsplit", "-k", lab.ca_key, "-c", lab.ca, "-K", leaf_key, "ssl", "127.0.0.1",
          std::to_string(c.port), "127.0.0.1", std::to_string(lab.origin_port)},
         lab);
  return c;
}

// squid ssl_bump, server-first (stare, then bump: it mimics the upstream certificate).
Candidate make_squid(const Lab& lab) {
  Candidate c;
  c.name = "squid-bump";
  const std::string certgen = "/usr/lib/squid/security_file_certgen";
  if (!tlsprobe::bench::have_command("squid") || ::access(certgen.c_str(), X_OK) != 0) {
    c.skipped = "not installed";
    return c;
  }
  c.port = tlsprobe::bench::free_port();
  c.use_connect = true;
  c.authority = origin_authority(lab);
  c.note =
      "CONNECT origin.test (its hosts_file); ssl_bump stare+bump; verifies upstream "
      "(tls_outgoing_options cafile=test root)";
  // squid drops to its own user: its files live in a dir of their own that user can read.
  const std::string sd = lab.dir + "/squid";
  fs::create_directories(sd);
  std::ofstream(sd + "/ca.pem") << tlsprobe::bench::read_text(lab.ca)
                                << tlsprobe::bench::read_text(lab.ca_key);
  fs::copy_file(lab.root, sd + "/root.pem");
  fs::copy_file(lab.hosts, sd + "/hosts");
  if (!run_ok(certgen + " -c -s " + sd + "/ssl_db -M 4MB")) {
    c.skipped = "security_file_certgen -c failed";
    return c;
  }
  std::string user_line;
  if (::geteuid() == 0 && ::getpwnam("proxy") != nullptr) {
    run_ok("chown -R proxy:proxy " + sd);
    ::chmod(lab.dir.c_str(), 0711);  // traversable, not listable
    user_line = "cache_effective_user proxy\n";
  }
  std::ofstream(sd + "/squid.conf")
      << "http_port 127.0.0.1:" << c.port << " ssl-bump tls-cert=" << sd << "/ca.pem"
      << " generate-host-certificates=on dynamic_cert_mem_cache_size=4MB\n"
      << "sslcrtd_program " << certgen << " -s " << sd << "/ssl_db -M 4MB\n"
      << "sslcrtd_children 3 startup=1 idle=1\n"
      << "ssl_bump stare all\nssl_bump bump all\n"
      << "tls_outgoing_options cafile=" << sd << "/root.pem\n"
      << "hosts_file " << sd << "/hosts\n"
      << "http_access allow all\ncache deny all\naccess_log none\ncache_log " << sd
      << "/cache.log\npid_filename none\ncache_mem 8 MB\nmax_filedescriptors 8192\n"
      << "shutdown_lifetime 1 second\ncoredump_dir " << sd << "\n"
      << user_line;
  launch(c, {"squid", "-N", "-f", sd + "/squid.conf"}, lab);
  if (!c.skipped.empty()) c.skipped += " " + tlsprobe::bench::tail_lines(sd + "/cache.log", 3);
  return c;
}

bool wanted(const Options& o, const std::string& name) {
  if (name == "direct" || o.only.empty()) return true;
  return std::find(o.only.begin(), o.only.end(), name) != o.only.end();
}

// ---------------------------------------------------------------------------------------
// Memory while streaming a large body through a proxy.

struct MemFigures {
  long peak_run_kib = 0;  // VmHWM over the whole run so far
  long before_kib = 0, peak_kib = 0, after_kib = 0;
  double mb_s = 0;
  bool hwm_reset = false;
  std::string error;
};

MemFigures measure_memory(const Candidate& cand, asio::ssl::context& ctx, const Options& o) {
  MemFigures m;
  const pid_t pid = cand.proc.pid();
  m.peak_run_kib = tlsprobe::bench::tree_status_kib(pid, "VmHWM");
  // Peak of the transfer alone: reset the high-water mark, and also sample RSS (in case the
  // kernel refuses the reset).
  m.hwm_reset = tlsprobe::bench::reset_peak_rss(pid);
  m.before_kib = tlsprobe::bench::tree_status_kib(pid, "VmRSS");
  long sampled = m.before_kib;
  m.mb_s = stream_body(cand, ctx, "/mem", o.mem_mib << 20, m.error, [&] {
    sampled = std::max(sampled, tlsprobe::bench::tree_status_kib(pid, "VmRSS"));
  });
  m.after_kib = tlsprobe::bench::tree_status_kib(pid, "VmRSS");
  m.peak_kib = sampled;
  if (m.hwm_reset)
    m.peak_kib = std::max(m.peak_kib, tlsprobe::bench::tree_status_kib(pid, "VmHWM"));
  return m;
}

// ---------------------------------------------------------------------------------------
// Report.

std::string fmt(const char* f, double a, double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

struct Results {
  tlsprobe::bench::SameRoundRatios ratios;  // new/s, ka/s, bulk MB/s and the CPU figures
  std::map<std::string, long> failures;
  std::map<std::string, std::string> errors;
  std::map<std::string, MemFigures> mem;
};

// The figures of one measurement by name, for the shared same-round driver; CPU figures only
// when measured.
tlsprobe::bench::Figures named(const Figures& f) {
  tlsprobe::bench::Figures out{
      {"new/s", f.new_per_s}, {"ka/s", f.ka_per_s}, {"bulk MB/s", f.bulk_mb_s}};
  if (f.cpu_ms_per_new >= 0) out["cpu ms/new"] = f.cpu_ms_per_new;
  if (f.cpu_us_per_ka >= 0) out["cpu us/ka"] = f.cpu_us_per_ka;
  if (f.cpu_ms_per_100mb >= 0) out["cpu ms/100MB"] = f.cpu_ms_per_100mb;
  return out;
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

void print_table(const std::vector<Candidate>& cands, const Results& res, const Options& o) {
  std::printf("%-11s %17s %19s %17s %11s %9s   %s\n", "candidate", "new conn/s", "keep-alive req/s",
              "bulk MB/s", "CPU ms/new", "peak RSS",
              (std::to_string(o.mem_mib) + " MiB body: RSS before -> peak -> after").c_str());
  for (const auto& c : cands) {
    if (!c.skipped.empty()) {
      std::printf("%-11s %s\n", c.name.c_str(), c.skipped.c_str());
      continue;
    }
    const auto& n = c.name;
    const auto& r = res.ratios;
    std::string cpu = tlsprobe::bench::raw_only(r, n, "cpu ms/new", "%.2f"), peak = "-", mem = "-";
    if (res.mem.count(n)) {
      const auto& m = res.mem.at(n);
      peak = fmt("%.0f MiB", mib(m.peak_run_kib), 0);
      if (m.error.empty()) {
        char buf[160];
        const long growth = m.peak_kib - m.before_kib;
        std::snprintf(buf, sizeof buf, "%.0f -> %.0f -> %.0f MiB (%+.1f MiB, %s; %.0f MB/s)",
                      mib(m.before_kib), mib(m.peak_kib), mib(m.after_kib), mib(growth),
                      growth < kFlatGrowthKib ? "flat" : "GROWS", m.mb_s);
        mem = buf;
      } else {
        mem = "failed: " + m.error;
      }
    }
    std::printf("%-11s %17s %19s %17s %11s %9s   %s\n", n.c_str(),
                tlsprobe::bench::raw_and_ratio(r, n, "new/s").c_str(),
                tlsprobe::bench::raw_and_ratio(r, n, "ka/s", "%7.0f").c_str(),
                tlsprobe::bench::raw_and_ratio(r, n, "bulk MB/s").c_str(), cpu.c_str(),
                peak.c_str(), mem.c_str());
  }
  // CPU per unit of work does not depend on how busy the machine is: it explains the ratios.
  std::printf("\nProxy CPU (utime+stime of its process tree), median over rounds:\n");
  std::printf("  %-11s %14s %22s %20s\n", "candidate", "ms per new conn", "us per keep-alive req",
              "ms per 100 MB bulk");
  for (const auto& c : cands) {
    if (!c.skipped.empty() || c.proc.pid() <= 0) continue;
    const auto at = [&](const char* figure, const char* f) {
      return tlsprobe::bench::raw_only(res.ratios, c.name, figure, f);
    };
    std::printf("  %-11s %14s %22s %20s\n", c.name.c_str(), at("cpu ms/new", "%.2f").c_str(),
                at("cpu us/ka", "%.0f").c_str(), at("cpu ms/100MB", "%.0f").c_str());
  }
  std::printf("\nHow each candidate was reached (client TLS version in brackets):\n");
  for (const auto& c : cands) {
    if (!c.skipped.empty()) continue;
    std::printf("  %-11s [%s] %s\n", c.name.c_str(), c.tls_version.c_str(), c.note.c_str());
    const auto f = res.failures.find(c.name);
    if (f != res.failures.end() && f->second > 0)
      std::printf("  %-11s   %ld failed new connections\n", "", f->second);
    const auto e = res.errors.find(c.name);
    if (e != res.errors.end() && !e->second.empty())
      std::printf("  %-11s   first error: %s\n", "", e->second.c_str());
  }
}

void print_goals(const Results& res) {
  const std::string n = "tlsprobe";
  const auto& r = res.ratios;
  if (!r.has(n, "new/s")) return;
  auto line = [](const char* what, bool met, const std::string& got) {
    std::printf("  %-44s %-6s %s\n", what, met ? "met" : "MISSED", got.c_str());
  };
  std::printf("\nGoals for tlsprobe (issue 4 item 7):\n");
  const double nw = r.ratio(n, "new/s"), ka = r.ratio(n, "ka/s"), bulk = r.ratio(n, "bulk MB/s");
  const bool has_new = r.raw(n, "new/s") > 0 || r.raw("direct", "new/s") > 0;
  if (has_new) line("new connections >= 0.5x direct", nw >= 0.5, fmt("%.2fx", nw, 0));
  if (r.has(n, "cpu ms/new")) {
    const double cpu = r.raw(n, "cpu ms/new");
    line("proxy CPU per new connection <= 1.6 ms", cpu <= 1.6, fmt("%.2f ms", cpu, 0));
  }
  if (r.raw("direct", "ka/s") > 0)
    line("keep-alive >= 0.6x direct", ka >= 0.6, fmt("%.2fx", ka, 0));
  if (r.raw("direct", "bulk MB/s") > 0)
    line("bulk >= 0.7x direct", bulk >= 0.7, fmt("%.2fx", bulk, 0));
  if (res.mem.count(n)) {
    const auto& m = res.mem.at(n);
    const long growth = m.peak_kib - m.before_kib;
    line("memory flat while streaming the large body", m.error.empty() && growth < kFlatGrowthKib,
         fmt("%+.1f MiB", mib(growth), 0));
  }
}

// ---------------------------------------------------------------------------------------

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ',') {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  o.tlsprobe = (fs::canonical("/proc/self/exe").parent_path() / "tlsprobe").string();
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const bool has_value = i + 1 < argc;
    if (k == "--quick") {
      o.rounds = 3;
      o.seconds = 1.0;
      o.bulk_mib = 64;
      o.mem_mib = 256;
    } else if (k == "--rounds" && has_value) {
      o.rounds = std::clamp(std::atoi(argv[++i]), 1, 50);
    } else if (k == "--seconds" && has_value) {
      o.seconds = std::clamp(std::atof(argv[++i]), 0.2, 60.0);
    } else if (k == "--bulk-mib" && has_value) {
      o.bulk_mib = std::clamp(std::atoll(argv[++i]), 1LL, 4096LL);
    } else if (k == "--mem-mib" && has_value) {
      o.mem_mib = std::clamp(std::atoll(argv[++i]), 0LL, 8192LL);
    } else if (k == "--concurrency" && has_value) {
      o.concurrency = std::clamp(std::atoi(argv[++i]), 1, 256);
    } else if (k == "--only" && has_value) {
      o.only = split(argv[++i]);
    } else if (k == "--phases" && has_value) {
      o.phases = argv[++i];
    } else if (k == "--keep") {
      o.keep = true;
    } else if (k == "--tlsprobe" && has_value) {
      o.tlsprobe = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: intercept_bench [--quick] [--rounds N] [--seconds S] [--bulk-mib M]\n"
                   "       [--mem-mib M] [--concurrency C] [--only tlsprobe,mitmdump,sslsplit,"
                   "squid-bump] [--tlsprobe PATH] [--keep]\n"
                   "       [--phases new,keepalive,bulk]\n");
      return std::nullopt;
    }
  }
  return o;
}

int run(const Options& o) {
  tlsprobe::bench::TempDir tmp("tlsprobe-ibench");
  if (!tmp.ok()) {
    std::fprintf(stderr, "intercept_bench: cannot create a temp dir\n");
    return 2;
  }
  if (o.keep) {
    tmp.keep();
    std::fprintf(stderr, "intercept_bench: keeping %s\n", tmp.path().c_str());
  }
  Lab lab;
  lab.dir = tmp.path();
  lab.hosts = lab.dir + "/hosts";
  std::ofstream(lab.hosts) << "127.0.0.1 localhost\n127.0.0.1 " << kHost << "\n";
  lab.ca = lab.dir + "/state/ca.pem";
  lab.ca_key = lab.dir + "/state/ca-key.pem";
  if (!make_origin_pki(lab)) {
    std::fprintf(stderr, "intercept_bench: openssl could not make the test certificates\n");
    return 2;
  }
  if (::access(o.tlsprobe.c_str(), X_OK) != 0 ||
      !run_ok(o.tlsprobe + " ca init --state-dir " + lab.dir + "/state")) {
    std::fprintf(stderr, "intercept_bench: `%s ca init` failed: the shared CA comes from it\n",
                 o.tlsprobe.c_str());
    return 2;
  }
  if (!start_origin(lab, o)) {
    std::fprintf(stderr, "intercept_bench: nginx did not start: %s\n",
                 tlsprobe::bench::tail_lines(lab.dir + "/nginx-error.log", 5).c_str());
    return 2;
  }

  std::vector<Candidate> cands;
  cands.push_back(make_direct(lab));
  if (wanted(o, "tlsprobe")) cands.push_back(make_tlsprobe(lab, o));
  if (wanted(o, "mitmdump")) cands.push_back(make_mitmdump(lab));
  if (wanted(o, "sslsplit")) cands.push_back(make_sslsplit(lab));
  if (wanted(o, "squid-bump")) cands.push_back(make_squid(lab));

  for (auto& c : cands) c.host_header = origin_authority(lab);
  auto ctx = make_client_context({lab.root, lab.ca});

  // Warm-up, and a check that each candidate works at all (mints get cached here).
  Options warm = o;
  warm.seconds = 0.3;
  warm.bulk_mib = 1;
  for (auto& c : cands) {
    if (!c.skipped.empty()) continue;
    Figures f;
    measure_new(c, ctx, warm, f);
    if (f.new_per_s == 0) {
      c.skipped = "no connection succeeded: " + f.error;
      c.proc.stop();
    }
  }

  const std::string load_start = tlsprobe::bench::load_average();
  Results res;
  std::vector<Candidate*> live;
  for (auto& c : cands)
    if (c.skipped.empty()) live.push_back(&c);
  std::vector<std::string> names;
  for (auto* c : live) names.push_back(c->name);
  tlsprobe::bench::run_rounds(
      names, o.rounds,
      [&](std::size_t i) {
        const Figures f = measure(*live[i], ctx, o);
        res.failures[live[i]->name] += f.new_failed;
        if (!f.error.empty() && res.errors[live[i]->name].empty())
          res.errors[live[i]->name] = f.error;
        return named(f);
      },
      res.ratios, g_stop, "intercept_bench");
  for (auto* c : live) {
    if (g_stop.load() || c->proc.pid() <= 0 || o.mem_mib == 0) continue;
    res.mem[c->name] = measure_memory(*c, ctx, o);
  }
  const std::string load_end = tlsprobe::bench::load_average();

  std::printf(
      "intercept_bench: %d rounds x %.1f s per phase, %d concurrent clients for new "
      "connections, bulk %lld MiB, memory body %lld MiB\n",
      o.rounds, o.seconds, o.concurrency, o.bulk_mib, o.mem_mib);
  std::printf(
      "median of same-round ratios to direct; all interceptors mint from one ECDSA P-256 "
      "CA (tlsprobe ca init); origin nginx, no session resumption on either leg\n");
  std::printf("load average (1/5/15 min): %s at start, %s at end; %u CPUs\n\n", load_start.c_str(),
              load_end.c_str(), std::thread::hardware_concurrency());
  if (g_stop.load()) std::printf("INTERRUPTED: only the rounds that completed are shown\n\n");
  std::printf(
      "peak RSS = VmHWM summed over the proxy's process tree, before the large-body test\n");
  print_table(cands, res, o);
  print_goals(res);
  return g_stop.load() ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse_args(argc, argv);
  if (!o) return 64;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  try {
    return run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intercept_bench: %s\n", e.what());
    return 2;
  }
}
