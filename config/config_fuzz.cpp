// libFuzzer target for the config loader: parse_config on arbitrary TOML text. The contract
// (config/load.hpp) is that every problem is a ConfigError with a position or key; any other
// exception escaping, or a crash in toml++ or in validation, is a bug libFuzzer reports.
// Built only with TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "config/load.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto cfg = tlsprobe::config::parse_config(text, "fuzz.toml");
    (void)cfg;
  } catch (const tlsprobe::config::ConfigError& e) {
    (void)e.what();
  }
  return 0;
}
