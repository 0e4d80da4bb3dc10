#include "ca_hint.hpp"

#include "certs/authority.hpp"

namespace tlsprobe::tools {

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool same_dir(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec)) return true;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec) &&
         !ec;
}

}  // namespace

std::string ca_command(const std::string& subcommand, const std::filesystem::path& dir) {
  std::string cmd = "tlsprobe ca " + subcommand;
  if (!dir.empty() && !same_dir(dir, certs::default_state_dir()))
    cmd += " --state-dir " + shell_quote(dir.string());
  return cmd;
}

}  // namespace tlsprobe::tools
