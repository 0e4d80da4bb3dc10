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
"$here/tools/demo_lab.sh" start "$lab" >&2 || { echo "readme_examples: the lab did not start (ports 18080, 18425, 18443-18451 busy?)" >&2; exit 1; }
trap '"$here/tools/demo_lab.sh" stop "$lab"; for p in "${proxy_pid:-}" "${silent_pid:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done' EXIT
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
# proxy_news FILE [PATTERN]: print the lines of a background proxy's stderr not printed yet, once
# PATTERN is there (at most 20 s) and no new line came for 1 s (at most 20 s): what the terminal
# that started the proxy shows after each client command.
proxy_shown=0
proxy_news() {
  local file=$1 pattern=${2:-} n prev=-1
  if [ -n "$pattern" ]; then
    for _ in $(seq 200); do grep -q -- "$pattern" "$file" && break; sleep 0.1; done
  fi
  for _ in $(seq 20); do n=$(wc -l <"$file"); [ "$n" = "$prev" ] && break; prev=$n; sleep 1; done
  [ "$n" -gt "$proxy_shown" ] && sed -n "$((proxy_shown + 1)),${n}p" "$file"
  proxy_shown=$n
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
section "probe: Ctrl-C during 3,002 targets, 3,000 of them a server that never answers"
# All of 127.0.0.0/8 reaches 0.0.0.0:18460: 3,000 distinct targets, one silent listener.
cat >silent.py <<'EOF'
import socket
# Accepts every connection on 0.0.0.0:18460 and never answers; gives up after 10 minutes.
srv = socket.create_server(("0.0.0.0", 18460), backlog=4096)
srv.settimeout(600)
held = []
try:
    while True:
        held.append(srv.accept()[0])
except OSError:
    pass
EOF
python3 silent.py &
silent_pid=$!
{
  echo www.example.test:18445
  echo example.test:18444
  for x in $(seq 0 11); do for y in $(seq 1 250); do echo "127.0.$x.$y:18460"; done; done
} >targets.txt
sleep 0.5
show "wc -l <targets.txt; head -3 targets.txt"
# 5 s, not 3: the sanitizer build takes about a second to start.
show "timeout --preserve-status -s INT 5 tlsprobe probe --targets targets.txt --timeout 2 --concurrency 50 --format summary --resolve www.example.test:18445:127.0.0.1 --resolve example.test:18444:127.0.0.1 $trust >run.txt; rc=\$?; head -5 run.txt; echo ...; tail -2 run.txt; exit \$rc"
kill $silent_pid 2>/dev/null
wait $silent_pid 2>/dev/null

section "probe: refused port and usage errors"
show tlsprobe probe www.example.test --connect 127.0.0.1:18450 $trust
show tlsprobe probe www.example.test --connect 127.0.0.1
show tlsprobe probe www.example.test --resolve www.example.test:443
section "probe: client certificates"
show tlsprobe probe www.example.test:18446 --resolve www.example.test:18446:127.0.0.1 $trust
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
section "probe: AIA with the issuer's HTTP server (18080) stopped"
# nginx reloaded without its 18080 server, the rest unchanged; restored afterwards.
cp nginx.conf nginx.conf.full
sed '/server { listen 127.0.0.1:18080;/,/^  }$/d' nginx.conf.full >nginx.conf
nginx -c "$lab/nginx.conf" -p "$lab" -s reload 2>/dev/null
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18080/ || break; sleep 0.1; done
show tlsprobe probe example.test:18443 --connect 127.0.0.1:18443 $trust --fullchain-out fullchain-2.pem
show "ls fullchain-2.pem"
cp nginx.conf.full nginx.conf
nginx -c "$lab/nginx.conf" -p "$lab" -s reload 2>/dev/null
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.1; done

section "probe: --clients against a DHE-only server"
show tlsprobe probe compat.test:18447 --connect 127.0.0.1:18447 $trust --clients

section "probe: --clients against the other compat servers (the matrix only)"
for port in 18448 18449 18451; do
  show "tlsprobe probe compat.test:$port --connect 127.0.0.1:$port $trust --clients | sed -n '/^  clients/,/^  server accepts/p'"
done

section "proxy: forward mode"
rm -rf logs/connections.jsonl logs/intercept.jsonl logs/drain.jsonl logs/watch.jsonl state
tlsprobe proxy --listen 127.0.0.1:18085 --config demo.toml --log logs/connections.jsonl \
  $trust --admin 127.0.0.1:19464 --state-dir state >proxy.out 2>&1 &
proxy_pid=$!
wait_listening proxy.out
proxy_shown=0
echo '$ tlsprobe proxy --listen 127.0.0.1:18085 --config demo.toml --log logs/connections.jsonl --ca-file root.pem --no-system-trust --admin 127.0.0.1:19464 --state-dir state &'
proxy_news proxy.out
show "curl -sS -o /dev/null -w '%{http_code}\n' -x http://127.0.0.1:18085 --cacert root.pem https://www.example.test:18443/"
proxy_news proxy.out sni.default_cert
show "curl -sS -o /dev/null -o /dev/null -w '%{http_code}\n' -x http://127.0.0.1:18085 http://shop.example.test:18080/ http://shop.example.test:18080/login"
proxy_news proxy.out no_https_redirect
show "curl -s http://127.0.0.1:19464/metrics | grep -E '^tlsprobe_(connections_total|findings_total)'"
echo '$ kill -INT %1'
kill -INT $proxy_pid
wait $proxy_pid
proxy_pid=
proxy_news proxy.out
echo
show "jq -c '{host: .destination.domain, findings: [.tlsprobe.findings[]? | {code, severity}]}' logs/connections.jsonl"
section "connection log: the first record, shortened with jq"
show "head -1 logs/connections.jsonl | jq '{\"@timestamp\", ecs, event: .event | {outcome, duration}, destination: .destination | {domain, address, port}, tls: .tls | {version, cipher, established, client, server: .server | {hash, not_after, subject, issuer}}, error: .error | {code}, message, tlsprobe: .tlsprobe | {mode, role, findings: [.findings[] | {code, severity, role}]}}'"

section "proxy: a second Ctrl-C while draining"
tlsprobe proxy --listen 127.0.0.1:18086 --config demo.toml --log logs/drain.jsonl --admin off \
  --state-dir state >proxy.out 2>&1 &
proxy_pid=$!
wait_listening proxy.out
proxy_shown=0
echo '$ tlsprobe proxy --listen 127.0.0.1:18086 --config demo.toml --log logs/drain.jsonl --admin off --state-dir state &'
proxy_news proxy.out
# A client connection that never sends a request keeps the drain waiting.
echo '$ exec 3<>/dev/tcp/127.0.0.1/18086      # a client that connects and sends nothing'
exec 3<>/dev/tcp/127.0.0.1/18086
sleep 0.5
echo '$ kill -INT %1'
kill -INT $proxy_pid
proxy_news proxy.out draining
echo '$ kill -INT %1'
kill -INT $proxy_pid
wait $proxy_pid
rc=$?
proxy_pid=
proxy_news proxy.out
echo "exit=$rc"
exec 3>&-
echo

section "proxy: intercept mode"
tlsprobe proxy --listen 127.0.0.1:18081 --intercept --config demo.toml --log logs/intercept.jsonl \
  $trust --admin 127.0.0.1:19465 --state-dir state >proxy.out 2>&1 &
proxy_pid=$!
wait_listening proxy.out
proxy_shown=0
echo '$ tlsprobe proxy --listen 127.0.0.1:18081 --intercept --config demo.toml --log logs/intercept.jsonl --ca-file root.pem --no-system-trust --admin 127.0.0.1:19465 --state-dir state &'
proxy_news proxy.out
show "curl -s -x http://127.0.0.1:18081 --cacert state/ca.pem https://www.example.test:18443/"
proxy_news proxy.out sni.default_cert
show "curl -s -x http://127.0.0.1:18081 --cacert state/ca.pem https://www.example.test:18445/"
show "curl -s -x http://127.0.0.1:18081 --cacert state/ca.pem https://www.example.test:18445/page.html"
proxy_news proxy.out mixed_content
show "jq -c '{url: .url.original, findings: [.tlsprobe.findings[]? | {code, severity}]}' logs/intercept.jsonl"
show "curl -s -o /dev/null -x http://127.0.0.1:18081 https://www.example.test:18445/"
proxy_news proxy.out rejected
show "curl -s http://127.0.0.1:19465/pins"
show "curl -s -X DELETE http://127.0.0.1:19465/pins"
echo '$ kill -INT %1'
kill -INT $proxy_pid
wait $proxy_pid
proxy_pid=
proxy_news proxy.out
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

section "ca: state that is not yours alone is refused"
rm -rf ca-bad && mkdir ca-bad
mkdir -m 0777 ca-bad/open && chmod 0777 ca-bad/open  # chmod: past the umask
tlsprobe ca init --state-dir ca-bad/good >/dev/null
ln -s good ca-bad/link
show "tlsprobe ca init --state-dir ca-bad/open       # a pre-existing 0777 directory"
show "tlsprobe ca init --state-dir ca-bad/link       # a symbolic link to a good state directory"
if [ "$(id -u)" = 0 ]; then
  cp -a ca-bad/good ca-bad/theirs && chown nobody ca-bad/theirs/ca-key.pem
  show "tlsprobe ca init --state-dir ca-bad/theirs     # as root, with ca-key.pem chowned to nobody"
fi

section "logs"
cat logs/intercept.jsonl logs/watch.jsonl >>logs/connections.jsonl
show tlsprobe logs summary logs/connections.jsonl
show tlsprobe logs grep --severity error --format text logs/connections.jsonl
show tlsprobe logs grep --code ct.sct_invalid logs/connections.jsonl
