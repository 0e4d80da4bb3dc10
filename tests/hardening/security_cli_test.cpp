// Safe-by-default checks on the built binary: the proxy refuses a non-loopback listen address
// unless --allow names who may use it (an open proxy on a LAN is an interception point for
// anyone), and says so in one line with exit status 64.
#include "hardening/hardening_support.hpp"
#include "support/loopback_server.hpp"
#include "support/process.hpp"

using namespace tlsprobe::hardening;
using tlsprobe::testsupport::run_tlsprobe;

TEST_CASE("a non-loopback listen address without --allow is refused", "[hardening][security]") {
  const TempDir dir("listen");
  const auto port = std::to_string(tlsprobe::testsupport::unused_port());
  for (const std::string& addr : {"0.0.0.0:" + port, "[::]:" + port}) {
    const auto r = run_tlsprobe(
        {"proxy", "--listen", addr, "--admin", "off", "--log", (dir / "c.jsonl").string()},
        std::chrono::seconds(20));
    INFO(addr << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("--allow") != std::string::npos);
  }
}

// Issue 12 item 11: the warning reaches stderr at start (here the start then stops at the
// refused listen address, so the proxy never runs).
TEST_CASE("a config file with [auth] readable by others is a warning at start",
          "[hardening][security]") {
  const TempDir dir("authmode");
  const auto path = (dir / "tlsprobe.toml").string();
  {
    std::ofstream out(path);
    out << "[auth]\nuser = \"u\"\npassword = \"secret\"\n";
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  const auto port = std::to_string(tlsprobe::testsupport::unused_port());
  const auto r = run_tlsprobe({"proxy", "--config", path, "--listen", "0.0.0.0:" + port, "--admin",
                               "off", "--log", (dir / "c.jsonl").string()},
                              std::chrono::seconds(20));
  INFO(r.err);
  CHECK(r.err.find("warning: " + path + " holds the [auth] password") != std::string::npos);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  const auto quiet = run_tlsprobe({"proxy", "--config", path, "--listen", "0.0.0.0:" + port,
                                   "--admin", "off", "--log", (dir / "c.jsonl").string()},
                                  std::chrono::seconds(20));
  CHECK(quiet.err.find("warning") == std::string::npos);
}
