#!/usr/bin/env bash
# deploy/systemd/tlsprobe.service: `systemd-analyze verify` prints nothing (unknown keys,
# bad values and missing executables are warnings with exit status 0, so any output fails),
# and the sandbox settings the unit promises are there. Verified under a scratch --root that
# holds the unit, tlsprobe as /usr/bin/tlsprobe, /bin/kill and the system's units, so the
# host needs no installed tlsprobe. Skipped only when systemd-analyze is absent.
source "$(dirname "$0")/lib.sh"
unit=$TLSPROBE_SOURCE_DIR/deploy/systemd/tlsprobe.service
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit $SKIP; }

root=$work/root
mkdir -p "$root/usr/bin" "$root/bin" "$root/usr/lib/systemd" "$root/etc/systemd/system"
ln "$TLSPROBE_BIN" "$root/usr/bin/tlsprobe" 2>/dev/null || cp "$TLSPROBE_BIN" "$root/usr/bin/tlsprobe"
cp "$(type -P kill)" "$root/bin/kill"  # /bin/kill (procps), not the shell builtin
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"

verify() {  # verify UNIT_FILE: prints what systemd-analyze says about it
  cp "$1" "$root/etc/systemd/system/tlsprobe.service"
  systemd-analyze verify --root="$root" --man=no tlsprobe.service 2>&1 || echo "exit status $?"
}

# The check can fail: a misspelt key is reported.
sed 's/^NoNewPrivileges=/NoNewPrivilegs=/' "$unit" >"$work/typo.service"
verify "$work/typo.service" | grep -q "Unknown key 'NoNewPrivilegs'" ||
  fail "systemd-analyze did not report a misspelt key; the check below would prove nothing"

out=$(verify "$unit")
[ -z "$out" ] || fail "systemd-analyze verify $unit: $out"

for key in 'DynamicUser=yes' 'StateDirectory=tlsprobe' 'LogsDirectory=tlsprobe' \
  'ProtectSystem=strict' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
  'ExecReload=/bin/kill -HUP $MAINPID' 'ExecStart=/usr/bin/tlsprobe proxy --config /etc/tlsprobe/tlsprobe.toml'; do
  grep -qxF "$key" "$unit" || fail "$unit lacks $key"
done
echo "systemd-analyze verify: clean ($(systemd-analyze --version | head -1))"
