// Certificate Transparency through the built `tlsprobe probe`: a test CT log, its log list
// (Chrome's JSON), and servers that deliver SCTs embedded in the certificate (nginx), in the
// TLS extension (a small OpenSSL server using serverinfo) or in the stapled OCSP response
// (nginx ssl_stapling_file). The --ca-file root counts as a system root through the test
// switch --ct-private-roots-as-public.
#include "certs/pem.hpp"
#include "pki/ct_pki.hpp"
#include "pki/revocation_pki.hpp"
#include "support/loopback_server.hpp"
#include "support/nginx_server.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <set>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testpki::Issued;

namespace {

constexpr const char* kCtHost = "ct.example.test";

struct World {
  Issued root, inter, leaf;
  testpki::TestCtLog a, b;
};

World make_world() {
  const auto now = testpki::now();
  testpki::CertSpec r;
  r.common_name = "CT E2E Root";
  r.is_ca = true;
  r.not_before = now - std::chrono::days(365);
  r.not_after = now + std::chrono::days(3650);
  testpki::CertSpec i = r;
  i.common_name = "CT E2E Issuing CA";
  testpki::CertSpec l;
  l.common_name = kCtHost;
  l.dns_names = {kCtHost};
  l.not_before = now - std::chrono::days(1);
  l.not_after = now + std::chrono::days(89);
  auto root = testpki::make_root(r);
  auto inter = testpki::issue(root, i);
  auto leaf = testpki::issue(inter, l);
  return World{std::move(root), std::move(inter), std::move(leaf),
               testpki::make_ct_log("E2E Log A", "Operator One"),
               testpki::make_ct_log("E2E Log B", "Operator Two")};
}

struct CtRun {
  testsupport::ProcessResult process;
  boost::json::value doc;
  std::set<std::string> codes;
};

CtRun probe(const std::string& address, const World& w, std::vector<std::string> extra = {}) {
  testpki::TempPemFile ca(w.root.cert_pem());
  testpki::TempPemFile logs(testpki::chrome_log_list_json({&w.a, &w.b}));
  std::vector<std::string> args{"probe",
                                kCtHost,
                                "--connect",
                                address,
                                "--ca-file",
                                ca.path(),
                                "--no-system-trust",
                                "--ct-log-list",
                                logs.path(),
                                "--ct-private-roots-as-public",
                                "--timeout",
                                "9",
                                "--format",
                                "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  CtRun run;
  run.process = testsupport::run_tlsprobe(args, 30s);
  INFO("stderr: " << run.process.err);
  REQUIRE_FALSE(run.process.timed_out);
  run.doc = boost::json::parse(run.process.out);
  for (const auto& f : run.doc.at("findings").as_array())
    run.codes.insert(std::string(f.at("code").as_string()));
  return run;
}

std::unique_ptr<testsupport::NginxServer> nginx(const Issued& leaf, const Issued& inter,
                                                const std::string& staple = {}) {
  std::string http =
      "  server {\n    listen 127.0.0.1:@PORT@ ssl;\n    server_name ct.example.test;\n"
      "    ssl_certificate @DIR@/site.crt;\n    ssl_certificate_key @DIR@/site.key;\n";
  std::map<std::string, std::string> files{{"site.crt", leaf.cert_pem() + inter.cert_pem()},
                                           {"site.key", leaf.key_pem()}};
  if (!staple.empty()) {
    http += "    ssl_stapling on;\n    ssl_stapling_file @DIR@/staple.der;\n";
    files["staple.der"] = staple;
  }
  http += "    location / { return 200 \"ok\\n\"; }\n  }\n";
  return std::make_unique<testsupport::NginxServer>(http, files);
}

// A TLS 1.2 server that sends `scts` in the signed_certificate_timestamp extension
// (SSL_CTX_use_serverinfo: the extension goes to clients that ask for it).
class SctServer : public testsupport::LoopbackServer {
 public:
  SctServer(const Issued& leaf, const Issued& inter, const std::vector<std::string>& scts)
      : LoopbackServer([this](int fd) { serve(fd); }, 2, Deferred{}) {
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_set_max_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_use_certificate(ctx_.get(), leaf.cert.x509());
    SSL_CTX_use_PrivateKey(ctx_.get(), leaf.pkey());
    SSL_CTX_add1_chain_cert(ctx_.get(), inter.cert.x509());
    std::string list;
    for (const auto& s : scts) list += be16(s.size()) + s;
    const std::string body = be16(list.size()) + list;
    const std::string info = be16(18) + be16(body.size()) + body;  // type 18, length, list
    if (SSL_CTX_use_serverinfo(ctx_.get(), reinterpret_cast<const unsigned char*>(info.data()),
                               info.size()) != 1)
      throw std::runtime_error("SSL_CTX_use_serverinfo: " + certs::openssl_errors());
    start();
  }
  ~SctServer() override { stop(); }

 private:
  static std::string be16(std::size_t v) {
    return std::string{static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
  }
  void serve(int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    certs::SslPtr ssl{SSL_new(ctx_.get())};
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) SSL_shutdown(ssl.get());
    certs::openssl_errors();
  }
  certs::SslCtxPtr ctx_;
};

}  // namespace

TEST_CASE("CT e2e: an embedded-SCT certificate verifies against the test log list",
          "[revocation][ct][e2e]") {
  REQUIRE(testsupport::NginxServer::available());
  const World w = make_world();
  const auto when = testpki::now() - std::chrono::hours(20);
  const auto embedded = testpki::embed_scts(w.leaf, w.inter, {&w.a, &w.b}, when);
  const auto server = nginx(embedded, w.inter);
  auto run = probe(server->address(), w);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  CHECK(run.codes.count("ct.insufficient_scts") == 0);
  CHECK(run.codes.count("ct.sct_invalid") == 0);
  const auto& t = run.doc.at("observations").at(0).at("transparency").as_object();
  CHECK(t.at("compliant").as_bool());
  REQUIRE(t.at("scts").as_array().size() == 2);
  for (const auto& s : t.at("scts").as_array()) {
    CHECK(s.at("source").as_string() == "embedded");
    CHECK(s.at("status").as_string() == "valid");
  }
  // The same chain without SCTs is an error.
  const auto plain = nginx(w.leaf, w.inter);
  run = probe(plain->address(), w);
  CHECK(run.process.exit_code == 1);
  CHECK(run.codes.count("ct.insufficient_scts") == 1);
}

TEST_CASE("CT e2e: SCTs in the TLS extension and in the OCSP staple are collected",
          "[revocation][ct][e2e]") {
  const World w = make_world();
  const auto when = testpki::now() - std::chrono::hours(20);
  const std::vector<std::string> scts = {testpki::make_sct(w.a, w.leaf.cert, when),
                                         testpki::make_sct(w.b, w.leaf.cert, when)};
  {
    SctServer server(w.leaf, w.inter, scts);
    const auto run = probe(server.address(), w);
    INFO(run.process.out);
    CHECK(run.process.exit_code == 0);
    CHECK(run.codes.count("ct.insufficient_scts") == 0);
    const auto& t = run.doc.at("observations").at(0).at("transparency").as_object();
    REQUIRE(t.at("scts").as_array().size() == 2);
    CHECK(t.at("scts").at(0).at("source").as_string() == "tls_extension");
    CHECK(t.at("scts").at(0).at("status").as_string() == "valid");
  }
  REQUIRE(testsupport::NginxServer::available());
  testpki::OcspSpec spec;
  spec.this_update = testpki::now() - std::chrono::hours(1);
  spec.next_update = testpki::now() + std::chrono::days(3);
  spec.scts = scts;
  const auto server =
      nginx(w.leaf, w.inter, testpki::make_ocsp_response(w.inter, w.leaf.cert, spec));
  const auto run = probe(server->address(), w);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  CHECK(run.codes.count("ct.insufficient_scts") == 0);
  const auto& t = run.doc.at("observations").at(0).at("transparency").as_object();
  REQUIRE(t.at("scts").as_array().size() == 2);
  CHECK(t.at("scts").at(0).at("source").as_string() == "ocsp_staple");
}
