#!/usr/bin/env bash
# Builds the test suite with sanitizers in its own build directory and runs it.
#
#   tools/sanitize.sh [address|thread]     default: address
#
# address  TLSPROBE_SANITIZE=address,undefined in $BUILD_DIR (default ./build-asan); runs every
#          ctest. The tlsprobe binary the end-to-end tests start is instrumented too, so a
#          report in a child proxy makes its exit status (and the test) fail.
# thread   TLSPROBE_SANITIZE=thread in $BUILD_DIR (default ./build-tsan); runs only the tests
#          about concurrency (caches shared by sessions, concurrent minting and verification,
#          metrics from many threads, shutdown/drain, SIGTERM under load), chosen by name/tag,
#          and all of tests_proxy (sessions on several io threads sharing caches and the log).
#
# Environment: BUILD_DIR, JOBS (default nproc), CXX (default g++; clang++ works too),
# BUILD_TYPE (default Sanitize: -Og -g1), WERROR (ON|OFF, default OFF), CMAKE_EXTRA. Exit status: that of the tests (0 = clean).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kind=${1:-address}
jobs=${JOBS:-$(nproc)}
cxx=${CXX:-g++}

case "$kind" in
  address) sanitize=address,undefined; build_dir=${BUILD_DIR:-$here/build-asan} ;;
  thread) sanitize=thread; build_dir=${BUILD_DIR:-$here/build-tsan} ;;
  *) echo "usage: tools/sanitize.sh [address|thread]" >&2; exit 64 ;;
esac

# Reports end the process with a distinctive status; children (the proxy under test) inherit it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:exitcode=86:detect_stack_use_after_return=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=88:second_deadlock_stack=1}
# LeakSanitizer needs ptrace-like access that some containers deny; then it is switched off
# (and said so) rather than failing every test.
if [ "$kind" = address ] && ! echo 'int main(){}' | $cxx -x c++ -fsanitize=address - -o /tmp/tlsprobe-lsan-probe.$$ 2>/dev/null; then
  echo "sanitize: $cxx cannot build with -fsanitize=address; skipping" >&2
  exit 0
fi
if [ "$kind" = address ]; then
  if ! /tmp/tlsprobe-lsan-probe.$$ >/dev/null 2>&1; then
    echo "sanitize: LeakSanitizer cannot run here; leak checks off" >&2
    ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
  fi
  rm -f /tmp/tlsprobe-lsan-probe.$$
fi

start=$SECONDS
# -Og -g1: sanitizer builds are for finding bugs, not speed. -Og keeps the optimizer's
# flow analysis (so -Wmaybe-uninitialized and friends still fire) but skips most of the
# inlining and scheduling that make -O1 slow over Asio/Beast coroutines: the heaviest file,
# proxy/http/http_relay.cpp, takes 56 s at -Og against 122 s at -O1 here. -g1 (line tables
# only) still gives file:line in every stack. Asserts stay on (no NDEBUG).
cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Sanitize} -DCMAKE_CXX_FLAGS_SANITIZE="-Og -g1" \
  -DTLSPROBE_WERROR="${WERROR:-OFF}" ${CMAKE_EXTRA:-} -DTLSPROBE_SANITIZE="$sanitize" >/dev/null

if [ "$kind" = address ]; then
  cmake --build "$build_dir" -j "$jobs" | grep -v '^\[' || true
  echo "sanitize: built in $((SECONDS - start)) s" >&2
  cd "$build_dir"
  status=0
  ctest --output-on-failure -j "$jobs" --timeout 1200 || status=$?
  echo "sanitize: address,undefined suite done in $((SECONDS - start)) s" >&2
  exit $status
fi

# thread: "binary|Catch2 test spec" pairs; binaries that do not exist (yet) are skipped.
selection=(
  "tests_ca|[mint_cache],concurrent load_or_create in one directory make one CA"
  "tests_certs|concurrent verification with a shared store"
  "tests_probe|many targets with bounded concurrency all complete"
  "tests_metrics|updates from several threads are all counted"
  "tests_proxy|*"
  "tests_hardening|SIGTERM under load*"
)
targets=(tlsprobe)
for entry in "${selection[@]}"; do targets+=("${entry%%|*}"); done
# Build what exists among the targets (a test folder may not exist in this checkout).
existing=()
for t in "${targets[@]}"; do
  if [ "$t" = tlsprobe ] || [ -d "$here/tests/${t#tests_}" ]; then existing+=("$t"); fi
done
cmake --build "$build_dir" -j "$jobs" --target "${existing[@]}" | grep -v '^\[' || true
echo "sanitize: built in $((SECONDS - start)) s" >&2
failed=0
for entry in "${selection[@]}"; do
  bin="$build_dir/tests/${entry%%|*}" spec="${entry#*|}"
  [ -x "$bin" ] || { echo "sanitize: ${entry%%|*} not built; skipped" >&2; continue; }
  echo "sanitize: ${entry%%|*} \"$spec\"" >&2
  if ! "$bin" "$spec"; then failed=1; fi
done
echo "sanitize: thread selection done in $((SECONDS - start)) s" >&2
exit $failed
