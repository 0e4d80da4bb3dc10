# Checks one log record (the input) against the index template ($tmpl[0]): every field it
# writes is mapped (walking object properties, into nested ones, and stopping at a flattened
# field, which takes any keys), and each value fits its mapped type (keyword, wildcard and
# (match_only_)text: string; long: integer; double: number; boolean; date: RFC 3339; ip:
# IPv4/IPv6 literal). Prints one line per problem.
def fieldname: map(select(type == "string")) | join(".");
def fits($t):
  if $t == "keyword" or $t == "wildcard" or $t == "match_only_text" or $t == "text" then type == "string"
  elif $t == "long" then type == "number" and . == floor
  elif $t == "double" then type == "number"
  elif $t == "boolean" then type == "boolean"
  elif $t == "date" then type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")
  elif $t == "ip" then type == "string" and test("^[0-9A-Fa-f:.]+$")
  else false end;
# The mapping of a field path (strings only), or {"type": "flattened"} once inside one.
def mapping_of($props; $keys):
  if ($keys | length) == 0 then null
  else $props[$keys[0]] as $m
    | if $m == null then null
      elif $m.type == "flattened" then $m
      elif ($keys | length) == 1 then $m
      else mapping_of($m.properties // {}; $keys[1:]) end
  end;
$tmpl[0].template.mappings.properties as $P
| . as $rec
| paths(scalars) as $p
| ($p | map(select(type == "string"))) as $keys
| mapping_of($P; $keys) as $m
| ($rec | getpath($p)) as $v
| if $m == null then "\($keys | join(".")): not mapped by the template"
  elif $m.type == "flattened" then empty
  elif ($m.type // "object") == "object" or $m.type == "nested" then "\($keys | join(".")): a value where the template has an object"
  elif ($v | fits($m.type)) | not then "\($keys | join(".")): \($v | tojson) does not fit \($m.type)"
  else empty end
