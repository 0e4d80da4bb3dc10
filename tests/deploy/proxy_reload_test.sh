#!/usr/bin/env bash
# `tlsprobe proxy` reloads its config on SIGHUP (systemctl reload): a setting changed in the
# file (here [auth]) applies to new connections at once, while a tunnel opened before the
# reload keeps working; a broken file on reload keeps the previous settings and says why in
# one line with file:line; SIGTERM afterwards still drains and logs every connection.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit $SKIP; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit $SKIP; }

# A TLS server that answers each line reversed (-rev), on a free loopback port.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl s_server -accept 127.0.0.1:0 -cert "$work/cert.pem" -key "$work/key.pem" -rev \
  >"$work/server.out" 2>&1 </dev/null &
pids+=($!)
wait_for 20 grep -q '^ACCEPT' "$work/server.out" || fail "s_server did not start"
server_port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$work/server.out")

config=$work/tlsprobe.toml
write_config() {  # write_config [EXTRA TOML]
  cat >"$config" <<TOML
listen = "127.0.0.1:0"
admin = "off"
[timeouts]
probe = "2s"
[log]
file = "$work/connections.jsonl"
stderr_findings = false
$1
TOML
  chmod 600 "$config"
}
write_config ""
start_proxy reload --config "$config"
proxy_url=http://127.0.0.1:$proxy_port

status() { curl -s -o /dev/null -w '%{http_code}' -x "$proxy_url" "$@" http://127.0.0.1:9/; }
# Before: no authentication, so the proxy tries port 9 itself (refused: 502).
[ "$(status)" = 502 ] || fail "before the reload, expected 502 without credentials"

# A tunnel opened before the reload, held open through a FIFO.
mkfifo "$work/in"
openssl s_client -quiet -proxy "127.0.0.1:$proxy_port" -connect "127.0.0.1:$server_port" \
  <"$work/in" >"$work/client.out" 2>"$work/client.err" &
client_pid=$!
pids+=("$client_pid")
exec 3>"$work/in"
echo hello >&3
wait_for 20 grep -q olleh "$work/client.out" || fail "tunnel before reload: $(cat "$work/client.err")"

# Reload with [auth]: new connections must authenticate.
write_config $'[auth]\nuser = "probe"\npassword = "s3cret"'
kill -HUP "$proxy_pid"
wait_for 20 grep -q 'configuration reloaded' "$work/reload.err" || fail "no reload line: $(cat "$work/reload.err")"
[ "$(status)" = 407 ] || fail "after the reload, a new connection without credentials was not asked for them"
[ "$(status -U probe:s3cret)" = 502 ] || fail "after the reload, the new credentials were not accepted"

# The old tunnel still relays both ways.
echo second >&3
wait_for 20 grep -q dnoces "$work/client.out" || fail "the tunnel opened before the reload stopped working"

# A broken file: refused with file:line, the previous settings stay.
write_config $'[auth]\nuser = "probe"\npassword = "s3cret"\nno_such_key = 1'
kill -HUP "$proxy_pid"
wait_for 20 grep -q 'reload failed' "$work/reload.err" || fail "no error line for a bad config"
line=$(grep 'reload failed' "$work/reload.err")
[ "$(grep -c 'reload failed' "$work/reload.err")" = 1 ] || fail "expected one error line"
[[ $line == *"$config:"[0-9]*":"* ]] || fail "the error does not name file:line: $line"
kill -0 "$proxy_pid" || fail "the proxy exited on a bad config"
[ "$(status)" = 407 ] || fail "after a failed reload, the previous settings ([auth]) were lost"
echo third >&3
wait_for 20 grep -q driht "$work/client.out" || fail "the tunnel stopped after a failed reload"

# Shut down: the tunnel is drained/closed and logged with the others.
exec 3>&-
kill "$client_pid" 2>/dev/null || true  # -quiet implies -ign_eof: s_client waits for the server
wait "$client_pid" 2>/dev/null || true
kill -TERM "$proxy_pid"
wait "$proxy_pid" || fail "the proxy exited with status $? on SIGTERM"
lines=$(wc -l <"$work/connections.jsonl")
[ "$lines" -ge 3 ] || fail "expected at least 3 log lines (2 forwarded requests, 1 tunnel), got $lines"; jq -c "{mode: .tlsprobe.mode, outcome: .event.outcome, message}" "$work/connections.jsonl" || true
grep -q '"mode":"tunnel"' "$work/connections.jsonl" || fail "the tunnel's line is missing"
echo "reload applied to new connections, the open tunnel kept working, a bad file was refused:"
grep 'reload' "$work/reload.err"
