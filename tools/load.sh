#!/usr/bin/env bash
# The load tests of tests/hardening/load_test.cpp at full size, by hand (CI runs them in short
# form: 2,000 tunnels, 8 s of mixed traffic):
#
#   tools/load.sh [TUNNELS] [MIX_SECONDS]     defaults: 10000 tunnels, 60 s
#
# Needs a built tree ($BUILD_DIR, default ./build: tests_hardening and tlsprobe). Every tunnel
# costs one descriptor in this test process, one in the echo child and two in the proxy, so
# the hard RLIMIT_NOFILE must be at least 2 * TUNNELS + 256 (the proxy admits at most
# (limit - 128) / 2 clients); as root the script raises it, elsewhere `ulimit -Hn` decides.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
tunnels=${1:-10000}
mix=${2:-60}
need=$((2 * tunnels + 256))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
  ulimit -Hn "$need" 2>/dev/null || {
    max=$((($(ulimit -Hn) - 256) / 2))
    echo "load: hard descriptor limit $(ulimit -Hn) < $need; running $max tunnels instead" >&2
    tunnels=$max
  }
fi
ulimit -Sn "$(ulimit -Hn)"
bin="$build_dir/tests/tests_hardening"
[ -x "$bin" ] || { echo "load: $bin not built (cmake --build $build_dir --target tests_hardening)" >&2; exit 1; }
echo "load: $tunnels tunnels, ${mix}s mix" >&2
TLSPROBE_LOAD_TUNNELS=$tunnels TLSPROBE_MIX_SECONDS=$mix "$bin" "[load]" -d yes 2>&1 |
  grep -vE "^(-+|\.+|=+|)$" || true
exit "${PIPESTATUS[0]}"
