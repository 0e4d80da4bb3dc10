#!/usr/bin/env bash
# Runs the README's examples against the demo lab (tools/demo_lab.sh) and prints each command with
# its real output and exit status, ready to be copied into the README.
#
#   tools/readme_examples.sh [TLSPROBE_BINARY]    default: build/tools/tlsprobe
#
# Environment: LAB (default /tmp/tlsprobe-lab; started here, stopped at the end).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(realpath "${1:-$here/build/tools/tlsprobe}")
lab=${LAB:-/tmp/tlsprobe-lab}
[ -x "$bin" ] || { echo "readme_examples: no tlsprobe binary at $bin (tools/bootstrap.sh build)" >&2; exit 64; }
"$here/tools/demo_lab.sh" start "$lab" >&2 || { echo "readme_examples: the lab did not start (ports 18080, 18425, 18443-18447 busy?)" >&2; exit 1; }
trap '"$here/tools/demo_lab.sh" stop "$lab"; [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null' EXIT
cd "$lab"
mkdir -p bin && ln -sf "$bin" bin/tlsprobe
export PATH="$lab/bin:$PATH" NO_COLOR=1

# show COMMAND...: print "$ COMMAND", run it, print its output and "exit=N" when not 0.
show() {
  echo "\$ $*"
  bash -c "$*" 2>&1
  local rc=$?
  [ $rc -ne 0 ] && echo "exit=$rc"
  echo
}
section() { printf '\n===== %s =====\n' "$1"; }
# wait_listening FILE: until the proxy's start-up line is in FILE (at most 30 s).
wait_listening() {
  for _ in $(seq 300); do grep -q "listening on" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "readme_examples: the proxy did not start: $(cat "$1")" >&2
  exit 1
}
trust="--ca-file root.pem --no-system-trust"

section "probe: leaf without its intermediate, www answered with the default certificate"
show tlsprobe probe www.example.test --connect 127.0.0.1:18443 $trust
section "probe: the full chain"
show tlsprobe probe example.test:18444 --connect 127.0.0.1:18444 $trust
section "probe: virtual host with a stapled OCSP response"
show tlsprobe probe www.example.test:18445 --resolve www.example.test:18445:127.0.0.1 $trust
section "probe: summary of several targets"
show tlsprobe probe --format summary www.example.test:18445 other.example.test:18445 www.example.test:18450 \
  --resolve www.example.test:18445:127.0.0.1 --resolve other.example.test:18445:127.0.0.1 \
  --resolve www.example.test:18450:127.0.0.1 $trust
section "probe: refused port and usage errors"
show tlsprobe probe www.example.test --connect 127.0.0.1:18450 $trust
show tlsprobe probe www.example.test --connect 127.0.0.1
show tlsprobe probe www.example.test --resolve www.example.test:443
section "probe: client certificates"
show tlsprobe probe www.example.test:18446 --resolve www.example.test:18446:127.0.0.1 $trust --format summary
show tlsprobe probe www.example.test:18446 --resolve www.example.test:18446:127.0.0.1 $trust --format summary \
  --cert client-full.pem --key client.key
show tlsprobe probe www.example.test:18446 --cert client.pem --key www.key
section "probe: STARTTLS"
show tlsprobe probe mail.example.test:18425 --resolve mail.example.test:18425:127.0.0.1 --starttls smtp $trust
section "probe: AIA and --fullchain-out"
show tlsprobe probe example.test:18443 --connect 127.0.0.1:18443 $trust --fullchain-out fullchain.pem
show "curl -sS --cacert root.pem --resolve example.test:18443:127.0.0.1 https://example.test:18443/"
show "curl -sS --cacert root.pem --resolve example.test:18444:127.0.0.1 https://example.test:18444/"
show "cmp fullchain.pem example-full.pem && echo same as the full chain the lab serves"
section "probe: --clients against a DHE-only server"
show tlsprobe probe compat.test:18447 --connect 127.0.0.1:18447 $trust --clients

section "proxy: forward mode"
rm -rf logs/connections.jsonl state
tlsprobe proxy --listen 127.0.0.1:18085 --config demo.toml --log logs/connections.jsonl \
  $trust --admin 127.0.0.1:19464 --state-dir state >proxy.out 2>&1 &
proxy_pid=$!
wait_listening proxy.out
echo '$ tlsprobe proxy --listen 127.0.0.1:18085 --config demo.toml --log logs/connections.jsonl --ca-file root.pem --no-system-trust --admin 127.0.0.1:19464 --state-dir state &'
show "curl -sS -o /dev/null -w '%{http_code}\n' -x http://127.0.0.1:18085 --cacert root.pem https://www.example.test:18443/"
show "curl -sS -o /dev/null -o /dev/null -w '%{http_code}\n' -x http://127.0.0.1:18085 http://shop.example.test:18080/ http://shop.example.test:18080/login"
sleep 2
show "curl -s http://127.0.0.1:19464/metrics | grep -E '^tlsprobe_(connections_total|findings_total)'"
kill -INT $proxy_pid; wait $proxy_pid; proxy_pid=
cat proxy.out
echo
show "jq -c '{host: .destination.domain, findings: [.tlsprobe.findings[]? | {code, severity}]}' logs/connections.jsonl"

section "proxy: intercept mode"
tlsprobe proxy --listen 127.0.0.1:18081 --intercept --config demo.toml --log logs/intercept.jsonl \
  $trust --admin 127.0.0.1:19465 --state-dir state >proxy.out 2>&1 &
proxy_pid=$!
wait_listening proxy.out
echo '$ tlsprobe proxy --listen 127.0.0.1:18081 --intercept --config demo.toml --log logs/intercept.jsonl --ca-file root.pem --no-system-trust --admin 127.0.0.1:19465 --state-dir state &'
show "curl -s -x http://127.0.0.1:18081 --cacert state/ca.pem https://www.example.test:18443/"
show "curl -s -x http://127.0.0.1:18081 --cacert state/ca.pem https://www.example.test:18445/"
show "curl -s -o /dev/null -x http://127.0.0.1:18081 https://www.example.test:18445/"
show "curl -s http://127.0.0.1:19465/pins"
show "curl -s -X DELETE http://127.0.0.1:19465/pins"
kill -INT $proxy_pid; wait $proxy_pid; proxy_pid=
cat proxy.out
echo

section "watch"
cat >watch.toml <<'EOF'
[[site]]
host = "example.test"
origin = "127.0.0.1:18444"
edges = ["127.0.0.1:18443", "127.0.0.1:18445"]
EOF
show cat watch.toml
show tlsprobe watch --config watch.toml --once --log logs/watch.jsonl $trust

section "ca"
rm -rf ca-demo
show tlsprobe ca init --state-dir ca-demo
show tlsprobe ca init --state-dir ca-demo
show tlsprobe ca path --state-dir ca-demo

section "logs"
cat logs/intercept.jsonl logs/watch.jsonl >>logs/connections.jsonl
show tlsprobe logs summary logs/connections.jsonl
show tlsprobe logs grep --severity error --format text logs/connections.jsonl
show tlsprobe logs grep --code ct.sct_invalid logs/connections.jsonl
