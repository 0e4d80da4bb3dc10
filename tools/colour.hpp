// `--color auto|always|never`, the same on every command that prints findings (probe,
// watch, logs, proxy stderr). auto colours only a terminal, and not when NO_COLOR is set to
// a non-empty value (no-color.org) or TERM is "dumb"; always and never are what they say
// (an explicit flag beats the environment, as in ls and grep).
#pragma once

#include <string>
#include <string_view>

namespace tlsprobe::tools {

inline constexpr const char* kColorHelp =
    "colour the output: auto (a terminal, unless NO_COLOR is set), always or never";

// True when output on `fd` should carry ANSI colours for `mode` ("auto", "always",
// "never"; CLI11 has checked it).
bool colour_enabled(std::string_view mode, int fd);

// `severity` ("error", "warning", "info") wrapped in its colour when `on`.
std::string coloured_severity(std::string_view severity, bool on);

}  // namespace tlsprobe::tools
