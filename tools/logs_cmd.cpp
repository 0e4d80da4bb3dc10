// `tlsprobe logs`: not built yet (placeholder so the dispatcher links).
#include "commands.hpp"

#include <cstdio>

namespace tlsprobe::tools {

int logs_main(int, char**) {
  std::fputs("tlsprobe logs: not available in this build yet\n", stderr);
  return exit_usage;
}

}  // namespace tlsprobe::tools
