// The commands we print as hints about the tlsprobe CA must work as printed: with the state
// directory the user chose, not the default one (following a hint without it found "no CA
// yet" and `ca init` then made a second CA).
#pragma once

#include <filesystem>
#include <string>

namespace tlsprobe::tools {

// `tlsprobe ca SUBCOMMAND`, plus ` --state-dir 'DIR'` when `dir` is not the default state
// directory (single-quoted for a POSIX shell).
std::string ca_command(const std::string& subcommand, const std::filesystem::path& dir);

}  // namespace tlsprobe::tools
