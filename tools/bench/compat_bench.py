#!/usr/bin/env python3
"""compat_bench: handshakes and seconds per target for `tlsprobe probe --deep`, side by side
with `testssl -p -s -e` (protocols, standard cipher lists, every cipher) on the same local
nginx servers (issue 15 item 1).

    tools/bench/compat_bench.py [--tlsprobe PATH] [--testssl PATH] [--targets a,b,...]

Servers (one nginx, Debian 12's OpenSSL 3, RSA-2048 leaf, one port each): healthy (Mozilla
intermediate), dhe_only (ffdhe2048), rsa_only, cbc_only, old_1024 (TLS 1.0-1.3, DHE with a
1024-bit group, RSA kex, @SECLEVEL=0). Each tool reaches a server through a small counting
TCP relay on loopback, so "handshakes" is the number of TCP connections the tool opened to
the server (every TLS attempt is one connection for both tools). Seconds are wall time of
the whole tool run. Needs nginx, openssl, testssl (Debian package testssl.sh), python3;
loopback only; every wait is bounded; everything lives in a temp dir removed at exit.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "compat")
MODERN = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-"
          "SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-"
          "POLY1305")
SERVERS = {
    "healthy": ("ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers %s;" % MODERN, None),
    "dhe_only": ("ssl_protocols TLSv1.2; ssl_ciphers DHE-RSA-AES128-GCM-SHA256;",
                 "ffdhe2048.pem"),
    "rsa_only": ("ssl_protocols TLSv1.2; ssl_ciphers AES128-GCM-SHA256;", None),
    "cbc_only": ("ssl_protocols TLSv1.2; ssl_ciphers ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA;",
                 None),
    "old_1024": ("ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on; "
                 "ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                 "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA:"
                 "@SECLEVEL=0;", "dh1024.pem"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class CountingRelay:
    """Accepts on a loopback port, counts connections, pipes each to the upstream port."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.count = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
            threading.Thread(target=self.pipe_pair, args=(client,), daemon=True).start()

    def pipe_pair(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
        except OSError:
            client.close()
            return
        for s in (client, server):
            s.settimeout(30)  # bounded: no connection outlives 30 s of silence

        def pump(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pump, args=(server, client), daemon=True)
        t.start()
        pump(client, server)
        t.join(31)
        client.close()
        server.close()

    def take(self):
        time.sleep(0.2)  # let the last accepts land
        with self.lock:
            n, self.count = self.count, 0
        return n


def make_pki(tmp):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=compat.test", "-addext", "subjectAltName=DNS:compat.test",
                    "-keyout", os.path.join(tmp, "site.key"), "-out",
                    os.path.join(tmp, "site.crt")], check=True, capture_output=True, timeout=60)


def start_nginx(tmp, names):
    ports = {}
    blocks = []
    for name in names:
        directives, dh = SERVERS[name]
        ports[name] = free_port()
        dh_line = ""
        if dh:
            shutil.copy(os.path.join(DATA, dh), os.path.join(tmp, dh))
            dh_line = "ssl_dhparam %s;" % os.path.join(tmp, dh)
        blocks.append("server { listen 127.0.0.1:%d ssl; server_name compat.test; "
                      "ssl_certificate %s/site.crt; ssl_certificate_key %s/site.key; %s %s "
                      "location / { return 200 \"ok\\n\"; } }"
                      % (ports[name], tmp, tmp, directives, dh_line))
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; master_process off; worker_processes 1; pid %s/nginx.pid; "
                "error_log %s/error.log; events { worker_connections 512; } http { "
                "access_log off; client_body_temp_path %s; proxy_temp_path %s; "
                "fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s; %s }\n"
                % (tmp, tmp, tmp, tmp, tmp, tmp, tmp, " ".join(blocks)))
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    for name, port in ports.items():
        if not wait_listening(port):
            proc.kill()
            sys.exit("nginx did not listen for %s: see %s/error.log" % (name, tmp))
    return proc, ports


def timed(cmd, timeout):
    start = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tlsprobe", default=os.path.join(ROOT, "build-dev", "tools", "tlsprobe"))
    ap.add_argument("--testssl", default=shutil.which("testssl") or "/usr/bin/testssl")
    ap.add_argument("--targets", default=",".join(SERVERS))
    args = ap.parse_args()
    names = [n for n in args.targets.split(",") if n]
    for n in names:
        if n not in SERVERS:
            sys.exit("unknown target %s (known: %s)" % (n, ", ".join(SERVERS)))
    for tool in (args.tlsprobe, args.testssl):
        if not os.access(tool, os.X_OK):
            sys.exit("not executable: %s" % tool)
    tmp = tempfile.mkdtemp(prefix="compat_bench.")
    nginx = None
    try:
        make_pki(tmp)
        nginx, ports = start_nginx(tmp, names)
        print("%-10s | %-32s | %-32s" % ("target", "tlsprobe --deep", "testssl -p -s -e"))
        print("%-10s | %10s %9s %11s | %10s %9s %11s" % ("", "handshakes", "seconds", "per second",
                                                          "handshakes", "seconds", "per second"))
        totals = [0, 0.0, 0, 0.0]
        for name in names:
            relay = CountingRelay(ports[name])
            target = "127.0.0.1:%d" % relay.port
            r, secs = timed([args.tlsprobe, "probe", "compat.test", "--connect", target,
                             "--ca-file", os.path.join(tmp, "site.crt"), "--no-system-trust",
                             "--deep", "--format", "json", "--timeout", "60"], 120)
            hs = relay.take()
            try:
                reported = json.loads(r.stdout)["compat"]["scan"]["handshakes"]
            except (ValueError, KeyError):
                reported = "?"
            r2, secs2 = timed([args.testssl, "--quiet", "--warnings", "off", "--color", "0",
                               "-p", "-s", "-e", target], 900)
            hs2 = relay.take()
            totals = [totals[0] + hs, totals[1] + secs, totals[2] + hs2, totals[3] + secs2]
            print("%-10s | %10d %9.2f %11.1f | %10d %9.2f %11.1f   (tlsprobe's own count of "
                  "enumeration handshakes: %s; exit %d / %d)"
                  % (name, hs, secs, hs / secs, hs2, secs2, hs2 / secs2, reported,
                     r.returncode, r2.returncode))
            relay.sock.close()
        print("%-10s | %10d %9.2f %11s | %10d %9.2f" % ("total", totals[0], totals[1], "",
                                                        totals[2], totals[3]))
    finally:
        if nginx:
            os.killpg(nginx.pid, signal.SIGTERM)
            try:
                nginx.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(nginx.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
