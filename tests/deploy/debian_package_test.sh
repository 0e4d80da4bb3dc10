#!/usr/bin/env bash
# The Debian package: `cmake --build BUILD --target deb` (CPack, cmake/package.cmake) builds
# tlsprobe_VERSION_ARCH.deb; lintian reports no error; the package holds the binary, the
# unit, the conffile, the rules and man pages; and the packaged binary, extracted with
# dpkg-deb -x, probes a local TLS server and starts a proxy from the packaged config.
source "$(dirname "$0")/lib.sh"
: "${TLSPROBE_BUILD_DIR:?TLSPROBE_BUILD_DIR must name the build directory}"
for tool in help2man dpkg-deb lintian openssl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed (tools/bootstrap.sh deps)"; exit $SKIP; }
done

cmake --build "$TLSPROBE_BUILD_DIR" --target deb >"$work/build.log" 2>&1 ||
  fail "cmake --build --target deb: $(tail -20 "$work/build.log")"
version=$(sed -n 's/^project(tlsprobe VERSION \([0-9.]*\).*/\1/p' "$TLSPROBE_SOURCE_DIR/CMakeLists.txt")
deb=$TLSPROBE_BUILD_DIR/tlsprobe_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no $deb after the build: $(tail -5 "$work/build.log")"

# lintian: errors fail the test; warnings are shown.
lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.txt" 2>&1 ||
  fail "lintian reports errors: $(cat "$work/lintian.txt")"
echo "lintian: $(grep -c '^E:' "$work/lintian.txt") errors, $(grep -c '^W:' "$work/lintian.txt") warnings"
cat "$work/lintian.txt"

# Contents and conffiles.
dpkg-deb -c "$deb" >"$work/contents.txt"
for f in ./usr/bin/tlsprobe ./usr/lib/systemd/system/tlsprobe.service ./etc/tlsprobe/tlsprobe.toml \
  ./usr/share/tlsprobe/prometheus/tlsprobe-rules.yml ./usr/share/man/man1/tlsprobe.1.gz \
  ./usr/share/man/man1/tlsprobe-proxy.1.gz ./usr/share/man/man1/tlsprobe-probe.1.gz \
  ./usr/share/doc/tlsprobe/copyright; do
  grep -q " $f\$" "$work/contents.txt" || fail "$deb lacks $f"
done
dpkg-deb -f "$deb" Package Version Architecture Depends
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/tlsprobe/tlsprobe.toml ] ||
  fail "conffiles is not /etc/tlsprobe/tlsprobe.toml: $(dpkg-deb -I "$deb" conffiles 2>&1)"

root=$work/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/tlsprobe
zcat "$root/usr/share/man/man1/tlsprobe-proxy.1.gz" | grep -qF -- '\-\-config' ||
  fail "the tlsprobe-proxy man page does not document --config"

# The packaged binary probes a local TLS server (a certificate for 127.0.0.1, trusted here).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl s_server -accept 127.0.0.1:0 -cert "$work/cert.pem" -key "$work/key.pem" -www \
  >"$work/server.out" 2>&1 </dev/null &
pids+=($!)
wait_for 20 grep -q '^ACCEPT' "$work/server.out" || fail "s_server did not start"
port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$work/server.out")
"$bin" probe "127.0.0.1:$port" --ca-file "$work/cert.pem" --no-system-trust --timeout 10 \
  >"$work/probe.txt" 2>&1 || fail "packaged tlsprobe probe exited $?: $(cat "$work/probe.txt")"
grep -q 'CN=localhost' "$work/probe.txt" || fail "probe output lacks the chain: $(cat "$work/probe.txt")"
echo "packaged binary: tlsprobe probe 127.0.0.1:$port -> exit 0"
head -5 "$work/probe.txt"

# ... and starts a proxy from the packaged config (flags move its files into the scratch dir).
TLSPROBE_BIN=$bin start_proxy packaged --config "$root/etc/tlsprobe/tlsprobe.toml" \
  --listen 127.0.0.1:0 --admin off --log "$work/packaged.jsonl" --state-dir "$work/state"
kill -TERM "$proxy_pid"
wait "$proxy_pid" || fail "the packaged proxy exited $? on SIGTERM"
echo "packaged proxy with /etc/tlsprobe/tlsprobe.toml: $(grep listening "$work/packaged.err")"
