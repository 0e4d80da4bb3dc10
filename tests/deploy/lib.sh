# Shared by tests/deploy/*_test.sh: a scratch directory removed on exit, a bounded wait, and
# a tlsprobe proxy started on free ports (127.0.0.1:0) whose ports are read from its stderr.
# Environment (set by tests/CMakeLists.txt): TLSPROBE_BIN, TLSPROBE_SOURCE_DIR.
set -euo pipefail
: "${TLSPROBE_BIN:?TLSPROBE_BIN must name the tlsprobe executable}"
: "${TLSPROBE_SOURCE_DIR:?TLSPROBE_SOURCE_DIR must name the source tree}"
SKIP=77  # ctest SKIP_RETURN_CODE

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds; fails after SECONDS.
wait_for() {
  local limit=$(( $1 * 10 )); shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# start_proxy NAME ARGS...: runs `tlsprobe proxy ARGS...` with stderr in $work/NAME.err; sets
# proxy_pid, proxy_port and admin_port (0 when the admin listener is off).
start_proxy() {
  local name=$1; shift
  "$TLSPROBE_BIN" proxy "$@" 2>"$work/$name.err" &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_for 60 grep -q 'listening on' "$work/$name.err" ||
    fail "proxy $name did not start: $(cat "$work/$name.err")"
  proxy_port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$work/$name.err" | head -1)
  admin_port=$(sed -n 's/.*admin listener on port \([0-9]*\).*/\1/p' "$work/$name.err" | head -1)
  admin_port=${admin_port:-0}
}
