// `tlsprobe probe`: not built yet (placeholder so the dispatcher links).
#include "commands.hpp"

#include <cstdio>

namespace tlsprobe::tools {

int probe_main(int, char**) {
  std::fputs("tlsprobe probe: not available in this build yet\n", stderr);
  return exit_usage;
}

}  // namespace tlsprobe::tools
