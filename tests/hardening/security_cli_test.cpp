// Safe-by-default checks on the built binary: the proxy refuses a non-loopback listen address
// unless --allow names who may use it (an open proxy on a LAN is an interception point for
// anyone), and says so in one line with exit status 64.
#include "hardening/hardening_support.hpp"
#include "support/loopback_server.hpp"
#include "support/process.hpp"

using namespace tlsprobe::hardening;
using tlsprobe::testsupport::run_tlsprobe;

TEST_CASE("a non-loopback listen address without --allow is refused", "[hardening][security]") {
  const auto dir = make_temp_dir("listen");
  const auto port = std::to_string(tlsprobe::testsupport::unused_port());
  for (const std::string& addr : {"0.0.0.0:" + port, "[::]:" + port}) {
    const auto r = run_tlsprobe(
        {"proxy", "--listen", addr, "--admin", "off", "--log", (dir / "c.jsonl").string()},
        std::chrono::seconds(20));
    INFO(addr << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("--allow") != std::string::npos);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}
