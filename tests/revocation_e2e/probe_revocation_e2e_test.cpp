// The built `tlsprobe probe` against a real nginx that staples from a prepared response
// file (ssl_stapling_file) or does not staple, and with --revocation against OpenSSL's own
// OCSP responder (`openssl ocsp -index … -port …`): good, revoked, unknown, a responder
// that never answers, and one that signs with the wrong key. Everything on 127.0.0.1, dates
// from the real clock (nginx and openssl ocsp use it).
#include "certs/pem.hpp"
#include "pki/ct_pki.hpp"
#include "pki/revocation_pki.hpp"
#include "proxy/probe/ct_log_list_file.hpp"
#include "support/loopback_server.hpp"
#include "support/nginx_server.hpp"
#include "support/ocsp_responder.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_test_server.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testpki::Issued;

namespace {

constexpr const char* kHost = "www.example.test";

struct Pki {
  Issued root, inter, leaf;
};

// root -> intermediate -> leaf, valid now; the leaf names `ocsp_url` and may be must-staple.
Pki make_pki(const std::string& ocsp_url, bool must_staple = false) {
  const auto now = testpki::now();
  testpki::CertSpec r;
  r.common_name = "Rev E2E Root CA";
  r.is_ca = true;
  r.not_before = now - std::chrono::days(365);
  r.not_after = now + std::chrono::days(3650);
  testpki::CertSpec i = r;
  i.common_name = "Rev E2E Issuing CA";
  testpki::CertSpec l;
  l.common_name = kHost;
  l.dns_names = {kHost};
  l.not_before = now - std::chrono::days(10);
  l.not_after = now + std::chrono::days(80);
  l.ocsp_url = ocsp_url;
  if (must_staple) l.extensions.push_back({"tlsfeature", "status_request"});
  auto root = testpki::make_root(r);
  auto inter = testpki::issue(root, i);
  auto leaf = testpki::issue(inter, l);
  return Pki{std::move(root), std::move(inter), std::move(leaf)};
}

struct Run {
  testsupport::ProcessResult process;
  boost::json::value doc;
  std::set<std::string> codes;
  const boost::json::object& main() const {
    return doc.at("observations").as_array().at(0).as_object();
  }
  const boost::json::object* finding(const std::string& code) const {
    for (const auto& f : doc.at("findings").as_array())
      if (f.at("code").as_string() == code) return &f.as_object();
    return nullptr;
  }
};

Run probe(const std::string& address, const Pki& pki, std::vector<std::string> extra = {},
          const std::string& format = "json") {
  testpki::TempPemFile ca(pki.root.cert_pem());
  std::vector<std::string> args{
      "probe",     kHost, "--connect", address, "--ca-file", ca.path(), "--no-system-trust",
      "--timeout", "9",   "--format",  format};
  args.insert(args.end(), extra.begin(), extra.end());
  Run run;
  run.process = testsupport::run_tlsprobe(args, 30s);
  INFO("stderr: " << run.process.err);
  REQUIRE_FALSE(run.process.timed_out);
  REQUIRE(run.process.signal == 0);
  if (format != "json") return run;
  run.doc = boost::json::parse(run.process.out);
  for (const auto& f : run.doc.at("findings").as_array())
    run.codes.insert(std::string(f.at("code").as_string()));
  return run;
}

// nginx serving the leaf and intermediate for kHost, stapling `staple_der` when not empty.
std::unique_ptr<testsupport::NginxServer> nginx(const Pki& pki, const std::string& staple_der) {
  std::string http =
      "  server {\n"
      "    listen 127.0.0.1:@PORT@ ssl;\n"
      "    server_name www.example.test;\n"
      "    ssl_certificate @DIR@/site.crt;\n"
      "    ssl_certificate_key @DIR@/site.key;\n";
  std::map<std::string, std::string> files{{"site.crt", pki.leaf.cert_pem() + pki.inter.cert_pem()},
                                           {"site.key", pki.leaf.key_pem()}};
  if (!staple_der.empty()) {
    http += "    ssl_stapling on;\n    ssl_stapling_file @DIR@/staple.der;\n";
    files["staple.der"] = staple_der;
  }
  http += "    location / { return 200 \"ok\\n\"; }\n  }\n";
  return std::make_unique<testsupport::NginxServer>(http, files);
}

testpki::OcspSpec fresh() {
  testpki::OcspSpec s;
  s.this_update = testpki::now() - std::chrono::hours(1);
  s.next_update = testpki::now() + std::chrono::days(3);
  return s;
}

}  // namespace

TEST_CASE("nginx stapling from a response file: the staple is recorded, good, no finding",
          "[revocation][nginx][e2e]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto pki = make_pki("http://127.0.0.1:9/ocsp");
  const auto server = nginx(pki, testpki::make_ocsp_response(pki.inter, pki.leaf.cert, fresh()));
  const auto run = probe(server->address(), pki);
  INFO(run.process.out << server->error_log());
  CHECK(run.process.exit_code == 0);
  const auto& rev = run.main().at("revocation").as_object();
  CHECK(rev.at("stapled").as_bool());
  const auto& staple = rev.at("staple").as_object();
  CHECK(staple.at("cert_status").as_string() == "good");
  CHECK(staple.at("valid").as_bool());
  CHECK(staple.at("responder").as_string() == pki.inter.cert.subject());
  CHECK(staple.at("next_update").is_string());
  for (auto code : {"cert.revoked", "ocsp.staple_invalid", "ocsp.not_stapled",
                    "ocsp.must_staple_missing", "revocation.unknown"})
    CHECK(run.codes.count(code) == 0);
  // The text report (what the README quotes).
  const auto text = probe(server->address(), pki, {}, "text");
  std::cout << "---- probe of a stapling nginx (text) ----\n" << text.process.out << "----\n";
  CHECK(text.process.out.find("revocation: OCSP staple: good") != std::string::npos);
  CHECK(text.process.out.find("transparency: ") != std::string::npos);
}

TEST_CASE("nginx stapling a revoked response: cert.revoked, exit 1", "[revocation][nginx][e2e]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto pki = make_pki("http://127.0.0.1:9/ocsp");
  auto spec = fresh();
  spec.status = testpki::OcspStatus::revoked;
  spec.revocation_time = testpki::now() - std::chrono::days(1);
  const auto server = nginx(pki, testpki::make_ocsp_response(pki.inter, pki.leaf.cert, spec));
  const auto run = probe(server->address(), pki);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 1);
  const auto* f = run.finding("cert.revoked");
  REQUIRE(f);
  CHECK(f->at("equivalents").at("chrome").as_string() == "net::ERR_CERT_REVOKED");
  CHECK(f->at("evidence").at("reason").as_string() == "keyCompromise");
  CHECK(f->at("browser_shows").as_bool());
}

TEST_CASE("nginx without stapling: ocsp.not_stapled (info); must-staple: Firefox's error",
          "[revocation][nginx][e2e]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto pki = make_pki("http://127.0.0.1:9/ocsp");
  const auto server = nginx(pki, "");
  auto run = probe(server->address(), pki);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  CHECK(run.codes.count("ocsp.not_stapled") == 1);
  CHECK_FALSE(run.main().at("revocation").at("stapled").as_bool());

  const auto must = make_pki("http://127.0.0.1:9/ocsp", true);
  const auto plain = nginx(must, "");
  run = probe(plain->address(), must);
  CHECK(run.process.exit_code == 1);
  const auto* f = run.finding("ocsp.must_staple_missing");
  REQUIRE(f);
  CHECK(f->at("equivalents").at("firefox").as_string() ==
        "MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING");
  // The same must-staple certificate with a staple: nothing.
  const auto stapling =
      nginx(must, testpki::make_ocsp_response(must.inter, must.leaf.cert, fresh()));
  run = probe(stapling->address(), must);
  CHECK(run.process.exit_code == 0);
  CHECK(run.codes.count("ocsp.must_staple_missing") == 0);
}

TEST_CASE("--revocation against openssl ocsp: good, revoked, unknown",
          "[revocation][online][e2e]") {
  const auto port = testsupport::unused_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const auto pki = make_pki(url);
  testsupport::TlsServerOptions o;
  o.default_chain = testsupport::ServedChain::of(pki.leaf, {pki.inter.cert});
  testsupport::TlsTestServer tls(o);

  SECTION("good") {
    testsupport::OcspResponder responder(port, pki.inter, pki.inter, {{pki.leaf.cert}});
    const auto run = probe(tls.address(), pki, {"--revocation"});
    INFO(run.process.out << responder.log());
    CHECK(run.process.exit_code == 0);
    const auto& online = run.main().at("revocation").at("online").as_array();
    REQUIRE(online.size() == 1);
    CHECK(online[0].at("kind").as_string() == "ocsp");
    CHECK(online[0].at("ok").as_bool());
    CHECK(online[0].at("nonce").as_string() == "echoed");
    CHECK(online[0].at("ocsp").at("cert_status").as_string() == "good");
    CHECK(run.codes.count("revocation.unknown") == 0);
    CHECK(run.codes.count("cert.revoked") == 0);
  }
  SECTION("revoked") {
    testsupport::OcspResponder responder(port, pki.inter, pki.inter, {{pki.leaf.cert, true}});
    const auto run = probe(tls.address(), pki, {"--revocation"});
    INFO(run.process.out << responder.log());
    CHECK(run.process.exit_code == 1);
    const auto* f = run.finding("cert.revoked");
    REQUIRE(f);
    CHECK(f->at("evidence").at("source").as_string() == "the OCSP responder at " + url);
    CHECK(f->at("evidence").at("reason").as_string() == "keyCompromise");
  }
  SECTION("unknown (the responder does not list the serial)") {
    testsupport::OcspResponder responder(port, pki.inter, pki.inter, {});
    const auto run = probe(tls.address(), pki, {"--revocation"});
    INFO(run.process.out << responder.log());
    CHECK(run.process.exit_code == 0);
    const auto* f = run.finding("revocation.unknown");
    REQUIRE(f);
    CHECK(f->at("severity").as_string() == "warning");
    CHECK(f->at("evidence").at("url").as_string() == url);
  }
  SECTION("signed with the wrong key") {
    // Same name as the issuer, another key: the signature does not verify.
    testpki::CertSpec spec;
    spec.common_name = "Rev E2E Issuing CA";
    spec.is_ca = true;
    const auto impostor = testpki::make_root(spec);
    testsupport::OcspResponder responder(port, pki.inter, impostor, {{pki.leaf.cert}});
    const auto run = probe(tls.address(), pki, {"--revocation"});
    INFO(run.process.out << responder.log());
    CHECK(run.process.exit_code == 0);
    const auto* f = run.finding("revocation.unknown");
    REQUIRE(f);
    const std::string what(f->at("evidence").at("what").as_string());
    CHECK(what.find("bad_signature") != std::string::npos);
    CHECK(run.codes.count("cert.revoked") == 0);
  }
}

TEST_CASE("--revocation: a responder that never answers is revocation.unknown after 5 s",
          "[revocation][online][e2e]") {
  testsupport::SilentServer silent;
  const auto pki = make_pki("http://" + silent.address() + "/");
  testsupport::TlsServerOptions o;
  o.default_chain = testsupport::ServedChain::of(pki.leaf, {pki.inter.cert});
  testsupport::TlsTestServer tls(o);
  const auto run = probe(tls.address(), pki, {"--revocation"});
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  const auto* f = run.finding("revocation.unknown");
  REQUIRE(f);
  CHECK(f->at("evidence").at("what").as_string() == "timed out after 5000 ms");
  CHECK(run.process.elapsed_ms < 9000);
  // A refused responder says so too.
  const auto closed =
      make_pki("http://127.0.0.1:" + std::to_string(testsupport::unused_port()) + "/");
  o.default_chain = testsupport::ServedChain::of(closed.leaf, {closed.inter.cert});
  testsupport::TlsTestServer tls2(o);
  const auto refused = probe(tls2.address(), closed, {"--revocation"});
  const auto* g = refused.finding("revocation.unknown");
  REQUIRE(g);
  CHECK(std::string(g->at("evidence").at("what").as_string()).find("cannot connect") == 0);
}

TEST_CASE("--crl and --ct-log-list: unreadable files are usage errors (64)", "[revocation][e2e]") {
  const auto r = testsupport::run_tlsprobe({"probe", "x.test", "--crl", "/nonexistent.crl"}, 10s);
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("--crl: /nonexistent.crl") != std::string::npos);
  const auto c =
      testsupport::run_tlsprobe({"probe", "x.test", "--ct-log-list", "/nonexistent.json"}, 10s);
  CHECK(c.exit_code == 64);
  CHECK(c.err.find("--ct-log-list") != std::string::npos);
}

TEST_CASE("CT log lists load from Chrome's JSON and OpenSSL's ct_log_list.cnf",
          "[revocation][ct]") {
  const auto a = testpki::make_ct_log("Test Log A", "Operator One");
  const auto b = testpki::make_ct_log("Test Log B", "Operator Two");
  testpki::TempPemFile json(testpki::chrome_log_list_json({&a, &b}));
  const auto from_json = proxy::load_ct_log_list(json.path());
  REQUIRE(from_json.logs().size() == 2);
  CHECK(from_json.logs()[0].operator_name == "Operator One");
  CHECK(from_json.logs()[1].operator_name == "Operator Two");
  CHECK(from_json.find(a.log_id));
  CHECK(from_json.find(b.log_id));
  testpki::TempPemFile cnf(testpki::openssl_ct_log_list_cnf({&a, &b}));
  const auto from_cnf = proxy::load_ct_log_list(cnf.path());
  REQUIRE(from_cnf.logs().size() == 2);
  CHECK(from_cnf.find(b.log_id));
  testpki::TempPemFile bad("{\"no\": 1}");
  CHECK_THROWS_WITH(proxy::load_ct_log_list(bad.path()), Catch::Contains("no \"operators\" array"));
  testpki::TempPemFile garbage("hello\n");
  CHECK_THROWS(proxy::load_ct_log_list(garbage.path()));
}

TEST_CASE("watch --once: a staple near its nextUpdate is flagged before it expires",
          "[revocation][watch][e2e]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto pki = make_pki("http://127.0.0.1:9/ocsp");
  auto spec = fresh();
  spec.this_update = testpki::now() - std::chrono::days(6);
  spec.next_update = testpki::now() + std::chrono::hours(5);
  const auto server = nginx(pki, testpki::make_ocsp_response(pki.inter, pki.leaf.cert, spec));
  const testsupport::TempDir tmp("revwatch");
  const std::string dir = tmp.str();
  const std::string log = dir + "/connections.jsonl";
  std::ofstream(dir + "/watch.toml") << "[log]\nfile = \"" << log << "\"\n[[site]]\nhost = \""
                                     << kHost << "\"\norigin = \"" << server->address() << "\"\n";
  testpki::TempPemFile ca(pki.root.cert_pem());
  const auto r = testsupport::run_tlsprobe({"watch", "--config", dir + "/watch.toml", "--ca-file",
                                            ca.path(), "--no-system-trust", "--once"},
                                           60s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);  // a warning
  std::ifstream in(log);
  std::string line;
  REQUIRE(std::getline(in, line));
  const auto rec = boost::json::parse(line).as_object();
  const auto& ours = rec.at("tlsprobe").as_object();
  CHECK(ours.at("ocsp").at("stapled").as_bool());
  CHECK(ours.at("ocsp").at("next_update").as_string() == certs::format_rfc3339(*spec.next_update));
  bool flagged = false;
  for (const auto& f : ours.at("findings").as_array())
    if (f.at("code").as_string() == "ocsp.staple_invalid" &&
        f.at("severity").as_string() == "warning" &&
        f.at("evidence").at("problem").as_string() == "expiring_soon")
      flagged = true;
  CHECK(flagged);
}
