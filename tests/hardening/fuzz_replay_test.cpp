// Replays every fuzz seed (tests/fuzz/corpus/<target>/) and every input that once crashed a
// target (tests/fuzz/regressions/<target>/, one file per bug, named after it) through the
// fuzz harnesses themselves (replay_*_test.cpp), so a fixed crash stays fixed in every CI run.
// A harness signals a broken contract with abort(): that ends this test binary loudly too.
#include "hardening/hardening_support.hpp"

#include <cstddef>
#include <cstdint>
#include <map>

extern "C" {
int tlsprobe_replay_client_hello(const std::uint8_t*, std::size_t);
int tlsprobe_replay_config(const std::uint8_t*, std::size_t);
int tlsprobe_replay_diagnose(const std::uint8_t*, std::size_t);
int tlsprobe_replay_log_line(const std::uint8_t*, std::size_t);
int tlsprobe_replay_http_request(const std::uint8_t*, std::size_t);
int tlsprobe_replay_certs(const std::uint8_t*, std::size_t);
int tlsprobe_replay_server_hello(const std::uint8_t*, std::size_t);
}

using namespace tlsprobe::hardening;

TEST_CASE("fuzz seeds and saved crash inputs replay cleanly", "[hardening][fuzz]") {
  using Harness = int (*)(const std::uint8_t*, std::size_t);
  const std::map<std::string, Harness> harnesses = {
      {"client_hello_fuzz", tlsprobe_replay_client_hello},
      {"config_fuzz", tlsprobe_replay_config},
      {"diagnose_fuzz", tlsprobe_replay_diagnose},
      {"log_line_fuzz", tlsprobe_replay_log_line},
      {"http_request_fuzz", tlsprobe_replay_http_request},
      {"certs_fuzz", tlsprobe_replay_certs},
      {"server_hello_fuzz", tlsprobe_replay_server_hello},
  };
  const fs::path root = fs::path(TLSPROBE_SOURCE_DIR) / "tests" / "fuzz";
  std::size_t replayed = 0;
  for (const auto& [target, run] : harnesses) {
    for (const char* kind : {"corpus", "regressions"}) {
      std::error_code ec;
      for (auto it = fs::directory_iterator(root / kind / target, ec);
           !ec && it != fs::directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const auto bytes = read_file(it->path());
        INFO(it->path().string());
        CHECK(run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == 0);
        ++replayed;
      }
    }
  }
  CHECK(replayed >= 20);
}
