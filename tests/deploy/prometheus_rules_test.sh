#!/usr/bin/env bash
# deploy/prometheus: the rules load (`promtool check rules`), every alert fires and clears in
# its unit tests (`promtool test rules`), and every tlsprobe_* metric the rules use is one a
# running proxy actually exports on /metrics (a renamed metric would silence an alert).
source "$(dirname "$0")/lib.sh"
rules=$TLSPROBE_SOURCE_DIR/deploy/prometheus/tlsprobe-rules.yml
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (tools/bootstrap.sh deps)"; exit $SKIP; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit $SKIP; }

promtool check rules "$rules"
(cd "$(dirname "$rules")" && promtool test rules tlsprobe-rules.test.yml)

start_proxy metrics --listen 127.0.0.1:0 --admin 127.0.0.1:0 --log "$work/connections.jsonl"
[ "$admin_port" -gt 0 ] || fail "no admin port in: $(cat "$work/metrics.err")"
curl -fsS "http://127.0.0.1:$admin_port/metrics" >"$work/metrics.txt"

# Exported names: each family's TYPE line (a histogram also exports _bucket, _sum, _count).
exported=$(awk '$1 == "#" && $2 == "TYPE" {
  print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" } }' \
  "$work/metrics.txt" | sort -u)
# Used names: tlsprobe_* identifiers outside comments (recording rules are named
# tlsprobe:..., with colons, and are not matched).
used=$(grep -v '^\s*#' "$rules" | grep -oE '\btlsprobe_[a-z0-9_]+' | sort -u)
[ -n "$used" ] || fail "no tlsprobe_* metric found in $rules"
missing=$(comm -23 <(echo "$used") <(echo "$exported"))
[ -z "$missing" ] || fail "the rules use metrics tlsprobe does not export: $missing"
echo "rules use $(echo "$used" | wc -l) tlsprobe metrics, all exported: $(echo $used)"
