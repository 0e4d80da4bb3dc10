// `tlsprobe ca`: not built yet (placeholder so the dispatcher links).
#include "commands.hpp"

#include <cstdio>

namespace tlsprobe::tools {

int ca_main(int, char**) {
  std::fputs("tlsprobe ca: not available in this build yet\n", stderr);
  return exit_usage;
}

}  // namespace tlsprobe::tools
