// Loading the TOML config file into a Config, with line-precise errors.
//
// Every key is checked: an unknown key (a typo), a wrong type, a bad address, CIDR, enum value
// or duration, a zero or negative timeout, edges without an origin and a duplicate site host
// each throw ConfigError pointing at the offending key or value. Exceptions are for startup
// only (STYLE.md "Errors and results"): tools/ catches ConfigError and prints what().
#pragma once

#include "config/config.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tlsprobe::config {

class ConfigError : public std::runtime_error {
 public:
  // what() is "file:line:column: message", or "file: message" when line is 0 (no position,
  // e.g. "path: cannot open: No such file or directory"). The prefix is a contract: editors
  // and tests rely on it.
  ConfigError(std::string file, std::uint32_t line, std::uint32_t column, std::string key,
              std::string message);

  std::string file;
  std::uint32_t line = 0;    // 1-based; 0 = no position
  std::uint32_t column = 0;  // 1-based
  std::string key;           // dotted path of the offending key ("timeouts.connect",
                             // "site[2].edges"); empty for syntax errors
  std::string message;       // without the position prefix
};

// Reads and parses the file; throws ConfigError (including when it cannot be opened).
Config load_config(const std::string& path);

// A warning line when the file at `path` holds [auth] secrets (cfg.auth set) and its mode
// lets the group or others read it; nullopt otherwise (or when it cannot be stat'ed: the
// loader already read it). tools/ prints it at start; it does not stop the proxy.
std::optional<std::string> secrets_exposure_warning(const std::string& path, const Config& cfg);

// Parses TOML text; source_name is used as `file` in errors (a path or e.g. "<flags>").
Config parse_config(std::string_view toml_text, std::string_view source_name);

}  // namespace tlsprobe::config
