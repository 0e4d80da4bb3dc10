# Validates one tlsprobe log record (the input) against the vendored ECS subset
# ($schema[0].fields, tests/data/ecs/ecs_flat_subset.json) and prints one line per problem:
#   - ecs.version and @timestamp present;
#   - every field outside tlsprobe.* is an ECS field of the subset, with a value of its type
#     (keyword/wildcard/match_only_text: string; long: integer; boolean; date: RFC 3339 UTC;
#     ip: an IPv4 or IPv6 literal) and, where ECS lists them, an allowed value;
#   - fields ECS normalises to arrays are arrays, and no other ECS field is one;
#   - no empty string and no empty object anywhere;
#   - tlsprobe.findings[].evidence: documented numeric keys are numbers, boolean keys booleans.
def fieldname: map(select(type == "string")) | join(".");
def is_date: test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$");
def is_ipv4: test("^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$");
def is_ipv6: test("^[0-9A-Fa-f:.]+$") and test(":");
def type_ok($t):
  if $t == "keyword" or $t == "wildcard" or $t == "match_only_text" then type == "string"
  elif $t == "long" then type == "number" and . == floor
  elif $t == "boolean" then type == "boolean"
  elif $t == "date" then type == "string" and is_date
  elif $t == "ip" then type == "string" and (is_ipv4 or is_ipv6)
  else false end;
def numeric_evidence: ["certificates_sent", "count", "days_expired", "days_until_valid", "depth",
  "elapsed_ms", "index", "key_bits", "openssl_code", "openssl_depth", "path_len_constraint",
  "port", "status", "warn_days"];
def boolean_evidence: ["legacy_handshake", "root_sent", "sent"];

$schema[0].fields as $F
| . as $rec
| [paths(scalars) as $p | {p: $p, name: ($p | fieldname), v: ($rec | getpath($p))}] as $leaves
| (if ($rec.ecs.version | type) != "string" then "ecs.version is missing" else empty end),
  (if ($rec["@timestamp"] | type) != "string" then "@timestamp is missing" else empty end),
  ($leaves[] | select(.name | startswith("tlsprobe.") | not) | .name as $n | .v as $v | $F[$n] as $fd
   | if $fd == null then "\($n): not a field of the ECS subset (custom fields belong under tlsprobe.*)"
     elif ($v | type_ok($fd.type)) | not then "\($n): \($v | tojson) is not a \($fd.type)"
     elif ($fd.allowed_values != null) and ($fd.allowed_values | index([$v]) | not)
       then "\($n): \($v | tojson) is not an allowed value"
     elif (.p | any(type == "number")) and (($fd.normalize // []) | index(["array"]) | not)
       then "\($n): an array, but ECS does not normalise it to one"
     else empty end),
  ($F | to_entries[] | select((.value.normalize // []) | index(["array"])) | .key as $k
   | ($rec | getpath($k | split("."))) as $v
   | if $v != null and ($v | type) != "array" then "\($k): must be an array (ECS normalize: array), is \($v | tojson)" else empty end),
  ($rec | paths(type == "string" and . == "") | "\(fieldname): empty string"),
  ($rec | paths(type == "object" and length == 0) | "\(fieldname): empty object"),
  (($rec.tlsprobe.findings // [])[] | .code as $code | (.evidence // {}) | to_entries[]
   | if (.key as $k | numeric_evidence | index([$k])) and (.value | type) != "number"
       then "tlsprobe.findings[\($code)].evidence.\(.key): \(.value | tojson) is not a number"
     elif (.key as $k | boolean_evidence | index([$k])) and (.value | type) != "boolean"
       then "tlsprobe.findings[\($code)].evidence.\(.key): \(.value | tojson) is not a boolean"
     else empty end)
