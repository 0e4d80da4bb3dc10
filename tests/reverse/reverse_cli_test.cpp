// Reverse mode through the real command line (`tlsprobe proxy --mode reverse ...`) and in
// front of a real nginx whose default_server block answers names it has no vhost for.
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "reverse/reverse_fixture.hpp"
#include "reverse/reverse_origin.hpp"
#include "support/loopback_server.hpp"
#include "support/nginx_server.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

using namespace tlsprobe;
using namespace tlsprobe::reverse_test;
using testsupport::ServedChain;

namespace {

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

bool can_connect(std::uint16_t port) {
  auto r = testsupport::run_process({"curl", "-sk", "--max-time", "1", "-o", "/dev/null",
                                     "https://127.0.0.1:" + std::to_string(port) + "/"},
                                    std::chrono::seconds(3));
  return r.exit_code != 7;  // 7: connection refused
}

// `tlsprobe proxy ARGS...` as a child process; SIGTERM in stop() (graceful, flushes the log).
class TlsprobeProcess {
 public:
  explicit TlsprobeProcess(std::vector<std::string> args, std::uint16_t port) {
    std::vector<std::string> argv{testsupport::tlsprobe_binary(), "proxy"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargs;
    for (auto& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    REQUIRE(::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, cargs.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 100 && !can_connect(port); ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("tlsprobe proxy exited at startup");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~TlsprobeProcess() { stop(); }
  int stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 400 && !reaped; ++i) {
      reaped = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

std::vector<boost::json::object> read_log(const std::string& path) {
  std::vector<boost::json::object> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
  return out;
}

using tlsprobe::testsupport::TempDir;

}  // namespace

TEST_CASE("reverse CLI: --tls-cert is served to the CDN, the origin is verified with --ca-file",
          "[reverse][cli]") {
  const auto www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  OriginOptions oo;
  oo.default_chain = ServedChain::of(www);
  HttpsOrigin origin(oo);
  TempDir dir{"revcli"};
  const auto cert = write_file(dir.str(), "cert.pem",
                               www.leaf.cert_pem() + certs::write_pem(www.intermediate.cert));
  const auto key = write_file(dir.str(), "key.pem", www.leaf.key_pem());
  const auto root = write_file(dir.str(), "root.pem", certs::write_pem(www.root.cert));
  const auto log = dir.str() + "/log.jsonl";
  const auto port = testsupport::unused_port();
  {
    TlsprobeProcess p({"--mode",
                       "reverse",
                       "--upstream",
                       "https://" + origin.address(),
                       "--listen",
                       "127.0.0.1:" + std::to_string(port),
                       "--tls-cert",
                       cert,
                       "--tls-key",
                       key,
                       "--ca-file",
                       root,
                       "--no-system-trust",
                       "--log",
                       log,
                       "--admin",
                       "off",
                       "--state-dir",
                       dir.str(),
                       "--allow-host",
                       "www.example.test"},
                      port);
    // Strict client verification: the configured certificate, not a minted one.
    auto r = testsupport::run_process(
        {"curl", "-s", "--cacert", root, "--resolve",
         "www.example.test:" + std::to_string(port) + ":127.0.0.1", "-w", "\n%{http_code}",
         "https://www.example.test:" + std::to_string(port) + "/"},
        std::chrono::seconds(15));
    CHECK(r.out.substr(r.out.rfind('\n') + 1) == "200");
    CHECK(p.stop() == 0);
  }
  const auto recs = read_log(log);
  REQUIRE(recs.size() >= 1);
  const auto& rec = recs.back();
  CHECK(str_at(rec, "tlsprobe.mode") == "reverse");
  CHECK(str_at(rec, "tls.server.hash.sha256") == www.leaf.cert.sha256_hex());
  CHECK(find_path(rec, "tlsprobe.verify.ok")->as_bool());
}

TEST_CASE("reverse CLI: without --tls-cert the CDN gets a leaf minted by the tlsprobe CA",
          "[reverse][cli]") {
  const auto www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  OriginOptions oo;
  oo.default_chain = ServedChain::of(www);
  HttpsOrigin origin(oo);
  TempDir dir{"revcli"};
  const auto root = write_file(dir.str(), "root.pem", certs::write_pem(www.root.cert));
  const auto port = testsupport::unused_port();
  TlsprobeProcess p(
      {"--mode", "reverse", "--upstream", "https://" + origin.address(), "--listen",
       "127.0.0.1:" + std::to_string(port), "--ca-file", root, "--log", dir.str() + "/log.jsonl",
       "--admin", "off", "--state-dir", dir.str(), "--allow-host", "www.example.test"},
      port);
  auto r = testsupport::run_process(
      {"curl", "-s", "--cacert", dir.str() + "/ca.pem", "--resolve",
       "www.example.test:" + std::to_string(port) + ":127.0.0.1", "-w", "\n%{http_code}",
       "https://www.example.test:" + std::to_string(port) + "/"},
      std::chrono::seconds(15));
  CHECK(r.out.substr(r.out.rfind('\n') + 1) == "200");
}

TEST_CASE("reverse CLI: a bad --upstream is a usage error", "[reverse][cli]") {
  auto r = testsupport::run_tlsprobe(
      {"proxy", "--mode", "reverse", "--upstream", "http://plain.example", "--admin", "off"},
      std::chrono::seconds(10));
  CHECK(r.exit_code == 64);
  auto none = testsupport::run_tlsprobe({"proxy", "--mode", "reverse", "--admin", "off"},
                                        std::chrono::seconds(10));
  CHECK(none.exit_code == 64);
}

TEST_CASE(
    "reverse: nginx origin with a default_server block: vhost 200, unknown name "
    "sni.default_cert 502",
    "[reverse][nginx]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto www = testpki::make_hierarchy({"www.example.test"}, testpki::now());
  const auto fallback =
      testpki::issue(www.intermediate, {.common_name = "default.example.test",
                                        .dns_names = {"default.example.test"},
                                        .not_before = testpki::now() - std::chrono::days(1),
                                        .not_after = testpki::now() + std::chrono::days(90)});
  const std::string inter = certs::write_pem(www.intermediate.cert);
  testsupport::NginxTlsSite def;
  def.default_server = true;
  def.cert_pem = fallback.cert_pem() + inter;
  def.key_pem = fallback.key_pem();
  def.body = "default\\n";
  testsupport::NginxTlsSite vhost;
  vhost.server_name = "www.example.test";
  vhost.cert_pem = www.leaf.cert_pem() + inter;
  vhost.key_pem = www.leaf.key_pem();
  vhost.body = "www\\n";
  testsupport::NginxServer nginx({def, vhost});
  auto options = test_options(nginx.address(), {www.root.cert});
  options.allowed_hosts.push_back("shop.example.test");  // a site the CDN serves, no vhost yet
  ReverseProxy proxy(std::move(options));
  const auto port = std::to_string(proxy.port());

  const auto ok = curl({"--resolve", "www.example.test:" + port + ":127.0.0.1",
                        "https://www.example.test:" + port + "/"});
  CHECK(ok.status == 200);
  CHECK(ok.body.rfind("www", 0) == 0);
  // The CDN pulls a name nginx has no TLS vhost for: nginx answers with its default_server
  // certificate, which the no-SNI probe proves.
  const auto bad = curl({"--resolve", "shop.example.test:" + port + ":127.0.0.1",
                         "https://shop.example.test:" + port + "/"});
  CHECK(bad.status == 502);
  const auto recs = proxy.records();
  REQUIRE(recs.size() == 2);
  std::vector<std::string> all;
  for (const auto& r : recs)
    for (const auto& c : codes(r)) all.push_back(c);
  CHECK(has(all, "sni.default_cert"));
  CHECK_FALSE(has(all, "name.mismatch"));
}
