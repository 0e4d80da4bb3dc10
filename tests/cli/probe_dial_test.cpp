// The flags curl and openssl users reach for, run through the binary: --resolve, -4/-6,
// --connect with a host name, a bad --connect (64), the refused port named as dialled, and
// --cert/--key against an nginx that requires a client certificate.
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "support/loopback_server.hpp"
#include "support/nginx_server.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::ServedChain;
using testsupport::serving;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

// `probe ARGS... --format json` trusting testpki::good_hierarchy()'s root; the parsed document when
// stdout holds one.
struct Run {
  testsupport::ProcessResult p;
  boost::json::value doc;
  std::string first_code() const {
    const auto& f = doc.at("findings").as_array();
    return f.empty() ? "" : std::string(f.at(0).at("code").as_string());
  }
  std::string main_address() const {
    return std::string(doc.at("observations").at(0).at("address").as_string());
  }
  std::string main_detail() const {
    const auto& o = doc.at("observations").at(0).as_object();
    return o.contains("failure_detail") ? std::string(o.at("failure_detail").as_string()) : "";
  }
};

Run probe(std::vector<std::string> args) {
  static const testpki::TempPemFile ca(certs::write_pem(testpki::good_hierarchy().root.cert));
  args.insert(args.begin(), "probe");
  for (const char* a : {"--ca-file", ca.path().c_str(), "--no-system-trust", "--at",
                        testpki::kFixedNowText, "--format", "json", "--timeout", "5"})
    args.emplace_back(a);
  Run run;
  run.p = testsupport::run_tlsprobe(args, 30s);
  INFO(run.p.out << run.p.err);
  REQUIRE_FALSE(run.p.timed_out);
  if (run.p.exit_code != 64) run.doc = boost::json::parse(run.p.out);
  return run;
}

std::size_t line_count(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("--resolve HOST:PORT:ADDR dials ADDR for that name and port only, like curl", "[cli]") {
  TlsTestServer server(serving(testpki::good_hierarchy()));
  const std::string port = std::to_string(server.port());
  const std::string target = "good.test:" + port;

  const auto ok = probe({target, "--resolve", "good.test:" + port + ":127.0.0.1"});
  INFO(ok.p.err);
  CHECK(ok.p.exit_code == 0);
  CHECK(ok.main_address() == server.address());
  CHECK(ok.doc.at("findings").as_array().empty());

  // Another name or another port is not covered: good.test then goes to DNS (.test never
  // resolves) and is unreachable.
  const auto other = probe({target, "--resolve", "else.test:" + port + ":127.0.0.1", "--resolve",
                            "good.test:1:127.0.0.1"});
  CHECK(other.p.exit_code == 2);
  CHECK(other.first_code() == "probe.unreachable");
  CHECK(other.main_detail().find("cannot resolve 'good.test'") != std::string::npos);

  // IPv6 in brackets, as curl writes it: ::1 is dialled (refused or unreachable here: only
  // 127.0.0.1 listens), and the observation names the address.
  const auto v6 = probe({target, "--resolve", "good.test:" + port + ":[::1]"});
  CHECK(v6.p.exit_code == 2);
  CHECK(v6.main_address() == "[::1]:" + port);

  // Malformed: a usage error with one line.
  for (const std::string bad : {"good.test", "good.test:443", "good.test:443:not-an-ip",
                                "good.test:0:127.0.0.1", ":443:127.0.0.1"}) {
    const auto r = testsupport::run_tlsprobe({"probe", target, "--resolve", bad}, 10s);
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find("--resolve") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("-4 and -6 keep to one address family", "[cli]") {
  TlsTestServer server(serving(testpki::good_hierarchy()));
  const std::string port = std::to_string(server.port());
  const std::string target = "good.test:" + port;
  const std::string resolve = "good.test:" + port + ":127.0.0.1";

  CHECK(probe({target, "--resolve", resolve, "-4"}).p.exit_code == 0);
  const auto v6 = probe({target, "--resolve", resolve, "-6"});
  CHECK(v6.p.exit_code == 2);
  CHECK(v6.main_detail() == "127.0.0.1 is not an IPv6 address");
  const auto v4 = probe({target, "--resolve", "good.test:" + port + ":[::1]", "-4"});
  CHECK(v4.main_detail() == "::1 is not an IPv4 address");

  // A resolved name keeps only the family asked for: localhost has 127.0.0.1 (and often ::1).
  const auto named = probe({"good.test", "--connect", "localhost:" + port, "-4"});
  CHECK(named.p.exit_code == 0);
  CHECK(named.main_address() == server.address());

  const auto both = testsupport::run_tlsprobe({"probe", target, "-4", "-6"}, 10s);
  CHECK(both.exit_code == 64);
  CHECK(line_count(both.err) == 1);
}

TEST_CASE("--connect takes a host name, a bad one is a usage error", "[cli]") {
  TlsTestServer server(serving(testpki::good_hierarchy()));
  const std::string port = std::to_string(server.port());

  // A name is resolved (it used to fail: "not an IP address and port").
  const auto named = probe({"good.test", "--connect", "localhost:" + port, "-4"});
  CHECK(named.p.exit_code == 0);

  for (const std::string bad :
       {"127.0.0.1", "localhost:", "127.0.0.1:99999", "bad host:443", "[::1:443"}) {
    const auto r = testsupport::run_tlsprobe({"probe", "good.test", "--connect", bad}, 10s);
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.rfind("tlsprobe probe: --connect: ", 0) == 0);
  }
}

TEST_CASE("a refused connection names the port that was dialled", "[cli]") {
  const std::string port = std::to_string(testsupport::unused_port());
  const auto r = testsupport::run_tlsprobe(
      {"probe", "good.test", "--connect", "127.0.0.1:" + port, "--timeout", "5"}, 30s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("127.0.0.1:" + port + " refused the connection") != std::string::npos);
  CHECK(r.out.find("nothing listens on port " + port) != std::string::npos);
  CHECK(r.out.find("port 443") == std::string::npos);
}

TEST_CASE("--cert/--key: a server that insists on a client certificate completes the handshake",
          "[cli]") {
  const auto client_root = testpki::make_root({.common_name = "Client CA"});
  const auto client =
      testpki::issue(client_root, {.common_name = "probe client", .ext_key_usage = "clientAuth"});
  testpki::TempPemFile cert(client.cert_pem());
  testpki::TempPemFile key(client.key_pem());
  TlsServerOptions o = serving(testpki::good_hierarchy());
  o.require_client_cert = true;  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT: no certificate, no TLS
  TlsTestServer server(o);

  const auto without = probe({"good.test", "--connect", server.address()});
  CHECK(without.p.exit_code != 0);
  CHECK(without.doc.at("observations").at(0).at("failure").as_string() == "client_cert_required");

  const auto with = probe(
      {"good.test", "--connect", server.address(), "--cert", cert.path(), "--key", key.path()});
  CHECK(with.p.exit_code == 0);
  CHECK(with.doc.at("observations").at(0).at("outcome").as_string() == "ok");
  CHECK(server.handshakes_completed() >= 1);
}

TEST_CASE("--cert/--key: nginx with ssl_verify_client on", "[cli][nginx]") {
  // nginx asks for the certificate during the handshake but judges it only when a request
  // arrives (HTTP 400 "No required SSL certificate was sent"), so its handshake completes
  // either way: this checks the identity is offered and accepted by a real server.
  REQUIRE(testsupport::NginxServer::available());
  const auto client_root = testpki::make_root({.common_name = "Client CA"});
  const auto client =
      testpki::issue(client_root, {.common_name = "probe client", .ext_key_usage = "clientAuth"});
  const std::string http =
      "server {\n"
      "  listen 127.0.0.1:@PORT@ ssl;\n"
      "  server_name good.test;\n"
      "  ssl_certificate @DIR@/server.pem;\n"
      "  ssl_certificate_key @DIR@/server.key;\n"
      "  ssl_client_certificate @DIR@/clientca.pem;\n"
      "  ssl_verify_client on;\n"
      "  location / { return 200 \"ok\\n\"; }\n"
      "}\n";
  testsupport::NginxServer nginx(
      http, {{"server.pem", certs::write_pem(testpki::good_hierarchy().fullchain())},
             {"server.key", testpki::good_hierarchy().leaf.key_pem()},
             {"clientca.pem", client_root.cert_pem()}});
  testpki::TempPemFile cert(client.cert_pem());
  testpki::TempPemFile key(client.key_pem());
  const auto with = probe(
      {"good.test", "--connect", nginx.address(), "--cert", cert.path(), "--key", key.path()});
  INFO(nginx.error_log());
  CHECK(with.p.exit_code == 0);
  CHECK(with.doc.at("observations").at(0).at("outcome").as_string() == "ok");
  // Without --cert the same server gets tls.client_cert_requested (the handshake completes:
  // nginx refuses at the HTTP request); with it, the request was answered, so no finding.
  const auto codes_of = [](const boost::json::value& doc) {
    std::vector<std::string> out;
    for (const auto& f : doc.at("findings").as_array())
      out.emplace_back(f.at("code").as_string().c_str());
    return out;
  };
  const auto without = probe({"good.test", "--connect", nginx.address()});
  CHECK_THAT(codes_of(without.doc),
             Catch::Matchers::VectorContains(std::string("tls.client_cert_requested")));
  const auto with_codes = codes_of(with.doc);
  CHECK(std::find(with_codes.begin(), with_codes.end(), "tls.client_cert_requested") ==
        with_codes.end());
}

TEST_CASE("--cert/--key: a broken PEM or a key of another certificate is a usage error", "[cli]") {
  const auto a = testpki::make_self_signed({.common_name = "a"});
  const auto b = testpki::make_self_signed({.common_name = "b"});
  testpki::TempPemFile cert(a.cert_pem());
  testpki::TempPemFile key(a.key_pem());
  testpki::TempPemFile other_key(b.key_pem());
  testpki::TempPemFile broken(
      "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
      "-----END CERTIFICATE-----\n");
  const auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"probe", "good.test", "--connect", "127.0.0.1:1"});
    return testsupport::run_tlsprobe(args, 10s);
  };
  const auto mismatch = run({"--cert", cert.path(), "--key", other_key.path()});
  CHECK(mismatch.exit_code == 64);
  CHECK(line_count(mismatch.err) == 1);
  CHECK(mismatch.err.find("does not belong to the certificate") != std::string::npos);

  const auto bad_cert = run({"--cert", broken.path(), "--key", key.path()});
  CHECK(bad_cert.exit_code == 64);
  CHECK(line_count(bad_cert.err) == 1);
  CHECK(bad_cert.err.find("--cert " + broken.path()) != std::string::npos);

  const auto bad_key = run({"--cert", cert.path(), "--key", broken.path()});
  CHECK(bad_key.exit_code == 64);
  CHECK(bad_key.err.find("--key " + broken.path()) != std::string::npos);

  const auto missing = run({"--cert", "/nonexistent.pem", "--key", key.path()});
  CHECK(missing.exit_code == 64);
  CHECK(missing.err.find("cannot read") != std::string::npos);

  const auto alone = run({"--cert", cert.path()});
  CHECK(alone.exit_code == 64);
  CHECK(line_count(alone.err) == 1);
}
