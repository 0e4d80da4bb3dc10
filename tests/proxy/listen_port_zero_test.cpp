// `tlsprobe proxy --listen 127.0.0.1:0`: the real binary binds a port the OS picks, names it
// in its startup line on stderr, and serves on it (read back the way a script would); its
// "new finding" lines on stderr follow [log] stderr_findings.
#include "proxy_fixture.hpp"
#include "support/loopback_server.hpp"
#include "support/process.hpp"
#include "support/proxy_origin.hpp"
#include "watch/watch_fixtures.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The port in "tlsprobe proxy listening on 127.0.0.1:PORT (forward mode), log: FILE".
std::optional<std::uint16_t> announced_port(const std::string& stderr_text) {
  static const std::regex line(R"(^tlsprobe proxy listening on 127\.0\.0\.1:(\d+) \()");
  std::istringstream in(stderr_text);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) return static_cast<std::uint16_t>(std::stoul(m[1]));
  }
  return std::nullopt;
}

// `tlsprobe proxy ARGS...` in the background with stderr in DIR/stderr.txt; SIGKILLed in the
// destructor if still running, and its temp dir removed.
class ProxyProcess {
 public:
  explicit ProxyProcess(const std::vector<std::string>& args) {
    std::string tmpl = (fs::temp_directory_path() / "tlsprobe-port0-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    std::vector<std::string> argv{testsupport::tlsprobe_binary(), "proxy"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (auto& a : argv)
      if (a.find("@DIR@") != std::string::npos) a.replace(a.find("@DIR@"), 5, dir_.string());
    const auto err_path = (dir_ / "stderr.txt").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(err, 2);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
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

  const fs::path& dir() const { return dir_; }
  std::string stderr_text() const { return slurp(dir_ / "stderr.txt"); }

  // Polls stderr for the startup line for at most `limit`; nullopt if the process exits or
  // stays silent.
  std::optional<std::uint16_t> wait_for_port(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (auto port = announced_port(stderr_text())) return port;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return std::nullopt;
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  // SIGTERM, then wait at most `limit` (SIGKILL after). The exit status, -1 if killed.
  int terminate(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("proxy --listen 127.0.0.1:0 announces the bound port and serves on it") {
  testsupport::ProxyOrigin origin;
  ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl"});
  const auto port = p.wait_for_port(20s);
  INFO("stderr: " << p.stderr_text());
  REQUIRE(port);
  CHECK(*port != 0);

  const auto proxy_url = "http://127.0.0.1:" + std::to_string(*port);
  const auto r = curl({"-x", proxy_url, "http://" + origin.address() + "/bytes/1000"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == testsupport::pattern_bytes(1000));
  CHECK(origin.requests().size() == 1);

  // The connection went through this proxy: its line is in the log after a clean stop.
  CHECK(p.terminate(20s) == 0);
  const auto log = slurp(p.dir() / "log.jsonl");
  REQUIRE_FALSE(log.empty());
  const auto rec = boost::json::parse(log.substr(0, log.find('\n'))).as_object();
  CHECK(find_path(rec, "tlsprobe.mode")->as_string() == "forward");
  CHECK(find_path(rec, "destination.port")->to_number<int>() == origin.port());
}

TEST_CASE("two proxies started with --listen 127.0.0.1:0 get different ports") {
  ProxyProcess a({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl"});
  ProxyProcess b({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl"});
  const auto pa = a.wait_for_port(20s);
  const auto pb = b.wait_for_port(20s);
  INFO("stderr a: " << a.stderr_text() << "\nstderr b: " << b.stderr_text());
  REQUIRE(pa);
  REQUIRE(pb);
  CHECK(*pa != *pb);
  CHECK(a.terminate(20s) == 0);
  CHECK(b.terminate(20s) == 0);
}

TEST_CASE("SIGTERM right after the announcement is a clean stop (handlers are in place)") {
  // A script reads the port and may stop the proxy at once: the line is only printed once
  // SIGTERM drains and flushes instead of killing the process.
  for (int i = 0; i < 3; ++i) {
    ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl"});
    REQUIRE(p.wait_for_port(20s));
    CHECK(p.terminate(20s) == 0);
    CHECK(p.stderr_text().find("tlsprobe proxy: stopped;") != std::string::npos);
  }
}

TEST_CASE("proxy --listen still refuses ports out of range and non-loopback without --allow") {
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1:", "0.0.0.0:0"}) {
    INFO(bad);
    const auto r = testsupport::run_tlsprobe({"proxy", "--listen", bad, "--admin", "off"},
                                             std::chrono::seconds(20));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("tlsprobe proxy:") != std::string::npos);
  }
}

namespace {

// A plain-HTTP origin that answers every request with one small HTML page (no redirect to
// HTTPS: http.no_https_redirect).
testsupport::LoopbackServer html_origin() {
  return testsupport::LoopbackServer([](int fd) {
    std::string got;
    char buf[4096];
    // The request head only (curl sends no body), bounded by size and a 5 s wait per read.
    while (got.find("\r\n\r\n") == std::string::npos && got.size() < 65536) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      got.append(buf, static_cast<std::size_t>(n));
    }
    const std::string page = "<p>plain</p>";
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                              std::to_string(page.size()) + "\r\nConnection: close\r\n\r\n" + page;
    (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  });
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a plain page's finding is on stderr once; stderr_findings = false keeps it log-only") {
  auto origin = html_origin();
  for (const bool quiet : {false, true}) {
    INFO("stderr_findings = " << (quiet ? "false" : "true"));
    const auto config = fs::temp_directory_path() /
                        ("tlsprobe-stderr-findings-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(config) << "[log]\nstderr_findings = " << (quiet ? "false" : "true") << "\n";
    ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl",
                    "--config", config.string()});
    const auto port = p.wait_for_port(20s);
    REQUIRE(port);
    const auto proxy_url = "http://127.0.0.1:" + std::to_string(*port);
    for (int i = 0; i < 2; ++i) {
      const auto r = curl({"-x", proxy_url, "http://" + origin.address() + "/"});
      CHECK(r.out == "<p>plain</p>");
    }
    CHECK(p.terminate(20s) == 0);
    fs::remove(config);
    const auto err = p.stderr_text();
    INFO("stderr: " << err);
    // Announced once for the two page loads (a "new finding" line), never when quiet.
    CHECK(count_of(err, "tlsprobe: warning http.no_https_redirect") == (quiet ? 0u : 1u));
    // The log has it on both connections either way.
    CHECK(count_of(slurp(p.dir() / "log.jsonl"), "\"http.no_https_redirect\"") == 2);
  }
}

namespace {

// Polls the process's stderr until it contains `text` (at most `limit`).
bool wait_for_stderr(const ProxyProcess& p, const std::string& text,
                     std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (p.stderr_text().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

TEST_CASE(
    "--intercept says intercept mode, prints the new CA's fingerprint and a hint that works") {
  ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl",
                  "--intercept", "--state-dir", "@DIR@/my ca"});
  REQUIRE(p.wait_for_port(20s));
  const std::string err = p.stderr_text();
  INFO("stderr: " << err);
  CHECK(err.find("(intercept mode)") != std::string::npos);
  CHECK(err.find("(forward mode)") == std::string::npos);
  const std::string ca_dir = (p.dir() / "my ca").string();
  // The hint names the state directory (quoted: it has a space), so it works as printed.
  CHECK(err.find("`tlsprobe ca export --state-dir '" + ca_dir + "' > tlsprobe-ca.pem`") !=
        std::string::npos);
  const auto exported = testsupport::run_tlsprobe({"ca", "export", "--state-dir", ca_dir});
  CHECK(exported.exit_code == 0);
  CHECK(exported.out.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  // The fingerprint printed is the CA's (as `ca init` shows it for the kept CA).
  const auto init = testsupport::run_tlsprobe({"ca", "init", "--state-dir", ca_dir});
  REQUIRE(init.exit_code == 0);
  const auto fp_at = init.out.find("SHA-256 fingerprint: ");
  REQUIRE(fp_at != std::string::npos);
  const std::string fp = init.out.substr(fp_at + 21, 95);
  CHECK(err.find("(SHA-256 " + fp + ")") != std::string::npos);
  CHECK(p.terminate(20s) == 0);
}

TEST_CASE("a flag that does not apply to the chosen mode is a usage error with its reason") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--upstream", "https://127.0.0.1:1"}, "--upstream applies to --mode reverse only"},
      {{"--upstream-sni", "origin.example"}, "--upstream-sni applies to --mode reverse only"},
      {{"--tls-cert", "x.pem"}, "--tls-cert applies to --mode reverse only"},
      {{"--mode", "reverse", "--upstream", "https://127.0.0.1:1", "--intercept"},
       "--intercept applies to forward mode only"},
      {{"--no-intercept", "bank.example"}, "--no-intercept applies with --intercept only"},
      {{"--auth", "no-colon"}, "--auth: expected USER:PASS"},
      {{"--auth-file", "/nonexistent/auth"}, "--auth-file /nonexistent/auth: cannot read it"},
  };
  for (const auto& [args, reason] : cases) {
    std::vector<std::string> argv = {"proxy", "--listen", "127.0.0.1:0", "--admin", "off"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testsupport::run_tlsprobe(argv, 20s);
    INFO(reason << "\nstderr: " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(r.err.rfind("tlsprobe proxy: ", 0) == 0);
    CHECK(count_of(r.err, "\n") == 1u);  // one line
    CHECK(r.err.find(reason) != std::string::npos);
  }
}

TEST_CASE("--auth and --auth-file require Basic proxy credentials") {
  testsupport::ProxyOrigin origin;
  const auto auth_file =
      fs::temp_directory_path() / ("tlsprobe-auth-" + std::to_string(::getpid()));
  std::ofstream(auth_file) << "alice:s3cret\n";
  for (const bool from_file : {false, true}) {
    INFO((from_file ? "--auth-file" : "--auth"));
    ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl",
                    from_file ? "--auth-file" : "--auth",
                    from_file ? auth_file.string() : "alice:s3cret"});
    const auto port = p.wait_for_port(20s);
    REQUIRE(port);
    const auto proxy_url = "http://127.0.0.1:" + std::to_string(*port);
    const auto url = "http://" + origin.address() + "/bytes/10";
    const auto anonymous =
        curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url, url});
    CHECK(anonymous.out == "407");
    const auto wrong = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url,
                             "--proxy-user", "alice:wrong", url});
    CHECK(wrong.out == "407");
    const auto right = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url,
                             "--proxy-user", "alice:s3cret", url});
    CHECK(right.out == "200");
    CHECK(p.terminate(20s) == 0);
  }
  fs::remove(auth_file);
}

TEST_CASE("the proxy's watcher announces its findings on stderr, once per subject and code") {
  watchtest::WatchPki pki{testpki::now()};
  auto origin = pki.serve(pki.current);
  auto stale_edge = pki.serve(pki.old_soon);  // within warn_days: edge.stale is an error
  testpki::TempPemFile root_pem{pki.root.cert_pem()};
  const auto config = fs::temp_directory_path() /
                      ("tlsprobe-watcher-speaks-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(config) << "[[site]]\nhost = \"" << watchtest::site_host << "\"\norigin = \""
                        << origin->address() << "\"\nedges = [\"" << stale_edge->address()
                        << "\"]\n";
  ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log", "@DIR@/log.jsonl",
                  "--config", config.string(), "--ca-file", root_pem.path(), "--no-system-trust"});
  REQUIRE(p.wait_for_port(20s));
  CHECK(wait_for_stderr(p, "tlsprobe: error edge.stale", 30s));
  CHECK(p.terminate(20s) == 0);
  fs::remove(config);
  const auto err = p.stderr_text();
  INFO("stderr: " << err);
  CHECK(count_of(err, "tlsprobe: error edge.stale") == 1u);
  // The log has the record too.
  CHECK(slurp(p.dir() / "log.jsonl").find("\"edge.stale\"") != std::string::npos);
}

// Issue 12 item 8: no secrets in world-readable logs. Before: url.full kept the query
// (`?code=…&api_key=…`) in a 0644 file in a 0755 directory, and the finding announced on
// stderr quoted the same URL. Now the query is dropped everywhere unless [log] keep_query =
// true, the file is 0640 and its new directory 0750 (less a stricter umask).
TEST_CASE("log.keep_query: URLs are logged without their query by default, in a 0640 file") {
  auto origin = html_origin();
  const mode_t umask_now = ::umask(022);
  ::umask(umask_now);
  for (const bool keep : {false, true}) {
    INFO("keep_query = " << (keep ? "true" : "false"));
    const auto config =
        fs::temp_directory_path() / ("tlsprobe-keep-query-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(config) << "[log]\nkeep_query = " << (keep ? "true" : "false") << "\n";
    ProxyProcess p({"--listen", "127.0.0.1:0", "--admin", "off", "--log",
                    "@DIR@/logs/connections.jsonl", "--config", config.string()});
    const auto port = p.wait_for_port(20s);
    REQUIRE(port);
    const auto page = "http://" + origin.address() + "/login";
    const auto r = curl({"-x", "http://127.0.0.1:" + std::to_string(*port),
                         page + "?code=SECRETCODE&api_key=SECRETKEY"});
    CHECK(r.out == "<p>plain</p>");
    CHECK(p.terminate(20s) == 0);
    fs::remove(config);
    const auto err = p.stderr_text();
    const auto log = slurp(p.dir() / "logs" / "connections.jsonl");
    INFO("stderr: " << err << "\nlog: " << log);
    REQUIRE(count_of(log, "\n") == 1);
    const auto rec = boost::json::parse(log).as_object();
    const auto& url = rec.at("url").as_object();
    CHECK(count_of(err, "tlsprobe: warning http.no_https_redirect") == 1);
    if (!keep) {
      CHECK(url.at("full").as_string() == page);
      CHECK(url.if_contains("query") == nullptr);
      CHECK(count_of(log, "SECRET") == 0);  // not in url.full, not in a finding's evidence
      CHECK(count_of(err, "SECRET") == 0);  // nor in the announcement on stderr
    } else {
      CHECK(url.at("full").as_string() == page + "?code=SECRETCODE&api_key=SECRETKEY");
      CHECK(url.at("query").as_string() == "code=SECRETCODE&api_key=SECRETKEY");
    }
    struct stat st {};
    REQUIRE(::stat((p.dir() / "logs" / "connections.jsonl").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == (0640 & ~umask_now));
    REQUIRE(::stat((p.dir() / "logs").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == (0750 & ~umask_now));
  }
}
