// --color auto|always|never (and NO_COLOR) on probe, watch, logs and the proxy's stderr, and
// the proxy's Ctrl-C: it says it is draining and for how long; a second Ctrl-C exits at once.
#include "certs/pem.hpp"
#include "cli/cli_process.hpp"
#include "pki/test_pki.hpp"
#include "support/process.hpp"
#include "support/proxy_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_test_server.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::ServedChain;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

constexpr const char* kRed = "\x1b[31m";

// A server whose chain is self-signed: an error finding to colour.
const testpki::Issued& self_signed() {
  static const auto s =
      testpki::make_self_signed({.common_name = "self.test", .dns_names = {"self.test"}});
  return s;
}

TlsServerOptions serving_self_signed() {
  TlsServerOptions o;
  o.default_chain = ServedChain::of(self_signed());
  return o;
}

using tlsprobe::testsupport::ProxyProcess;
using tlsprobe::testsupport::TempDir;

bool has_colour(const std::string& s) { return s.find("\x1b[") != std::string::npos; }

}  // namespace

TEST_CASE("probe --color: always colours a pipe, never and NO_COLOR keep a terminal plain",
          "[cli][colour]") {
  TlsTestServer server(serving_self_signed());
  const std::vector<std::string> base{"probe",          "self.test", "--connect",
                                      server.address(), "--at",      testpki::kFixedNowText,
                                      "--timeout",      "5"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const auto always = testsupport::run_tlsprobe(with({"--color", "always"}), 30s);
  CHECK(always.exit_code == 1);
  CHECK(always.out.find(std::string(kRed) + "error") != std::string::npos);
  const auto piped = testsupport::run_tlsprobe(base, 30s);  // auto, not a terminal
  CHECK_FALSE(has_colour(piped.out));
  const auto summary =
      testsupport::run_tlsprobe(with({"--format", "summary", "--color", "always"}), 30s);
  CHECK(summary.out.find(std::string(kRed) + "error") != std::string::npos);

  const auto tty = testcli::run_on_pty(base, 30s);
  CHECK(tty.output.find(std::string(kRed) + "error") != std::string::npos);
  const auto never = testcli::run_on_pty(with({"--color", "never"}), 30s);
  CHECK(never.output.find("cert.self_signed") != std::string::npos);
  CHECK(never.output.find(kRed) == std::string::npos);
  const auto no_color = testcli::run_on_pty(base, 30s, {"TERM=xterm", "NO_COLOR=1"});
  CHECK(no_color.output.find("cert.self_signed") != std::string::npos);
  CHECK(no_color.output.find(kRed) == std::string::npos);
  // The flag beats the environment.
  const auto forced =
      testcli::run_on_pty(with({"--color", "always"}), 30s, {"TERM=xterm", "NO_COLOR=1"});
  CHECK(forced.output.find(std::string(kRed) + "error") != std::string::npos);

  const auto bad = testsupport::run_tlsprobe(with({"--color", "sometimes"}), 10s);
  CHECK(bad.exit_code == 64);
}

TEST_CASE("watch and logs --color", "[cli][colour]") {
  TlsTestServer server(serving_self_signed());
  TempDir dir{"cli"};
  const std::string config = dir.str() + "/watch.toml";
  const std::string log = dir.str() + "/log.jsonl";
  std::ofstream(config) << "[[site]]\nhost = \"self.test\"\norigin = \"" << server.address()
                        << "\"\n";
  const auto watch =
      testsupport::run_tlsprobe({"watch", "--config", config, "--once", "--log", log, "--at",
                                 testpki::kFixedNowText, "--color", "always"},
                                60s);
  INFO(watch.out << watch.err);
  CHECK(watch.exit_code == 1);
  CHECK(watch.out.find(std::string(kRed) + "error") != std::string::npos);
  const auto plain = testsupport::run_tlsprobe(
      {"watch", "--config", config, "--once", "--log", log, "--at", testpki::kFixedNowText}, 60s);
  CHECK(plain.exit_code == 1);
  CHECK_FALSE(has_colour(plain.out));

  const auto grep = testsupport::run_tlsprobe(
      {"logs", "grep", "--format", "text", "--color", "always", log}, 30s);
  CHECK(grep.exit_code == 0);
  CHECK(grep.out.find(std::string(kRed) + "error") != std::string::npos);
  const auto grep_plain = testsupport::run_tlsprobe({"logs", "grep", "--format", "text", log}, 30s);
  CHECK_FALSE(has_colour(grep_plain.out));
  const auto summary = testsupport::run_tlsprobe(
      {"logs", "summary", "--at", testpki::kFixedNowText, "--color", "always", log}, 30s);
  CHECK(summary.out.find(std::string(kRed) + "ERROR") != std::string::npos);
  const auto follow = testsupport::run_tlsprobe(
      {"logs", "follow", "--from-start", "--max-seconds", "1", "--color", "always", log}, 30s);
  CHECK(follow.out.find(std::string(kRed) + "error") != std::string::npos);
}

TEST_CASE("proxy: Ctrl-C says it drains and for how long; a second Ctrl-C exits at once",
          "[cli][signals]") {
  SECTION("one Ctrl-C: drain, then a clean exit") {
    ProxyProcess proxy;
    proxy.signal(SIGINT);
    CHECK(proxy.wait(30s).code == 0);
    const auto err = proxy.stderr_text();
    INFO(err);
    CHECK(err.find("tlsprobe proxy: stopping; draining 0 open connections for at most 5 s "
                   "(Ctrl-C again to exit at once)") != std::string::npos);
    CHECK(err.find("stopped;") != std::string::npos);
  }
  SECTION("an open connection holds the drain; the second Ctrl-C does not wait for it") {
    ProxyProcess proxy;
    // A client that connected and says nothing: the drain waits for it (up to 5 s).
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(proxy.port());
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::this_thread::sleep_for(300ms);  // accepted

    proxy.signal(SIGINT);
    REQUIRE(proxy.wait_for_stderr("draining 1 open connection for", 10s));
    const auto second = std::chrono::steady_clock::now();
    proxy.signal(SIGINT);
    CHECK(proxy.wait(10s).code == 130);
    CHECK(std::chrono::steady_clock::now() - second < 3s);  // not the 5 s drain
    const auto err = proxy.stderr_text();
    INFO(err);
    CHECK(err.find("interrupted again: exiting now, without draining") != std::string::npos);
    ::close(fd);
  }
}

TEST_CASE("proxy --color always colours the finding lines on stderr", "[cli][colour]") {
  TlsTestServer server(serving_self_signed());
  for (const std::string mode : {"always", "never"}) {
    ProxyProcess proxy({.extra = {"--color", mode}});
    // A real TLS client through the tunnel (openssl quits at stdin's end of file).
    const auto client = testsupport::run_process(
        {"openssl", "s_client", "-proxy", "127.0.0.1:" + std::to_string(proxy.port()), "-connect",
         server.address(), "-servername", "self.test"},
        30s);
    INFO(client.err);
    const bool announced = proxy.wait_for_stderr("cert.self_signed", 30s);
    const auto err = proxy.stderr_text();
    INFO(err);
    CHECK(announced);
    if (mode == "always")
      CHECK(err.find(std::string("tlsprobe: ") + kRed + "error") != std::string::npos);
    else
      CHECK(err.find(kRed) == std::string::npos);
    CHECK(proxy.stop(SIGTERM, 30s).code == 0);
  }
}
