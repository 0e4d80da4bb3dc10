// The built `tlsprobe probe` binary against loopback TLS servers (and a real nginx): JSON
// findings and exit status per scenario, and one clear stderr line for bad input.
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "support/loopback_server.hpp"
#include "support/nginx_server.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>

using namespace tlsprobe;
using namespace std::chrono_literals;
using testsupport::ServedChain;
using testsupport::serving;
using testsupport::TlsServerOptions;
using testsupport::TlsTestServer;

namespace {

struct Run {
  testsupport::ProcessResult process;
  boost::json::value doc;
  std::set<std::string> codes;
};

// Probes `target` via --connect `address`, trusting only `root`.
Run probe(const std::string& target, const std::string& address, const certs::Certificate& root,
          std::vector<std::string> extra = {}) {
  testpki::TempPemFile ca(certs::write_pem(root));
  std::vector<std::string> args{"probe",
                                target,
                                "--connect",
                                address,
                                "--ca-file",
                                ca.path(),
                                "--no-system-trust",
                                "--at",
                                testpki::kFixedNowText,
                                "--format",
                                "json"};
  if (std::find(extra.begin(), extra.end(), "--timeout") == extra.end())
    extra.insert(extra.end(), {"--timeout", "5"});
  args.insert(args.end(), extra.begin(), extra.end());
  Run run;
  run.process = testsupport::run_tlsprobe(args, 20s);
  INFO("stderr: " << run.process.err);
  REQUIRE_FALSE(run.process.timed_out);
  REQUIRE(run.process.signal == 0);
  run.doc = boost::json::parse(run.process.out);
  for (const auto& f : run.doc.at("findings").as_array())
    run.codes.insert(std::string(f.at("code").as_string()));
  return run;
}

Run probe_server(const TlsServerOptions& options, const std::string& target = "good.test",
                 const certs::Certificate& root = testpki::good_hierarchy().root.cert) {
  TlsTestServer server(options);
  return probe(target, server.address(), root);
}

const boost::json::object* finding(const Run& run, const std::string& code) {
  for (const auto& f : run.doc.at("findings").as_array())
    if (f.at("code").as_string() == code) return &f.as_object();
  return nullptr;
}

}  // namespace

TEST_CASE("healthy chain: exit 0, no findings, chain and verify in JSON", "[e2e]") {
  const auto run = probe_server(serving(ServedChain::of(testpki::good_hierarchy())));
  CHECK(run.process.exit_code == 0);
  CHECK(run.codes.empty());
  const auto& obs = run.doc.at("observations").as_array();
  REQUIRE(obs.size() >= 1);
  const auto& direct = obs[0].as_object();
  CHECK(direct.at("role").as_string() == "direct");
  CHECK(direct.at("sni").as_string() == "good.test");
  CHECK(direct.at("tls_version").as_string() == "1.3");
  CHECK(direct.at("verify").at("ok").as_bool());
  const auto& chain = direct.at("chain").as_array();
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].at("sha256").as_string() == testpki::good_hierarchy().leaf.cert.sha256_hex());
  CHECK(chain[0].at("subject").as_string() == testpki::good_hierarchy().leaf.cert.subject());
  CHECK(chain[0].at("serial").as_string() == testpki::good_hierarchy().leaf.cert.serial_hex());
  for (const char* key :
       {"issuer", "names", "not_before", "not_after", "key", "signature_algorithm"})
    CHECK(chain[0].as_object().contains(key));
  CHECK(run.doc.at("target").as_string() == "good.test:443");
}

TEST_CASE("broken chains: the finding codes and exit 1", "[e2e]") {
  SECTION("self-signed leaf") {
    testpki::CertSpec spec;
    spec.common_name = "good.test";
    spec.dns_names = {"good.test"};
    const auto self = testpki::make_self_signed(spec);
    const auto run = probe_server(serving(ServedChain::of(self)));
    CHECK(run.codes.count("cert.self_signed"));
    CHECK(run.process.exit_code == 1);
  }
  SECTION("untrusted root") {
    const auto other = testpki::make_hierarchy({"x.test"});
    const auto run = probe_server(
        serving(ServedChain::of(
            testpki::good_hierarchy().leaf,
            {testpki::good_hierarchy().intermediate.cert, testpki::good_hierarchy().root.cert})),
        "good.test", other.root.cert);
    CHECK(run.codes.count("chain.untrusted_root"));
    CHECK(run.process.exit_code == 1);
  }
  SECTION("wrong order") {
    testpki::CertSpec i2spec;
    i2spec.common_name = "Second Intermediate";
    i2spec.is_ca = true;
    const auto i2 = testpki::issue(testpki::good_hierarchy().intermediate, i2spec);
    testpki::CertSpec leafspec;
    leafspec.common_name = "good.test";
    leafspec.dns_names = {"good.test"};
    const auto leaf = testpki::issue(i2, leafspec);
    const auto run = probe_server(
        serving(ServedChain::of(leaf, {testpki::good_hierarchy().intermediate.cert, i2.cert})));
    CHECK(run.codes.count("chain.wrong_order"));
  }
  SECTION("expired leaf") {
    testpki::CertSpec spec;
    spec.common_name = "good.test";
    spec.dns_names = {"good.test"};
    spec.not_before = testpki::fixed_now() - std::chrono::days(400);
    spec.not_after = testpki::fixed_now() - std::chrono::days(3);
    const auto leaf = testpki::issue(testpki::good_hierarchy().intermediate, spec);
    const auto run =
        probe_server(serving(ServedChain::of(leaf, {testpki::good_hierarchy().intermediate.cert})));
    CHECK(run.codes.count("cert.expired"));
    CHECK(run.process.exit_code == 1);
  }
  SECTION("name mismatch with a www/apex hint") {
    const auto www = testpki::make_hierarchy({"www.good.test"});
    const auto other = testpki::make_hierarchy({"default.test"});
    TlsServerOptions o = serving(ServedChain::of(other));
    o.by_sni["good.test"] = ServedChain::of(www.leaf, {www.intermediate.cert});
    const auto run = probe_server(o, "good.test", www.root.cert);
    REQUIRE(run.codes.count("name.mismatch"));
    CHECK_FALSE(run.codes.count("sni.default_cert"));
    CHECK(finding(run, "name.mismatch")->at("evidence").at("hint").as_string() == "www_vs_apex");
    CHECK(run.process.exit_code == 1);
  }
  SECTION("default certificate for an unconfigured name") {
    const auto other = testpki::make_hierarchy({"default.test"});
    TlsServerOptions o = serving(ServedChain::of(other));
    o.by_sni["good.test"] = ServedChain::of(testpki::good_hierarchy());
    const auto run = probe_server(o, "other.test", other.root.cert);
    CHECK(run.codes.count("sni.default_cert"));
    CHECK_FALSE(run.codes.count("name.mismatch"));
    CHECK(run.process.exit_code == 1);
  }
  SECTION("weak key") {
    testpki::CertSpec spec;
    spec.common_name = "good.test";
    spec.dns_names = {"good.test"};
    spec.key = testpki::KeyKind::rsa_1024;
    const auto leaf = testpki::issue(testpki::good_hierarchy().intermediate, spec);
    const auto run =
        probe_server(serving(ServedChain::of(leaf, {testpki::good_hierarchy().intermediate.cert})));
    CHECK(run.codes.count("key.weak"));
  }
  SECTION("SHA-1 signature") {
    testpki::CertSpec spec;
    spec.common_name = "good.test";
    spec.dns_names = {"good.test"};
    spec.hash = testpki::SigHash::sha1;
    const auto leaf = testpki::issue(testpki::good_hierarchy().intermediate, spec);
    const auto run =
        probe_server(serving(ServedChain::of(leaf, {testpki::good_hierarchy().intermediate.cert})));
    CHECK(run.codes.count("sig.weak"));
  }
  SECTION("legacy protocol only") {
    auto o = serving(ServedChain::of(testpki::good_hierarchy()));
    o.versions = testsupport::TlsVersions::legacy_only;
    const auto run = probe_server(o);
    CHECK(run.codes.count("tls.protocol_old"));
    CHECK(run.doc.at("observations").at(0).at("tls_version").as_string() == "1.1");
    CHECK(run.process.exit_code == 1);
  }
}

// A leaf sent without its intermediate, root trusted: chain.incomplete (issue 11; it used to
// read chain.untrusted_root when the leaf had no AIA).
TEST_CASE("incomplete chain: intermediate not sent", "[e2e]") {
  const auto run = probe_server(serving(ServedChain::of(testpki::good_hierarchy().leaf)));
  INFO(run.process.out);
  CHECK(run.codes.count("chain.incomplete"));
  CHECK(run.process.exit_code == 1);
}

TEST_CASE("sni.required is info: exit 0", "[e2e]") {
  auto o = serving(ServedChain::of(testpki::good_hierarchy()));
  o.require_sni = true;
  const auto run = probe_server(o);
  CHECK(run.codes == std::set<std::string>{"sni.required"});
  CHECK(run.process.exit_code == 0);
}

TEST_CASE("no handshake: exit 2 with the finding in the output", "[e2e]") {
  SECTION("client certificate required") {
    // The server sent its chain before refusing us: that chain is judged, and the exit
    // status follows the findings (issue 11 item 9; probe_aia_e2e_test.cpp).
    auto o = serving(ServedChain::of(testpki::good_hierarchy()));
    o.require_client_cert = true;
    const auto run = probe_server(o);
    CHECK(run.codes.count("tls.handshake_failed"));
    CHECK(run.process.exit_code == 1);
  }
  SECTION("refused") {
    const auto run = probe("good.test", "127.0.0.1:" + std::to_string(testsupport::unused_port()),
                           testpki::good_hierarchy().root.cert);
    CHECK(run.codes.count("probe.unreachable"));
    CHECK(run.process.exit_code == 2);
  }
  SECTION("plain HTTP") {
    testsupport::PlainHttpServer server;
    const auto run = probe("good.test", server.address(), testpki::good_hierarchy().root.cert);
    CHECK(run.codes.count("tls.handshake_failed"));
    CHECK(run.process.exit_code == 2);
  }
  SECTION("closed mid-handshake") {
    testsupport::CloseMidHandshakeServer server;
    const auto run = probe("good.test", server.address(), testpki::good_hierarchy().root.cert);
    CHECK(run.codes.count("tls.handshake_failed"));
    CHECK(run.process.exit_code == 2);
  }
  SECTION("timeout is bounded by --timeout") {
    testsupport::SilentServer server;
    const auto run = probe("good.test", server.address(), testpki::good_hierarchy().root.cert,
                           {"--timeout", "0.5"});
    CHECK(run.process.exit_code == 2);
    CHECK(run.codes.size() == 1);
    CHECK(run.process.elapsed_ms < 5000);
  }
}

TEST_CASE("bad input: one stderr line, exit 64, no network", "[e2e]") {
  testpki::TempPemFile garbage("this is not PEM\n");
  const std::vector<std::vector<std::string>> cases = {
      {"probe", "good.test", "--ca-file", garbage.path()},
      {"probe", "good.test", "--ca-file", "/nonexistent/ca.pem"},
      {"probe", "good.test", "--at", "yesterday"},
      {"probe", "good.test", "--connect", "127.0.0.1:99999"},
      {"probe", "good.test:0"},
      {"probe", "good.test", "--no-such-flag"},
      {"probe", "good.test", "--sni", "a.test", "--no-sni"},
      {"probe", "good.test", "--format", "xml"},
      {"probe"},
      {"probe", "--targets", "/nonexistent/targets.txt"},
  };
  for (const auto& args : cases) {
    const auto r = testsupport::run_tlsprobe(args, 10s);
    INFO(args.back() << " -> " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  const auto help = testsupport::run_tlsprobe({"probe", "--help"}, 10s);
  CHECK(help.exit_code == 0);
  CHECK_FALSE(help.out.empty());
}

TEST_CASE("--targets with several targets: a JSON array, text output too", "[e2e]") {
  TlsServerOptions o = serving(ServedChain::of(testpki::good_hierarchy()));
  TlsTestServer server(o);
  const auto self = testpki::make_self_signed([] {
    testpki::CertSpec s;
    s.common_name = "self.test";
    s.dns_names = {"self.test"};
    return s;
  }());
  TlsTestServer server2(serving(ServedChain::of(self)));
  testpki::TempPemFile ca(certs::write_pem(testpki::good_hierarchy().root.cert));
  testpki::TempPemFile list("# targets\ngood.test\n\nhttps://good.test:443/\n");
  const auto r =
      testsupport::run_tlsprobe({"probe", "--targets", list.path(), "--connect", server.address(),
                                 "--ca-file", ca.path(), "--no-system-trust", "--at",
                                 testpki::kFixedNowText, "--format", "json", "--concurrency", "2"},
                                20s);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  const auto doc = boost::json::parse(r.out);
  REQUIRE(doc.is_array());
  CHECK(doc.as_array().size() == 2);

  const auto text =
      testsupport::run_tlsprobe({"probe", "self.test", "--connect", server2.address(), "--ca-file",
                                 ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText},
                                20s);
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("cert.self_signed") != std::string::npos);
  CHECK(text.out.find("\x1b[") == std::string::npos);  // not a terminal: no colour
}

TEST_CASE("nginx: default_server certificate vs a named virtual host", "[e2e][nginx]") {
  REQUIRE(testsupport::NginxServer::available());
  const auto a = testpki::make_hierarchy({"default.test"});
  const auto b = testpki::good_hierarchy();
  testsupport::NginxTlsSite def;
  def.default_server = true;
  def.cert_pem = certs::write_pem(certs::Chain{a.leaf.cert, a.intermediate.cert});
  def.key_pem = a.leaf.key_pem();
  testsupport::NginxTlsSite named;
  named.server_name = "good.test";
  named.cert_pem = certs::write_pem(b.fullchain());
  named.key_pem = b.leaf.key_pem();
  testsupport::NginxServer nginx({def, named});

  testpki::TempPemFile roots(certs::write_pem(certs::Chain{a.root.cert, b.root.cert}));
  auto run = [&](const std::string& target) {
    const auto r = testsupport::run_tlsprobe(
        {"probe", target, "--connect", nginx.address(), "--ca-file", roots.path(),
         "--no-system-trust", "--at", testpki::kFixedNowText, "--format", "json"},
        20s);
    INFO(r.err << nginx.error_log());
    REQUIRE_FALSE(r.timed_out);
    std::set<std::string> codes;
    const auto doc = boost::json::parse(r.out);  // kept: the loop below borrows from it
    for (const auto& f : doc.at("findings").as_array())
      codes.insert(std::string(f.at("code").as_string()));
    return std::make_pair(r.exit_code, codes);
  };
  const auto [other_status, other_codes] = run("other.test");
  CHECK(other_codes.count("sni.default_cert"));
  CHECK(other_status == 1);
  const auto [good_status, good_codes] = run("good.test");
  CHECK(good_codes.empty());
  CHECK(good_status == 0);
}

TEST_CASE("an expiry shows the same number of days in the chain and in the message", "[e2e]") {
  // Expired 1067.5 days before --at: rounding toward zero everywhere gives 1067 (the chain
  // said 1068, the message 1067).
  testpki::CertSpec spec;
  spec.common_name = "good.test";
  spec.dns_names = {"good.test"};
  spec.not_before = testpki::fixed_now() - std::chrono::days(2000);
  spec.not_after = testpki::fixed_now() - std::chrono::days(1067) - std::chrono::hours(12);
  const auto leaf = testpki::issue(testpki::good_hierarchy().intermediate, spec);
  TlsTestServer server(
      serving(ServedChain::of(leaf, {testpki::good_hierarchy().intermediate.cert})));
  testpki::TempPemFile ca(certs::write_pem(testpki::good_hierarchy().root.cert));
  const auto r = testsupport::run_tlsprobe(
      {"probe", "good.test", "--connect", server.address(), "--ca-file", ca.path(),
       "--no-system-trust", "--at", testpki::kFixedNowText, "--no-aia", "--timeout", "5"},
      20s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("(1067 days ago)") != std::string::npos);
  CHECK(r.out.find("1067 days before") != std::string::npos);
  CHECK(r.out.find("1068") == std::string::npos);
}
