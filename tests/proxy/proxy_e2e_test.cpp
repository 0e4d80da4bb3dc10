// End-to-end: the forward proxy in-process on 127.0.0.1:0, driven by curl and raw sockets,
// against loopback origins (tests/support). Assertions are on statuses and log fields.
#include "proxy_fixture.hpp"
#include "support/proxy_origin.hpp"
#include "support/tls_test_server.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using testsupport::EchoServer;
using testsupport::ProxyOrigin;

namespace {

std::string connect_request(const std::string& hostport, const std::string& extra = {}) {
  return "CONNECT " + hostport + " HTTP/1.1\r\nHost: " + hostport + "\r\n" + extra + "\r\n";
}

// A TLS server for "test.example" signed by a fresh test root; its reply is an HTTP answer.
struct TlsSite {
  testpki::Hierarchy pki = testpki::make_hierarchy({"test.example"}, testpki::now());
  testpki::TempPemFile root_pem{pki.root.cert_pem()};
  std::unique_ptr<testsupport::TlsTestServer> server;
  explicit TlsSite(std::string body = "ok\n") {
    testsupport::TlsServerOptions o;
    o.default_chain = testsupport::ServedChain::of(pki);
    o.reply = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\nConnection: close\r\n\r\n" + body;
    server = std::make_unique<testsupport::TlsTestServer>(o);
  }
  std::string url() const { return "https://test.example:" + std::to_string(server->port()) + "/"; }
};

}  // namespace

TEST_CASE("curl -x fetches an http:// URL through the proxy, hop-by-hop removed, Via added") {
  ProxyOrigin origin;
  RunningProxy proxy(test_config());
  const auto url = "http://" + origin.address() + "/bytes/1000";
  const auto r =
      curl({"-x", proxy.url(), "-H", "Connection: keep-alive, X-Hop", "-H", "X-Hop: 1", url});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == testsupport::pattern_bytes(1000));
  const auto reqs = origin.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].count("x-hop") == 0);
  CHECK(reqs[0].count("proxy-connection") == 0);
  REQUIRE(reqs[0].count("via") == 1);
  CHECK(reqs[0].at("via").find(proxy.context().via_token) != std::string::npos);
  CHECK(origin.request_lines()[0] == "GET /bytes/1000 HTTP/1.1");
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tlsprobe.mode")->as_string() == "forward");
}

TEST_CASE("keep-alive: two requests on one client connection reuse one origin connection") {
  ProxyOrigin origin;
  RunningProxy proxy(test_config());
  const auto base = "http://" + origin.address();
  const auto r = curl({"-x", proxy.url(), base + "/bytes/10", base + "/bytes/20"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == testsupport::pattern_bytes(10) + testsupport::pattern_bytes(20));
  CHECK(origin.requests().size() == 2);
  CHECK(origin.connections() == 1);
}

TEST_CASE("a POST body streams through the forwarder unchanged") {
  ProxyOrigin origin;
  RunningProxy proxy(test_config());
  testpki::TempPemFile body_file(testsupport::pattern_bytes(3 * 1024 * 1024));
  const auto r =
      curl({"-x", proxy.url(), "--data-binary", "@" + body_file.path(), "-H",
            "Content-Type: application/octet-stream", "http://" + origin.address() + "/echo"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.size() == 3 * 1024 * 1024);
  CHECK(origin.requests().size() == 1);
  CHECK(sha256_hex(r.out) == sha256_hex(testsupport::pattern_bytes(3 * 1024 * 1024)));
}

TEST_CASE("curl -x https:// tunnels, and the log line has SNI, ALPN, chain and probe") {
  TlsSite site;
  auto s = test_config();
  s.resolve["test.example"] = "127.0.0.1";
  s.trust.ca_files = {site.root_pem.path()};
  RunningProxy proxy(s);
  const auto r = curl({"-x", proxy.url(), "--cacert", site.root_pem.path(), site.url()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "ok\n");
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  const auto& rec = recs[0];
  CHECK(find_path(rec, "tlsprobe.mode")->as_string() == "tunnel");
  REQUIRE(find_path(rec, "tls.client.server_name"));
  CHECK(find_path(rec, "tls.client.server_name")->as_string() == "test.example");
  CHECK(find_path(rec, "destination.port")->to_number<int>() == site.server->port());
  REQUIRE(find_path(rec, "tls.server.hash.sha256"));
  CHECK(find_path(rec, "tls.server.hash.sha256")->as_string() == site.pki.leaf.cert.sha256_hex());
  const auto codes = finding_codes(rec);
  CHECK(std::find(codes.begin(), codes.end(), "chain.untrusted_root") == codes.end());
  CHECK(std::find(codes.begin(), codes.end(), "client.no_sni") == codes.end());
  const auto* alpn = find_path(rec, "tlsprobe.client_hello.alpn");
  REQUIRE(alpn);
  CHECK(alpn->as_array().size() >= 1);
}

// Issue 17: tls.* of a tunnel record is the client's own connection (read from the server's
// ServerHello and the record headers), not the side probe's handshake.
TEST_CASE(
    "a tunnel record says the TLS version and cipher curl negotiated and that it was established") {
  TlsSite site;
  auto s = test_config();
  s.resolve["test.example"] = "127.0.0.1";
  s.trust.ca_files = {site.root_pem.path()};
  RunningProxy proxy(s);
  // TLS 1.2 with one suite, then TLS 1.3 with one suite (the server allows both, so the side
  // probe negotiates TLS 1.3 with its own choice of suite).
  auto r = curl({"-x", proxy.url(), "--cacert", site.root_pem.path(), "--tls-max", "1.2",
                 "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256", site.url()});
  REQUIRE(r.exit_code == 0);
  r = curl({"-x", proxy.url(), "--cacert", site.root_pem.path(), "--tlsv1.3", "--tls13-ciphers",
            "TLS_CHACHA20_POLY1305_SHA256", site.url()});
  REQUIRE(r.exit_code == 0);
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 2);
  std::map<std::string, const boost::json::object*> by_version;
  for (const auto& rec : recs) {
    REQUIRE(find_path(rec, "tls.version"));
    by_version[std::string(find_path(rec, "tls.version")->as_string())] = &rec;
  }
  REQUIRE(by_version.count("1.2") == 1);
  REQUIRE(by_version.count("1.3") == 1);
  const auto& r12 = *by_version["1.2"];
  CHECK(find_path(r12, "tls.version_protocol")->as_string() == "tls");
  CHECK(find_path(r12, "tls.cipher")->as_string() == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  CHECK(find_path(r12, "tls.established")->as_bool());
  // The side probe's own handshake stays under tlsprobe.probe.
  REQUIRE(find_path(r12, "tlsprobe.probe.tls_version"));
  CHECK(find_path(r12, "tlsprobe.probe.tls_version")->as_string() == "1.3");
  const auto& r13 = *by_version["1.3"];
  CHECK(find_path(r13, "tls.cipher")->as_string() == "TLS_CHACHA20_POLY1305_SHA256");
  CHECK(find_path(r13, "tls.established")->as_bool());
}

TEST_CASE("a tunnelled client that aborts its handshake is logged tls.established false") {
  TlsSite site;
  auto s = test_config();
  s.resolve["test.example"] = "127.0.0.1";
  s.trust.ca_files = {site.root_pem.path()};
  RunningProxy proxy(s);
  for (const char* max : {"1.2", "1.3"}) {
    // Without the test root curl rejects the server's certificate and sends an alert.
    const auto r = curl({"-x", proxy.url(), "--tls-max", max, site.url()});
    REQUIRE(r.exit_code == 60);  // CURLE_PEER_FAILED_VERIFICATION
  }
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 2);
  std::set<std::string> versions;
  for (const auto& rec : recs) {
    REQUIRE(find_path(rec, "tls.established"));
    CHECK_FALSE(find_path(rec, "tls.established")->as_bool());
    REQUIRE(find_path(rec, "tls.version"));  // the server did answer: its choice is known
    versions.insert(std::string(find_path(rec, "tls.version")->as_string()));
  }
  CHECK(versions == std::set<std::string>{"1.2", "1.3"});
}

TEST_CASE("a tunnelled server that refuses the ClientHello gives no tls.version, not established") {
  testpki::Hierarchy pki = testpki::make_hierarchy({"test.example"}, testpki::now());
  testpki::TempPemFile root_pem(pki.root.cert_pem());
  testsupport::TlsServerOptions o;
  o.default_chain = testsupport::ServedChain::of(pki);
  o.versions = testsupport::TlsVersions::tls12_only;
  testsupport::TlsTestServer server(o);
  auto s = test_config();
  s.resolve["test.example"] = "127.0.0.1";
  s.trust.ca_files = {root_pem.path()};
  RunningProxy proxy(s);
  // A TLS 1.3-only client: the server answers protocol_version, an alert, no ServerHello.
  const auto r = curl({"-x", proxy.url(), "--cacert", root_pem.path(), "--tlsv1.3",
                       "https://test.example:" + std::to_string(server.port()) + "/"});
  REQUIRE(r.exit_code == 35);  // CURLE_SSL_CONNECT_ERROR
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tls.version") == nullptr);
  CHECK(find_path(recs[0], "tls.cipher") == nullptr);
  REQUIRE(find_path(recs[0], "tls.established"));
  CHECK_FALSE(find_path(recs[0], "tls.established")->as_bool());
  CHECK(find_path(recs[0], "tls.client.server_name")->as_string() == "test.example");
}

TEST_CASE("many tunnels to one destination share one side probe (cache)") {
  TlsSite site;
  auto s = test_config();
  s.resolve["test.example"] = "127.0.0.1";
  s.trust.ca_files = {site.root_pem.path()};
  RunningProxy proxy(s);
  for (int i = 0; i < 4; ++i) {
    const auto r = curl({"-x", proxy.url(), "--cacert", site.root_pem.path(), site.url()});
    REQUIRE(r.exit_code == 0);
  }
  proxy.stop();
  CHECK(proxy.probes_run() == 1);
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 4);
  for (const auto& rec : recs) CHECK(find_path(rec, "tls.server.hash.sha256"));
}

TEST_CASE("tunnels answered from the side probe's cache keep their own client findings") {
  // CONNECT 127.0.0.1:port with SNI test.example: client.sni_host_mismatch in every record,
  // the first one (probe run) and those answered from the cache alike.
  TlsSite site;
  auto s = test_config();
  s.trust.ca_files = {site.root_pem.path()};
  RunningProxy proxy(s);
  for (int i = 0; i < 3; ++i) {
    const auto r = testsupport::run_process(
        {"openssl", "s_client", "-proxy", "127.0.0.1:" + std::to_string(proxy.port()), "-connect",
         "127.0.0.1:" + std::to_string(site.server->port()), "-servername", "test.example",
         "-CAfile", site.root_pem.path(), "-verify_return_error", "-ign_eof"},
        std::chrono::seconds(30), "GET / HTTP/1.1\r\nHost: test.example\r\n\r\n");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("200 OK") != std::string::npos);
    if (i > 0) continue;
    // The next two are answered from the cache, not by joining the probe still running.
    proxy::SideProbeRequest key;
    key.host = "127.0.0.1";
    key.port = site.server->port();
    key.sni = "test.example";
    for (int wait = 0; wait < 300 && !proxy.context().side_probe->cached(key); ++wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(proxy.context().side_probe->cached(key));
  }
  proxy.stop();
  CHECK(proxy.probes_run() == 1);
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 3);
  int cached = 0;
  for (const auto& rec : recs) {
    std::vector<std::string> codes;
    for (const auto& f : find_path(rec, "tlsprobe.findings")->as_array())
      codes.emplace_back(f.at("code").as_string());
    INFO(boost::json::serialize(rec));
    CHECK(std::count(codes.begin(), codes.end(), "client.sni_host_mismatch") == 1);
    if (find_path(rec, "tlsprobe.probe.status")->as_string() == "cached") ++cached;
  }
  CHECK(cached == 2);
}

TEST_CASE("the tunnel is transparent both ways for 24 MiB and passes the half-close") {
  EchoServer echo;
  RunningProxy proxy(test_config());
  const int fd = connect_to(proxy.port());
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, connect_request(echo.address())));
  REQUIRE(status_of(read_head(fd)) == 200);
  const auto data = testsupport::pattern_bytes(24 * 1024 * 1024);
  std::thread writer([&] {
    send_all(fd, data);
    ::shutdown(fd, SHUT_WR);
  });
  const auto back = read_all(fd, data.size() + 1);
  writer.join();
  ::close(fd);
  CHECK(back.size() == data.size());
  CHECK(sha256_hex(back) == sha256_hex(data));
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tlsprobe.bytes.client_to_server")->to_number<std::uint64_t>() ==
        data.size());
  CHECK(find_path(recs[0], "tlsprobe.bytes.server_to_client")->to_number<std::uint64_t>() ==
        data.size());
}

TEST_CASE("bad input gets the right status and the proxy keeps serving others") {
  ProxyOrigin origin;
  auto s = test_config();
  s.timeouts.connect = std::chrono::milliseconds(700);
  s.timeouts.header = std::chrono::milliseconds(700);
  s.limits.max_header_bytes = 8 * 1024;
  RunningProxy proxy(s);
  auto ask = [&](const std::string& raw) {
    const int fd = connect_to(proxy.port());
    REQUIRE(fd >= 0);
    send_all(fd, raw);
    const auto resp = read_all(fd, 64 * 1024);
    ::close(fd);
    return status_of(resp);
  };
  SECTION("garbage request line -> 400") { CHECK(ask("\x01\x02 garbage\r\n\r\n") == 400); }
  SECTION("origin-form request to the proxy -> 400") {
    CHECK(ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  }
  SECTION("oversized headers -> 431") {
    CHECK(ask("GET http://" + origin.address() +
              "/ HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n") == 431);
  }
  SECTION("CONNECT to a closed port -> 502") {
    CHECK(ask(connect_request("127.0.0.1:" + std::to_string(testsupport::unused_port()))) == 502);
  }
  SECTION("CONNECT to a destination that never answers the SYN -> 504 within the timeout") {
    // A listener with a full accept queue drops further SYNs: connect() hangs.
    const int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(l, 0) == 0);
    socklen_t len = sizeof a;
    ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    const auto port = ntohs(a.sin_port);
    std::vector<int> fillers;
    for (int i = 0; i < 3; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers.push_back(c);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(ask(connect_request("127.0.0.1:" + std::to_string(port))) == 504);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    for (int c : fillers) ::close(c);
    ::close(l);
  }
  SECTION("CONNECT to the proxy itself -> 403 (loop)") {
    CHECK(ask(connect_request("127.0.0.1:" + std::to_string(proxy.port()))) == 403);
  }
  SECTION("a request carrying our own Via -> 403 (loop)") {
    CHECK(ask("GET http://" + origin.address() + "/ HTTP/1.1\r\nHost: x\r\nVia: 1.1 " +
              proxy.context().via_token + "\r\n\r\n") == 403);
  }
  SECTION("slow client: no complete head in time -> 408") {
    CHECK(ask("GET http://" + origin.address() + "/ HTTP/1.1\r\nHost:") == 408);
  }
  SECTION("client gone mid-tunnel") {
    EchoServer echo;
    const int fd = connect_to(proxy.port());
    send_all(fd, connect_request(echo.address()));
    CHECK(status_of(read_head(fd)) == 200);
    send_all(fd, std::string(100000, 'x'));
    linger lg{1, 0};  // close with a RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
  }
  // Whatever happened above, a normal request still works.
  const auto r = curl({"-x", proxy.url(), "http://" + origin.address() + "/"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello\n");
}

TEST_CASE("proxy authentication: 407 without or with wrong credentials, tunnel with them") {
  EchoServer echo;
  auto s = test_config();
  s.auth = config::Auth{"user", "secret"};
  RunningProxy proxy(s);
  auto status_for = [&](const std::string& extra) {
    const int fd = connect_to(proxy.port());
    send_all(fd, connect_request(echo.address(), extra));
    const auto st = status_of(read_head(fd));
    ::close(fd);
    return st;
  };
  CHECK(status_for("") == 407);
  CHECK(status_for("Proxy-Authorization: Basic dXNlcjp3cm9uZw==\r\n") == 407);
  CHECK(status_for("Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n") == 200);
}

TEST_CASE("an idle tunnel is closed after the idle timeout") {
  EchoServer echo;
  auto s = test_config();
  s.timeouts.idle = std::chrono::milliseconds(400);
  RunningProxy proxy(s);
  const int fd = connect_to(proxy.port());
  send_all(fd, connect_request(echo.address()));
  REQUIRE(status_of(read_head(fd)) == 200);
  const auto t0 = std::chrono::steady_clock::now();
  char c;
  const auto r = ::recv(fd, &c, 1, 0);  // EOF when the proxy closes
  CHECK(r == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  ::close(fd);
}

TEST_CASE("a tunnel that is not TLS is passed through and logged as such") {
  EchoServer echo;
  RunningProxy proxy(test_config());
  const int fd = connect_to(proxy.port());
  send_all(fd, connect_request(echo.address()));
  REQUIRE(status_of(read_head(fd)) == 200);
  send_all(fd, "SSH-2.0-hello\r\n");
  ::shutdown(fd, SHUT_WR);
  CHECK(read_all(fd) == "SSH-2.0-hello\r\n");
  ::close(fd);
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tls.client.server_name") == nullptr);
  REQUIRE(find_path(recs[0], "event.reason"));
  CHECK(find_path(recs[0], "event.reason")->as_string() == "not_tls");
}

TEST_CASE("shutdown drains an open tunnel and still writes its line") {
  EchoServer echo;
  auto s = test_config();
  s.timeouts.drain = std::chrono::milliseconds(300);
  RunningProxy proxy(s);
  const int fd = connect_to(proxy.port());
  send_all(fd, connect_request(echo.address()));
  REQUIRE(status_of(read_head(fd)) == 200);
  send_all(fd, "ping");
  char buf[4];
  REQUIRE(::recv(fd, buf, 4, MSG_WAITALL) == 4);
  const auto t0 = std::chrono::steady_clock::now();
  proxy.stop();  // the tunnel stays open: closed by the proxy after the drain period
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));
  ::close(fd);
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tlsprobe.bytes.client_to_server")->to_number<int>() == 4);
}
