#!/usr/bin/env bash
# Builds every libFuzzer target (TLSPROBE_FUZZ=ON, clang) and runs each for a bounded time
# on its seed corpus; exits non-zero when any target crashes (the crashing input is kept in
# $FUZZ_DIR/crashes/<target>/ and the fuzzer's output in $FUZZ_DIR/logs/<target>.log).
#
#   tools/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 60); all targets by default
#
# Environment: BUILD_DIR (default ./build-fuzz), JOBS (default nproc), FUZZ_DIR (work files,
# default $BUILD_DIR/fuzz-run). Seeds come from tests/fuzz/corpus/<target>/ and are only read:
# the inputs a run adds go to $FUZZ_DIR/corpus/<target>/, which later runs start from too.
# A missing clang or libFuzzer is reported and skipped (exit 0) unless FUZZ_REQUIRED=1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
shift || true
build_dir=${BUILD_DIR:-$here/build-fuzz}
fuzz_dir=${FUZZ_DIR:-$build_dir/fuzz-run}
jobs=${JOBS:-$(nproc)}

if ! command -v clang++ >/dev/null 2>&1 ||
  ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: clang++ or libFuzzer (libclang-rt-14-dev) missing; skipping" >&2
  [ "${FUZZ_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

# All *_fuzz.cpp files of the folders CMake scans (CMakeLists.txt, TLSPROBE_FUZZ).
mapfile -t sources < <(cd "$here" && ls certs/*_fuzz.cpp inspect/*_fuzz.cpp config/*_fuzz.cpp \
  proxy/*_fuzz.cpp tools/logs/*_fuzz.cpp tests/fuzz/*_fuzz.cpp 2>/dev/null | sort)
targets=()
for s in "${sources[@]}"; do targets+=("$(basename "$s" .cpp)"); done
[ $# -gt 0 ] && targets=("$@")
[ ${#targets[@]} -eq 0 ] && { echo "fuzz: no *_fuzz.cpp targets" >&2; exit 1; }

cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSPROBE_FUZZ=ON -DTLSPROBE_TESTS=OFF >/dev/null
start=$SECONDS
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}" | grep -v '^\[' || true
for t in "${targets[@]}"; do
  [ -x "$build_dir/$t" ] || { echo "fuzz: $t did not build" >&2; exit 1; }
done
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - start)) s" >&2

failed=()
mkdir -p "$fuzz_dir/logs"
for t in "${targets[@]}"; do
  work="$fuzz_dir/corpus/$t" crashes="$fuzz_dir/crashes/$t"
  mkdir -p "$work" "$crashes"
  seeds=()
  [ -d "$here/tests/fuzz/corpus/$t" ] && seeds=("$here/tests/fuzz/corpus/$t")
  log="$fuzz_dir/logs/$t.log"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak or a blow-up.
  if "$build_dir/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$work" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    rate=$(grep -m1 -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t ok: $runs runs, $rate exec/s, $cov, corpus $(ls "$work" | wc -l)"
  else
    echo "fuzz: $t FAILED; input in $crashes/, output in $log" >&2
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -5 >&2 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}; add each input as a regression test in tests/hardening/" >&2
  exit 1
fi
