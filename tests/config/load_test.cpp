#include "config/load.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace tlsprobe::config;
using namespace std::chrono_literals;

namespace {

// Parses text that must fail; returns the error for assertions on position and key.
ConfigError error_of(const std::string& text) {
  try {
    parse_config(text, "t.toml");
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError for:\n" << text);
  return ConfigError("", 0, 0, "", "");
}

std::string prefix(const ConfigError& e) {
  return e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ":";
}

void check_defaults_except_sites(const Config& c) {
  CHECK(c.listen == "127.0.0.1:8080");
  CHECK(c.allow.empty());
  CHECK_FALSE(c.auth);
  CHECK(c.timeouts.connect == 10s);
  CHECK(c.timeouts.handshake == 10s);
  CHECK(c.timeouts.header == 30s);
  CHECK(c.timeouts.idle == 300s);
  CHECK(c.timeouts.probe == 10s);
  CHECK(c.timeouts.drain == 5s);
  CHECK(c.limits.max_connections == 10000);
  CHECK(c.limits.max_header_bytes == 65536);
  CHECK(c.limits.max_request_line == 8192);
  CHECK(c.probe_cache_ttl == 600s);
  CHECK(c.trust.ca_files.empty());
  CHECK(c.trust.system);
  CHECK(c.warn_days == 21);
  CHECK(c.log.file == "./tlsprobe-logs/connections.jsonl");
  CHECK(c.log.max_size_mb == 100);
  CHECK(c.log.max_files == 5);
  CHECK(c.log.stderr_findings);
  CHECK_FALSE(c.log.keep_query);
  CHECK(c.intercept.pin_ttl == 600s);
  CHECK_FALSE(c.intercept.enabled);
  CHECK(c.intercept.state_dir.empty());
  CHECK(c.intercept.on_upstream_error == UpstreamErrorPolicy::explain);
  CHECK(c.intercept.no_intercept.empty());
  CHECK(c.mode == Mode::forward);
  CHECK(c.upstream.empty());
  CHECK(c.upstream_sni.empty());
  CHECK(c.tls_cert.empty());
  CHECK(c.tls_key.empty());
  CHECK(c.admin == "127.0.0.1:9464");
  CHECK(c.admin_enabled());
  CHECK(c.watch_interval == 300s);
}

}  // namespace

TEST_CASE("an empty file gives the documented defaults") {
  Config c = parse_config("", "empty.toml");
  check_defaults_except_sites(c);
  CHECK(c.sites.empty());
  CHECK(c.resolve.empty());
  Config d;
  check_defaults_except_sites(d);
}

TEST_CASE("the shipped example config loads and matches the defaults") {
  Config c = load_config(TLSPROBE_SOURCE_DIR "/config/tlsprobe.example.toml");
  check_defaults_except_sites(c);
  // The [[site]] ships commented out (its addresses do not exist: a watcher would report
  // them unreachable at once); uncommented, it is a valid site.
  CHECK(c.sites.empty());
  CHECK(c.resolve.at("www.example.com:443") == "203.0.113.10");
  CHECK(c.resolve.at("api.example.com:443") == "2001:db8::10");
  CHECK(c.resolve.at("staging.example.com") == "203.0.113.20");

  std::ifstream in(TLSPROBE_SOURCE_DIR "/config/tlsprobe.example.toml");
  std::string text, line;
  bool in_site = false;
  while (std::getline(in, line)) {
    if (line == "# [[site]]") in_site = true;
    if (in_site && line.rfind("# [resolve]", 0) == 0) in_site = false;
    const auto eq = line.find(" = ");
    if (in_site && line.rfind("# ", 0) == 0 && eq != std::string::npos &&
        line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", 2) == eq)
      line = line.substr(2);  // a commented key of the site ("# origin = ...")
    if (line == "# [[site]]") line = "[[site]]";
    if (line == "[resolve]") in_site = false;
    text += line + "\n";
  }
  const Config u = parse_config(text, "uncommented.toml");
  REQUIRE(u.sites.size() == 1);
  CHECK(u.sites[0].host == "www.example.com");
  CHECK(u.sites[0].origin == "203.0.113.10:443");
  CHECK(u.sites[0].edges.size() == 2);
  CHECK(u.sites[0].edges[1] == "[2001:db8::1]:443");
}

TEST_CASE("every key is read") {
  const char* text = R"(
listen = "0.0.0.0:3128"
allow = ["10.0.0.0/8", "::1/128"]
admin = "off"
probe_cache_ttl = 0
warn_days = 30
mode = "reverse"
upstream = "https://origin.internal:8443"
upstream_sni = "WWW.Example.com"
tls_cert = "/etc/c.pem"
tls_key = "/etc/k.pem"
watch_interval = "1h"

[auth]
user = "probe"
password = "secret"

[timeouts]
connect = "500ms"
handshake = 3
header = "2m"
idle = "1h"
probe = "7s"
drain = 1

[limits]
max_connections = 50
max_header_bytes = 1024
max_request_line = 512

[trust]
ca_files = ["/a.pem", "/b.pem"]
system = false

[log]
file = "/var/log/t.jsonl"
max_size_mb = 7
max_files = 2
stderr_findings = false
keep_query = true

[intercept]
enabled = true
state_dir = "/var/lib/tlsprobe"
on_upstream_error = "mirror"
no_intercept = ["*.Bank.example"]
pin_ttl = "90s"

[[site]]
host = "www.example.com"
origin = "203.0.113.10"
edges = ["198.51.100.1:8443"]
edge_cert = "own"

[[site]]
host = "api.example.com"
origin = "[2001:db8::5]:443"
origin_sni = "origin.example.com"

[[site]]
host = "static.example.com"

[resolve]
"Example.org:443" = "[::1]"
)";
  Config c = parse_config(text, "all.toml");
  CHECK(c.listen == "0.0.0.0:3128");
  CHECK(c.allow == std::vector<std::string>{"10.0.0.0/8", "::1/128"});
  CHECK(c.admin == "off");
  CHECK_FALSE(c.admin_enabled());
  CHECK(c.probe_cache_ttl == 0s);
  CHECK(c.warn_days == 30);
  CHECK(c.mode == Mode::reverse);
  CHECK(c.upstream == "https://origin.internal:8443");
  CHECK(c.upstream_sni == "www.example.com");
  CHECK(c.tls_cert == "/etc/c.pem");
  CHECK(c.tls_key == "/etc/k.pem");
  CHECK(c.watch_interval == 1h);
  REQUIRE(c.auth);
  CHECK(c.auth->user == "probe");
  CHECK(c.auth->password == "secret");
  CHECK(c.timeouts.connect == 500ms);
  CHECK(c.timeouts.handshake == 3s);
  CHECK(c.timeouts.header == 2min);
  CHECK(c.timeouts.idle == 1h);
  CHECK(c.timeouts.probe == 7s);
  CHECK(c.timeouts.drain == 1s);
  CHECK(c.limits.max_connections == 50);
  CHECK(c.limits.max_header_bytes == 1024);
  CHECK(c.limits.max_request_line == 512);
  CHECK(c.trust.ca_files == std::vector<std::string>{"/a.pem", "/b.pem"});
  CHECK_FALSE(c.trust.system);
  CHECK(c.log.file == "/var/log/t.jsonl");
  CHECK(c.log.max_size_mb == 7);
  CHECK(c.log.max_files == 2);
  CHECK_FALSE(c.log.stderr_findings);
  CHECK(c.intercept.enabled);
  CHECK(c.intercept.state_dir == "/var/lib/tlsprobe");
  CHECK(c.intercept.on_upstream_error == UpstreamErrorPolicy::mirror);
  CHECK(c.intercept.no_intercept == std::vector<std::string>{"*.bank.example"});
  CHECK(c.log.keep_query);
  CHECK(c.intercept.pin_ttl == 90s);
  REQUIRE(c.sites.size() == 3);
  CHECK(c.sites[0].host == "www.example.com");
  CHECK(c.sites[0].origin == "203.0.113.10:443");
  CHECK(c.sites[0].origin_sni == "www.example.com");  // defaults to host
  CHECK(c.sites[0].edges == std::vector<std::string>{"198.51.100.1:8443"});
  CHECK(c.sites[0].edge_cert == EdgeCert::own);
  CHECK(c.sites[1].origin == "[2001:db8::5]:443");
  CHECK(c.sites[1].origin_sni == "origin.example.com");
  CHECK(c.sites[1].edge_cert == EdgeCert::same);
  CHECK(c.sites[2].origin.empty());
  CHECK(c.sites[2].edges.empty());
  CHECK(c.resolve.at("example.org:443") == "::1");
}

TEST_CASE("a syntax error carries the parser's line and column") {
  auto e = error_of("listen = \"127.0.0.1:8080\"\nwarn_days = = 3\n");
  CHECK(e.line == 2);
  CHECK(e.column > 0);
  CHECK(e.key.empty());
  CHECK(std::string(e.what()).rfind(prefix(e), 0) == 0);
}

TEST_CASE("an unknown key is an error at the key, with its dotted name") {
  auto e = error_of("warn_days = 3\n[timeouts]\nconect = \"5s\"\n");
  CHECK(prefix(e) == "t.toml:3:1:");
  CHECK(e.key == "timeouts.conect");
  CHECK(std::string(e.what()).rfind("t.toml:3:1: ", 0) == 0);

  auto top = error_of("\n  listn = \"x\"\n");
  CHECK(prefix(top) == "t.toml:2:3:");
  CHECK(top.key == "listn");

  auto site = error_of("[[site]]\nhost = \"a.example\"\nedge = [\"1.2.3.4:443\"]\n");
  CHECK(prefix(site) == "t.toml:3:1:");
  CHECK(site.key == "site[0].edge");
}

TEST_CASE("a wrong type is an error at the value") {
  auto e = error_of("warn_days = \"21\"\n");
  CHECK(prefix(e) == "t.toml:1:13:");
  CHECK(e.key == "warn_days");

  auto t = error_of("timeouts = 5\n");
  CHECK(prefix(t) == "t.toml:1:12:");
  CHECK(t.key == "timeouts");

  auto b = error_of("[trust]\nsystem = \"yes\"\n");
  CHECK(prefix(b) == "t.toml:2:10:");

  auto arr = error_of("allow = \"10.0.0.0/8\"\n");
  CHECK(prefix(arr) == "t.toml:1:9:");

  auto s = error_of("[site]\nhost = \"a\"\n");  // must be [[site]]
  CHECK(s.line == 1);
  CHECK(s.key == "site");
}

TEST_CASE("bad addresses and CIDRs point at the offending value") {
  auto l = error_of("listen = \"127.0.0.1:99999\"\n");
  CHECK(prefix(l) == "t.toml:1:10:");
  CHECK(l.key == "listen");

  auto c = error_of("allow = [\"10.0.0.0/8\",\n  \"10.0.0.0/33\"]\n");
  CHECK(prefix(c) == "t.toml:2:3:");
  CHECK(c.key == "allow[1]");

  auto edge = error_of("[[site]]\nhost = \"a.example\"\norigin = \"1.2.3.4\"\nedges = [\"x:0\"]\n");
  CHECK(prefix(edge) == "t.toml:4:10:");
  CHECK(edge.key == "site[0].edges[0]");

  auto up = error_of("upstream = \"origin:443\"\n");
  CHECK(prefix(up) == "t.toml:1:12:");

  auto admin = error_of("admin = \"127.0.0.1:0\"\n");
  CHECK(admin.key == "admin");
  CHECK(admin.line == 1);

  auto rk = error_of("[resolve]\n\"example.com:x\" = \"1.2.3.4\"\n");
  CHECK(prefix(rk) == "t.toml:2:1:");
  auto rv = error_of("[resolve]\n\"example.com:443\" = \"not-ip\"\n");
  CHECK(prefix(rv) == "t.toml:2:21:");
}

TEST_CASE("a bad enum value is an error at the value") {
  auto m = error_of("mode = \"sideways\"\n");
  CHECK(prefix(m) == "t.toml:1:8:");
  CHECK(m.key == "mode");
  auto p = error_of("[intercept]\non_upstream_error = \"ignore\"\n");
  CHECK(prefix(p) == "t.toml:2:21:");
  auto ec = error_of("[[site]]\nhost = \"a.example\"\nedge_cert = \"mine\"\n");
  CHECK(prefix(ec) == "t.toml:3:13:");
  CHECK(ec.key == "site[0].edge_cert");
}

TEST_CASE("zero, negative and malformed timeouts are errors at the value") {
  auto z = error_of("[timeouts]\nconnect = 0\n");
  CHECK(prefix(z) == "t.toml:2:11:");
  CHECK(z.key == "timeouts.connect");
  auto n = error_of("[timeouts]\nidle = -5\n");
  CHECK(prefix(n) == "t.toml:2:8:");
  auto ns = error_of("[timeouts]\nprobe = \"-5s\"\n");
  CHECK(prefix(ns) == "t.toml:2:9:");
  auto zs = error_of("[timeouts]\nheader = \"0ms\"\n");
  CHECK(prefix(zs) == "t.toml:2:10:");
  auto u = error_of("[timeouts]\nheader = \"10 days\"\n");
  CHECK(u.line == 2);
  auto f = error_of("watch_interval = 1.5\n");
  CHECK(prefix(f) == "t.toml:1:18:");
  auto lim = error_of("[limits]\nmax_connections = 0\n");
  CHECK(prefix(lim) == "t.toml:2:19:");
  auto wd = error_of("warn_days = -1\n");
  CHECK(prefix(wd) == "t.toml:1:13:");
}

TEST_CASE("edges without an origin are an error at the edges") {
  auto e = error_of("[[site]]\nhost = \"a.example\"\nedges = [\"1.2.3.4:443\"]\n");
  CHECK(prefix(e) == "t.toml:3:9:");
  CHECK(e.key == "site[0].edges");
}

TEST_CASE("a duplicate site host is an error at the second host") {
  auto e = error_of(
      "[[site]]\nhost = \"a.example\"\n\n[[site]]\nhost = \"A.example\"\norigin = \"1.2.3.4\"\n");
  CHECK(prefix(e) == "t.toml:5:8:");
  CHECK(e.key == "site[1].host");
}

TEST_CASE("a site without host and an incomplete auth are errors") {
  auto s = error_of("[[site]]\norigin = \"1.2.3.4\"\n");
  CHECK(s.line == 1);
  CHECK(s.key == "site[0].host");
  auto a = error_of("[auth]\nuser = \"x\"\n");
  CHECK(a.line == 1);
  CHECK(a.key == "auth");
  auto colon = error_of("[auth]\nuser = \"a:b\"\npassword = \"p\"\n");
  CHECK(prefix(colon) == "t.toml:2:8:");
}

TEST_CASE("a missing file says cannot open with the path") {
  try {
    load_config("/nonexistent/dir/tlsprobe.toml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.line == 0);
    CHECK(std::string(e.what()).rfind("/nonexistent/dir/tlsprobe.toml: cannot open: ", 0) == 0);
  }
}

// Issue 12 item 11: "5ms" typed for "5m" made watch probe every site 200 times a second.
TEST_CASE("watch_interval below 10 s is refused at its line") {
  auto ms = error_of("warn_days = 21\nwatch_interval = \"5ms\"\n");
  CHECK(prefix(ms) == "t.toml:2:18:");
  CHECK(ms.key == "watch_interval");
  CHECK(ms.message.find("at least 10s") != std::string::npos);
  CHECK(error_of("watch_interval = 9\n").key == "watch_interval");
  CHECK(error_of("watch_interval = \"9999ms\"\n").key == "watch_interval");
  CHECK(parse_config("watch_interval = \"10s\"\n", "t.toml").watch_interval == 10s);
  CHECK(parse_config("watch_interval = \"5m\"\n", "t.toml").watch_interval == 5min);
}

TEST_CASE("allow_hosts takes host names and *.domain patterns") {
  const auto c =
      parse_config("allow_hosts = [\"Static.Example.com\", \"*.cdn.example.com\"]\n", "t.toml");
  CHECK(c.allow_hosts == std::vector<std::string>{"static.example.com", "*.cdn.example.com"});
  CHECK(error_of("allow_hosts = [\"a.example:443\"]\n").key == "allow_hosts[0]");
  CHECK(error_of("allow_hosts = [\"<img>\"]\n").key == "allow_hosts[0]");
  CHECK(error_of("allow_hosts = [\"*.\"]\n").key == "allow_hosts[0]");
}

// Issue 12 item 11: a config file with the [auth] password that others can read.
TEST_CASE("a config file holding [auth] readable by group or others is warned about") {
  char tmpl[] = "/tmp/tlsprobe-auth-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  const std::string text = "[auth]\nuser = \"u\"\npassword = \"p\"\n";
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  const std::string path = tmpl;
  const auto cfg = load_config(path);
  ::chmod(path.c_str(), 0600);
  CHECK_FALSE(secrets_exposure_warning(path, cfg));
  ::chmod(path.c_str(), 0640);
  auto group = secrets_exposure_warning(path, cfg);
  REQUIRE(group);
  CHECK(group->find("its group") != std::string::npos);
  CHECK(group->find("chmod 600 " + path) != std::string::npos);
  ::chmod(path.c_str(), 0644);
  auto others = secrets_exposure_warning(path, cfg);
  REQUIRE(others);
  CHECK(others->find("readable by others") != std::string::npos);
  // Without secrets the mode is nobody's business.
  CHECK_FALSE(secrets_exposure_warning(path, parse_config("warn_days = 3\n", "t.toml")));
  ::unlink(path.c_str());
}

TEST_CASE("[resolve] takes host-only keys like curl, and a bad key's position is the key's") {
  const Config c = parse_config(
      "[resolve]\n\"WWW.Example.com\" = \"203.0.113.10\"\n\"www.example.com:8443\" = "
      "\"[2001:db8::1]\"\n",
      "t.toml");
  CHECK(c.resolve.at("www.example.com") == "203.0.113.10");  // every port
  CHECK(c.resolve.at("www.example.com:8443") == "2001:db8::1");

  // Not in column 1, and after a good key: the error is at the bad key itself.
  auto indented =
      error_of("[resolve]\n\"a.example\" = \"1.2.3.4\"\n   \"b.example:0\" = \"1.2.3.4\"\n");
  CHECK(prefix(indented) == "t.toml:3:4:");
  CHECK(indented.key == "resolve.\"b.example:0\"");
  auto spaces = error_of("[resolve]\n  \"bad host\" = \"1.2.3.4\"\n");
  CHECK(prefix(spaces) == "t.toml:2:3:");
  // Unquoted, TOML reads a dotted name as nested tables: say so, at the key.
  auto dotted = error_of("[resolve]\n\n  www.example.com = \"1.2.3.4\"\n");
  CHECK(prefix(dotted) == "t.toml:3:3:");
  CHECK(std::string(dotted.what()).find("in quotes") != std::string::npos);
}
