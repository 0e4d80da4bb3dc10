// The real `tlsprobe proxy` binary: a CONNECT tunnel to a server that sends its leaf without
// the intermediate gets a side probe that fetches the issuer from the leaf's caIssuers URL
// (a local HTTP server) and says in the log line that serving it fixes the chain. A second
// connection is answered from the cache: the URL is asked once (issue 11 item 4).
#include "proxy_fixture.hpp"
#include "support/http_test_server.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <signal.h>
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

// `tlsprobe proxy --listen 127.0.0.1:0 ARGS...` in the background, stderr to a file in its
// own temp dir; SIGKILLed in the destructor if still running.
class AiaProxyProcess {
 public:
  explicit AiaProxyProcess(std::vector<std::string> args) {
    std::string tmpl = (fs::temp_directory_path() / "tlsprobe-aia-proxy-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    std::vector<std::string> argv{testsupport::tlsprobe_binary(),
                                  "proxy",
                                  "--listen",
                                  "127.0.0.1:0",
                                  "--admin",
                                  "off",
                                  "--log",
                                  (dir_ / "log.jsonl").string()};
    argv.insert(argv.end(), args.begin(), args.end());
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
  ~AiaProxyProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  AiaProxyProcess(const AiaProxyProcess&) = delete;
  AiaProxyProcess& operator=(const AiaProxyProcess&) = delete;

  std::string stderr_text() const { return slurp(dir_ / "stderr.txt"); }
  std::string log_text() const { return slurp(dir_ / "log.jsonl"); }

  std::optional<std::uint16_t> wait_for_port(std::chrono::milliseconds limit) {
    static const std::regex line(R"(tlsprobe proxy listening on 127\.0\.0\.1:(\d+) \()");
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      std::smatch m;
      const auto text = stderr_text();
      if (std::regex_search(text, m, line)) return static_cast<std::uint16_t>(std::stoul(m[1]));
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  // SIGTERM (drain, wait for probe lines, flush), bounded; the exit status or -1.
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

TEST_CASE("proxy side probe: the missing issuer is fetched from AIA once, and the fix named",
          "[aia][side_probe]") {
  testsupport::HttpTestServer http;
  testpki::CertSpec r;
  r.common_name = "Side Probe AIA Root";
  auto root = testpki::make_root(r);
  testpki::CertSpec i = r;
  i.common_name = "Side Probe AIA Issuing CA";
  i.is_ca = true;
  auto inter = testpki::issue(root, i);
  testpki::CertSpec l;
  l.common_name = "127.0.0.1";
  l.ip_names = {"127.0.0.1"};
  l.not_before = testpki::now() - std::chrono::days(1);
  l.not_after = testpki::now() + std::chrono::days(90);
  l.aia_issuer_url = http.url("/issuing.der");
  auto leaf = testpki::issue(inter, l);
  http.route("/issuing.der",
             testsupport::HttpResponse::ok(inter.cert.der(), "application/pkix-cert"));

  testsupport::TlsServerOptions so;
  so.default_chain = testsupport::ServedChain::of(leaf);  // no intermediate
  so.reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  testsupport::TlsTestServer upstream(so);

  testpki::TempPemFile ca(root.cert_pem());
  AiaProxyProcess proxy({"--ca-file", ca.path(), "--no-system-trust"});
  const auto port = proxy.wait_for_port(20s);
  INFO("stderr: " << proxy.stderr_text());
  REQUIRE(port);
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(*port);
  for (int n = 0; n < 2; ++n) {
    const auto c =
        curl({"-sk", "--max-time", "10", "-x", proxy_url, "https://" + upstream.address() + "/"});
    INFO(c.err);
    CHECK(c.exit_code == 0);
    CHECK(c.out == "ok\n");
  }
  REQUIRE(proxy.terminate(30s) == 0);

  const auto log = proxy.log_text();
  std::istringstream lines(log);
  int records = 0, completed = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    ++records;
    const auto rec = boost::json::parse(line).as_object();
    const auto* findings = find_path(rec, "tlsprobe.findings");
    REQUIRE(findings);
    for (const auto& f : findings->as_array()) {
      if (f.at("code").as_string() != "chain.incomplete") continue;
      INFO(boost::json::serialize(f));
      CHECK(f.at("evidence").at("aia_result").as_string() == "completes");
      CHECK(std::string(f.at("message").as_string())
                .find("the chain completes with CN=Side Probe AIA Issuing CA from " +
                      http.url("/issuing.der") + "; serving it fixes this") != std::string::npos);
      ++completed;
    }
  }
  INFO(log);
  CHECK(records == 2);
  CHECK(completed == 2);
  CHECK(http.requests("/issuing.der") == 1);
}
