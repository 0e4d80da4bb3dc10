// The intercept path takes its deadlines from the config (issue 14 item 4): the upstream TLS
// handshake is bounded by timeouts.handshake (it used to run under timeouts.connect).
#include "intercept_fixture.hpp"
#include "support/loopback_server.hpp"

#include <unistd.h>

#include <chrono>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using namespace std::chrono_literals;

namespace {

// Accepts, reads the ClientHello and never answers: the handshake can only end by a deadline.
class SilentTlsServer : public testsupport::LoopbackServer {
 public:
  SilentTlsServer()
      : LoopbackServer(
            [this](int fd) {
              char buf[4096];
              const auto until = std::chrono::steady_clock::now() + 30s;
              while (!stopping() && std::chrono::steady_clock::now() < until)
                if (wait_readable(fd, 100ms) && ::read(fd, buf, sizeof buf) <= 0) return;
            },
            4, Deferred{}) {
    start();
  }
  ~SilentTlsServer() override { stop(); }
};

}  // namespace

TEST_CASE("intercept: an upstream that never answers the ClientHello ends at timeouts.handshake") {
  const auto pki = testpki::make_hierarchy({"silent.test"}, testpki::now());
  SilentTlsServer upstream;
  // connect is long and handshake short: the answer within a few seconds can only come from
  // the handshake deadline.
  InterceptingProxy proxy({.anchors = {pki.root.cert},
                           .resolve = {{"silent.test", "127.0.0.1"}},
                           .connect = 30s,
                           .handshake = 700ms});
  const auto started = std::chrono::steady_clock::now();
  const auto r =
      curl(proxy, "https://silent.test:" + std::to_string(upstream.port()) + "/", proxy.ca_path());
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.err << r.body);
  CHECK(r.http_code == 502);  // the explain page: tlsprobe's own answer over a minted leaf
  CHECK(took < 10s);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(has_code(finding_codes(lines[0]), "tls.handshake_failed"));
}
