#include "colour.hpp"

#include <unistd.h>

#include <cstdlib>

namespace tlsprobe::tools {

bool colour_enabled(std::string_view mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (!::isatty(fd)) return false;
  if (const char* no = std::getenv("NO_COLOR"); no && *no) return false;
  const char* term = std::getenv("TERM");
  return term && std::string_view(term) != "dumb";
}

std::string coloured_severity(std::string_view severity, bool on) {
  if (!on) return std::string(severity);
  const auto word = severity.substr(0, severity.find(' '));  // callers may pad it
  const char* code = word == "error" ? "\x1b[31m" : word == "warning" ? "\x1b[33m" : "\x1b[2m";
  return code + std::string(severity) + "\x1b[0m";
}

}  // namespace tlsprobe::tools
