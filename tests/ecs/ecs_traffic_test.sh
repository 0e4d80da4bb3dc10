#!/usr/bin/env bash
# Every line the connection log writes for real traffic — forward, tunnel, intercept (a good
# upstream and a refused one), reverse and watch — is valid against the vendored ECS subset
# (tests/data/ecs/, checked by ecs_check.jq): types, allowed values, arrays, ecs.version, no
# empty strings or objects, typed evidence; and every field they write is mapped by
# deploy/elasticsearch/tlsprobe-template.json with a fitting type (tests/deploy/template_check.jq).
# The lines are copied to $ECS_LINES_OUT when set.
source "$(dirname "$0")/../deploy/lib.sh"
for tool in jq curl openssl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit $SKIP; }
done
schema=$TLSPROBE_SOURCE_DIR/tests/data/ecs/ecs_flat_subset.json
check=$TLSPROBE_SOURCE_DIR/tests/ecs/ecs_check.jq

# The check can fail: a record with known faults yields one problem per fault.
bad='{"@timestamp":"x","event":{"kind":"nope","category":"network"},"client":{"ip":"300.1.1.1"},"extra":1,"tlsprobe":{"findings":[{"code":"c","evidence":{"depth":"0"}}]}}'
faults=$(echo "$bad" | jq -r --slurpfile schema "$schema" -f "$check" | wc -l)
[ "$faults" -ge 7 ] || fail "the checker found $faults faults in a record with 7"

# A TLS origin for 127.0.0.1 / localhost (its certificate is trusted through --ca-file).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl s_server -accept 127.0.0.1:0 -cert "$work/cert.pem" -key "$work/key.pem" -www \
  -naccept 1000 >"$work/origin.out" 2>&1 </dev/null &
pids+=($!)
wait_for 20 grep -q '^ACCEPT' "$work/origin.out" || fail "s_server did not start"
origin=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$work/origin.out")
log=$work/connections.jsonl
common=(--log "$log" --ca-file "$work/cert.pem" --no-system-trust)

# Forward (plain HTTP: another proxy's admin /healthz is the origin) and tunnel.
start_proxy http_origin --listen 127.0.0.1:0 --admin 127.0.0.1:0 --log "$work/other.jsonl"
http_origin=$admin_port
start_proxy forward --listen 127.0.0.1:0 --admin off "${common[@]}"
curl -s -o /dev/null -A "ecs-test/1.0" -x "http://127.0.0.1:$proxy_port" \
  "http://127.0.0.1:$http_origin/healthz?token=secret" || fail "forward request failed"
curl -s -o /dev/null --cacert "$work/cert.pem" -x "http://127.0.0.1:$proxy_port" \
  "https://127.0.0.1:$origin/" || fail "tunnel request failed"
kill -TERM "$proxy_pid"; wait "$proxy_pid" || fail "forward proxy exit status $?"

# Intercept: a verified upstream, and one that refuses the connection.
start_proxy intercept --listen 127.0.0.1:0 --admin off --intercept --state-dir "$work/state" "${common[@]}"
"$TLSPROBE_BIN" ca export --state-dir "$work/state" >"$work/ca.pem"
curl -s -o /dev/null -A "ecs-test/1.0" --cacert "$work/ca.pem" -x "http://127.0.0.1:$proxy_port" \
  "https://localhost:$origin/index.html" || fail "intercepted request failed"
curl -s -o /dev/null --cacert "$work/ca.pem" -x "http://127.0.0.1:$proxy_port" \
  "https://localhost:1/" || true  # refused upstream: a failure record
kill -TERM "$proxy_pid"; wait "$proxy_pid" || fail "intercept proxy exit status $?"

# Reverse, in front of the same origin (its name resolves through the config's [resolve]).
cat >"$work/reverse.toml" <<TOML
[resolve]
"localhost:$origin" = "127.0.0.1"
TOML
start_proxy reverse --config "$work/reverse.toml" --listen 127.0.0.1:0 --admin off --mode reverse \
  --upstream "https://localhost:$origin" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  "${common[@]}"
curl -s -o /dev/null -A "ecs-test/1.0" --cacert "$work/cert.pem" \
  --resolve "localhost:$proxy_port:127.0.0.1" "https://localhost:$proxy_port/" ||
  fail "reverse request failed"
kill -TERM "$proxy_pid"; wait "$proxy_pid" || fail "reverse proxy exit status $?"

# Watch: one site, its origin and one edge (the same server), one round.
cat >"$work/watch.toml" <<TOML
[log]
file = "$log"
[trust]
system = false
ca_files = ["$work/cert.pem"]
[[site]]
host = "localhost"
origin = "127.0.0.1:$origin"
edges = ["127.0.0.1:$origin"]
TOML
"$TLSPROBE_BIN" watch --config "$work/watch.toml" --once >"$work/watch.out" 2>&1 ||
  fail "watch --once exit status $?: $(cat "$work/watch.out")"

if [ -n "${ECS_LINES_OUT:-}" ]; then cp "$log" "$ECS_LINES_OUT"; fi

# Every kind of record is there, and every line is valid.
for mode in forward tunnel intercept reverse watch; do
  n=$(jq -r --arg m "$mode" 'select(.tlsprobe.mode == $m) | 1' "$log" | wc -l)
  [ "$n" -gt 0 ] || fail "no $mode record in the log: $(cat "$log")"
  echo "$mode: $n line(s)"
done
[ "$(jq -c 'select(.tlsprobe.mode == "intercept" and .event.outcome == "failure")' "$log" | wc -l)" -ge 1 ] ||
  fail "no failure record for the refused intercepted upstream"
# Every record of an HTTP exchange says the request's version and the client's User-Agent
# (curl is told to send "ecs-test/1.0"): http.version and user_agent.original (issue 17).
for mode in forward intercept reverse; do
  bad=$(jq -c --arg m "$mode" 'select(.tlsprobe.mode == $m and .http.request.method != null)
    | select(.http.version != "1.1" or (.user_agent.original // "") != "ecs-test/1.0")' "$log")
  [ -z "$bad" ] || fail "$mode record without http.version 1.1 or the client's user_agent.original: $bad"
done
# A tunnel's tls.* is the client's own connection, read from the ServerHello (issue 17).
bad=$(jq -c 'select(.tlsprobe.mode == "tunnel")
  | select(.tls.version != "1.3" or .tls.established != true or ((.tls.cipher // "") | startswith("TLS_") | not))' "$log")
[ -z "$bad" ] || fail "tunnel record without the client's tls.version/cipher/established: $bad"
problems=0
while IFS= read -r line; do
  out=$(echo "$line" | jq -r --slurpfile schema "$schema" -f "$check")
  if [ -n "$out" ]; then
    problems=$((problems + 1))
    echo "INVALID ($(echo "$line" | jq -r '.tlsprobe.mode')): $out" >&2
    echo "  line: $line" >&2
  fi
done <"$log"
[ "$problems" = 0 ] || fail "$problems log line(s) are not valid ECS"
# ... and every field they write is mapped by the index template, with a fitting type.
tmpl=$TLSPROBE_SOURCE_DIR/deploy/elasticsearch/tlsprobe-template.json
unmapped=$(jq -r --slurpfile tmpl "$tmpl" -f "$TLSPROBE_SOURCE_DIR/tests/deploy/template_check.jq" "$log" | sort -u)
[ -z "$unmapped" ] || fail "the index template does not fit the log: $unmapped"
echo "all $(wc -l <"$log") lines valid against $(jq '.fields | length' "$schema") ECS field definitions"
