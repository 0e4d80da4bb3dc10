// tlsprobe: an intercepting, TLS-probing HTTP proxy. This file only dispatches to the
// subcommand; each lives in tools/<name>_cmd.cpp.
#include "commands.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char* kUsage =
    "usage: tlsprobe <command> [options]\n"
    "\n"
    "commands:\n"
    "  probe TARGET...   capture a server's certificate chain and say what is wrong with it\n"
    "  proxy             run the forward (or reverse) proxy that probes every connection\n"
    "  watch             probe configured sites, edges and origins on a schedule\n"
    "  ca init|export|path   manage the interception CA\n"
    "  logs summary|grep|follow|report FILE...   read connection logs\n"
    "\n"
    "Run `tlsprobe <command> --help` for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace tlsprobe::tools;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return exit_usage;
  }
  const std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return exit_ok;
  }
  if (command == "--version") {
    std::puts("tlsprobe 0.1.0");
    return exit_ok;
  }
  // The subcommand sees "tlsprobe <command>" as its program name.
  std::string program = std::string("tlsprobe ") + argv[1];
  argv[1] = program.data();
  if (command == "probe") return probe_main(argc - 1, argv + 1);
  if (command == "proxy") return proxy_main(argc - 1, argv + 1);
  if (command == "watch") return watch_main(argc - 1, argv + 1);
  if (command == "ca") return ca_main(argc - 1, argv + 1);
  if (command == "logs") return logs_main(argc - 1, argv + 1);
  std::fprintf(stderr, "tlsprobe: unknown command '%s' (try `tlsprobe --help`)\n", argv[1]);
  return exit_usage;
}
