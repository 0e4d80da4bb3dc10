// The subcommands of `tlsprobe`. Each parses its own arguments (argv[0] is
// "tlsprobe <command>") and returns the process exit status: 0 ok, 1 error findings,
// 2 could not probe, 64 usage or local input error (DESIGN.md section 8).
#pragma once

namespace tlsprobe::tools {

inline constexpr int exit_ok = 0;
inline constexpr int exit_findings = 1;
inline constexpr int exit_unreachable = 2;
inline constexpr int exit_usage = 64;
inline constexpr int exit_interrupted = 130;  // SIGINT (128 + 2), as shells report it

int probe_main(int argc, char** argv);
int proxy_main(int argc, char** argv);
int watch_main(int argc, char** argv);
int ca_main(int argc, char** argv);
int logs_main(int argc, char** argv);

}  // namespace tlsprobe::tools
