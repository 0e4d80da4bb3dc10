#!/usr/bin/env bash
# deploy/elasticsearch/tlsprobe-template.json: valid JSON; an index template for tlsprobe-*
# data streams; tlsprobe.findings nested with evidence and equivalents flattened; every ECS
# field it maps has ECS's own type (tests/data/ecs, so no conflict with ecs@mappings or other
# ECS data in the same cluster); the checker used on real lines (template_check.jq, run by
# tests/ecs/ecs_traffic_test.sh on every line of real traffic) catches unmapped fields and
# type conflicts.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit $SKIP; }
tmpl=$TLSPROBE_SOURCE_DIR/deploy/elasticsearch/tlsprobe-template.json
schema=$TLSPROBE_SOURCE_DIR/tests/data/ecs/ecs_flat_subset.json
check=$TLSPROBE_SOURCE_DIR/tests/deploy/template_check.jq

jq -e '.index_patterns == ["tlsprobe-*"] and (.data_stream | type) == "object"' "$tmpl" >/dev/null ||
  fail "$tmpl is not a data-stream template for tlsprobe-*"
P='.template.mappings.properties'
jq -e "$P.tlsprobe.properties.findings.type == \"nested\"" "$tmpl" >/dev/null || fail "findings not nested"
jq -e "$P.tlsprobe.properties.findings.properties.evidence.type == \"flattened\"" "$tmpl" >/dev/null ||
  fail "evidence not flattened"
jq -e "$P[\"@timestamp\"].type == \"date\"" "$tmpl" >/dev/null || fail "@timestamp is not a date"

# ECS types: every field of the vendored ECS subset is mapped with exactly ECS's type.
conflicts=$(jq -r --slurpfile t "$tmpl" '
  def mapping($p; $k): if ($k|length) == 1 then $p[$k[0]] else mapping($p[$k[0]].properties // {}; $k[1:]) end;
  .fields | to_entries[] | .key as $f | .value.type as $ecs
  | (mapping($t[0].template.mappings.properties; $f | split(".")) // {}).type as $mine
  | select($mine != $ecs) | "\($f): template \($mine), ECS \($ecs)"' "$schema")
[ -z "$conflicts" ] || fail "template types differ from ECS: $conflicts"

# The line checker finds an unmapped field and a type conflict, and accepts a good record.
bad='{"@timestamp":"2026-01-01T00:00:00.000Z","event":{"duration":"slow"},"unmapped":1}'
[ "$(echo "$bad" | jq -r --slurpfile tmpl "$tmpl" -f "$check" | wc -l)" = 2 ] ||
  fail "template_check.jq missed a fault"
good='{"@timestamp":"2026-01-01T00:00:00.000Z","event":{"duration":5},"tlsprobe":{"findings":[{"code":"a","evidence":{"depth":0,"x":"y"}}]}}'
[ -z "$(echo "$good" | jq -r --slurpfile tmpl "$tmpl" -f "$check")" ] || fail "template_check.jq rejects a good record"
echo "template: $(jq "[$P | .. | objects | select(has(\"type\"))] | length" "$tmpl") mapped fields, ECS types match $(jq '.fields|length' "$schema") ECS definitions"
