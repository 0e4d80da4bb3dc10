#!/usr/bin/env bash
# A broken-on-purpose TLS lab on 127.0.0.1 for trying tlsprobe and for the README's examples
# (tools/readme_examples.sh runs every example against it). Everything is made fresh: a demo
# PKI (openssl), one nginx with a server per failure, and a tiny SMTP server for STARTTLS.
#
#   tools/demo_lab.sh start [DIR]   make DIR (default /tmp/tlsprobe-lab), start the servers
#   tools/demo_lab.sh stop [DIR]    stop them
#
# Ports (all 127.0.0.1):
#   18080  http: the intermediate for AIA (/intermediate.der); shop.example.test pages (/, /login)
#   18443  https: only the leaf CN=example.test, no intermediate (the most common mistake)
#   18444  https: the same leaf with its full chain
#   18445  https: default server example.test (full chain) + virtual host www.example.test
#          (www + mail names) with a stapled OCSP response; /page.html loads an http:// image
#   18446  https: www.example.test, a client certificate required (ssl_verify_client on)
#   18447  https: compat.test, RSA, TLS 1.2 with DHE suites only (ffdhe2048)
#   18448  https: compat.test, TLS 1.2 with RSA key exchange only (AES128-GCM-SHA256)
#   18449  https: compat.test, TLS 1.2 with CBC suites only (ECDHE-RSA-AES128-SHA, -AES256-SHA)
#   18451  https: compat.test, Mozilla "old" shape: TLS 1.0-1.3, DHE with a 1024-bit group, AES128-SHA
#          (the servers of tests/compat/compat_nginx_test.cpp)
#   18425  smtp with STARTTLS: mail.example.test (python3, when installed)
#   18450  nothing (a refused port)
# (tools/readme_examples.sh adds 0.0.0.0:18460 for a while: accepts and never answers.)
# Trust anchor: DIR/root.pem (never installed anywhere; use --ca-file root.pem --no-system-trust).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-start}
dir=${2:-/tmp/tlsprobe-lab}

stop() {
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  [ -f "$dir/smtp.pid" ] && kill "$(cat "$dir/smtp.pid")" 2>/dev/null || true
  rm -f "$dir/nginx.pid" "$dir/smtp.pid"
}

# make_cert NAME SUBJECT ISSUER_NAME DAYS EXTENSIONS [rsa]: DIR/NAME.{key,pem}
make_cert() {
  local name=$1 subject=$2 issuer=$3 days=$4 ext=$5 kind=${6:-ec}
  if [ "$kind" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
  fi
  printf '%b\n' "$ext" >"$name.ext"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
  if [ "$issuer" = self ]; then
    openssl x509 -req -in "$name.csr" -signkey "$name.key" -days "$days" -extfile "$name.ext" \
      -out "$name.pem" 2>/dev/null
  else
    openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
      -days "$days" -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  fi
  rm -f "$name.csr" "$name.ext"
}

start() {
  command -v nginx >/dev/null || { echo "demo_lab: nginx is not installed (tools/bootstrap.sh deps)" >&2; exit 1; }
  stop
  mkdir -p "$dir/www" "$dir/logs"
  cd "$dir"
  local ca="basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign"
  make_cert root "/O=Demo/CN=Demo Root CA" self 3650 "$ca"
  make_cert int "/O=Demo/CN=Demo Intermediate CA" root 1825 "$ca"
  local leaf="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth"
  local aia="authorityInfoAccess=caIssuers;URI:http://127.0.0.1:18080/intermediate.der"
  make_cert example "/CN=example.test" int 90 "$leaf\nsubjectAltName=DNS:example.test\n$aia"
  # www names an OCSP responder (nothing answers there; nginx staples a prepared response).
  make_cert www "/CN=www.example.test" int 90 "$leaf\nsubjectAltName=DNS:www.example.test,DNS:mail.example.test\n$aia,OCSP;URI:http://127.0.0.1:18080/ocsp"
  make_cert compat "/CN=compat.test" int 90 "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:compat.test" rsa
  make_cert client "/CN=probe client" int 90 "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"
  cat example.pem int.pem >example-full.pem
  cat www.pem int.pem >www-full.pem
  cat compat.pem int.pem >compat-full.pem
  cat client.pem int.pem >client-full.pem
  openssl x509 -in int.pem -outform DER -out www/intermediate.der

  # A "good" OCSP response for www.example.test, signed by the intermediate, for nginx to staple.
  : >index.txt
  printf 'V\t%s\t\t%s\tunknown\t%s\n' \
    "$(openssl x509 -in www.pem -noout -enddate | sed 's/notAfter=//' | xargs -I{} date -u -d {} +%y%m%d%H%M%SZ)" \
    "$(openssl x509 -in www.pem -noout -serial | cut -d= -f2)" \
    "$(openssl x509 -in www.pem -noout -subject -nameopt compat | sed 's/subject=//')" >index.txt
  openssl ocsp -issuer int.pem -cert www.pem -no_nonce -reqout ocsp-req.der 2>/dev/null
  openssl ocsp -index index.txt -rsigner int.pem -rkey int.key -CA int.pem -reqin ocsp-req.der \
    -respout staple.der -ndays 3 2>/dev/null >/dev/null

  cat >nginx.conf <<EOF
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/nginx-error.log warn;
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  ssl_protocols TLSv1.2 TLSv1.3;  # Debian 12's nginx 1.22 still defaults to TLS 1.0-1.2
  default_type text/html;
  server { listen 127.0.0.1:18080;
    root $dir/www;
    location /login { return 302 https://shop.example.test/login; }
    location = / { return 200 "<!doctype html><title>shop</title><p>shop\n"; }
  }
  server { listen 127.0.0.1:18443 ssl default_server; server_name example.test;
    ssl_certificate $dir/example.pem; ssl_certificate_key $dir/example.key;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18444 ssl default_server; server_name example.test;
    ssl_certificate $dir/example-full.pem; ssl_certificate_key $dir/example.key;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18445 ssl default_server; server_name example.test;
    ssl_certificate $dir/example-full.pem; ssl_certificate_key $dir/example.key;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18445 ssl; server_name www.example.test;
    ssl_certificate $dir/www-full.pem; ssl_certificate_key $dir/www.key;
    ssl_stapling on; ssl_stapling_file $dir/staple.der;
    location = /page.html { return 200 '<!doctype html><title>www</title><img src="http://cdn.example.test/logo.png">\n'; }
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18446 ssl; server_name www.example.test;
    ssl_certificate $dir/www-full.pem; ssl_certificate_key $dir/www.key;
    ssl_client_certificate $dir/root.pem; ssl_verify_client on; ssl_verify_depth 2;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18447 ssl; server_name compat.test;
    ssl_certificate $dir/compat-full.pem; ssl_certificate_key $dir/compat.key;
    ssl_protocols TLSv1.2; ssl_ciphers DHE-RSA-AES128-GCM-SHA256; ssl_dhparam $dir/ffdhe2048.pem;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18448 ssl; server_name compat.test;
    ssl_certificate $dir/compat-full.pem; ssl_certificate_key $dir/compat.key;
    ssl_protocols TLSv1.2; ssl_ciphers AES128-GCM-SHA256;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18449 ssl; server_name compat.test;
    ssl_certificate $dir/compat-full.pem; ssl_certificate_key $dir/compat.key;
    ssl_protocols TLSv1.2; ssl_ciphers ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA;
    location / { return 200 "ok\n"; } }
  # Debian's OpenSSL needs @SECLEVEL=0 to serve TLS 1.0/1.1 and a 1024-bit DH group.
  server { listen 127.0.0.1:18451 ssl; server_name compat.test;
    ssl_certificate $dir/compat-full.pem; ssl_certificate_key $dir/compat.key;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0;
    ssl_dhparam $dir/dh1024.pem;
    location / { return 200 "ok\n"; } }
}
EOF
  # A 1024-bit group for the "old" server on 18451 (the one tests/compat uses).
  cp "$here/tests/data/compat/dh1024.pem" dh1024.pem
  # RFC 7919 ffdhe2048 (what a current nginx guide recommends instead of a home-made group).
  cat >ffdhe2048.pem <<'EOF'
-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
EOF
  nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/logs/nginx-error.log"

  # SMTP with STARTTLS on 18425 (what a mail server's certificate problems look like).
  if command -v python3 >/dev/null; then
    cat >smtp.py <<'EOF'
import socket, ssl, sys, threading
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(sys.argv[1] + "/www-full.pem", sys.argv[1] + "/www.key")
srv = socket.create_server(("127.0.0.1", 18425))
def serve(c):
    c.settimeout(10)
    f = c.makefile("rb")
    c.sendall(b"220 mail.example.test ESMTP demo\r\n")
    for line in f:
        verb = line.strip().split(b" ")[0].upper()
        if verb in (b"EHLO", b"HELO"):
            c.sendall(b"250-mail.example.test\r\n250 STARTTLS\r\n")
        elif verb == b"STARTTLS":
            c.sendall(b"220 go ahead\r\n")
            try:
                t = ctx.wrap_socket(c, server_side=True)
                t.recv(1)
            except Exception:
                pass
            break
        else:
            c.sendall(b"502 no\r\n")
    c.close()
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
    python3 smtp.py "$dir" >logs/smtp.log 2>&1 &
    echo $! >smtp.pid
  fi
  # [resolve] for the proxy examples: every lab name is 127.0.0.1.
  cat >demo.toml <<'EOF'
[resolve]
"example.test" = "127.0.0.1"
"www.example.test" = "127.0.0.1"
"shop.example.test" = "127.0.0.1"
"compat.test" = "127.0.0.1"
EOF
  sleep 0.5
  echo "demo_lab: servers up in $dir (trust anchor $dir/root.pem); stop with: tools/demo_lab.sh stop $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: tools/demo_lab.sh start|stop [DIR]" >&2; exit 64 ;;
esac
