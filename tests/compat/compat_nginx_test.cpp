// Client compatibility against real nginx servers built with Debian 12's OpenSSL 3 (issue
// 15 items 1 and 5): DHE-only, RSA-kex-only, CBC-only, an "old" profile with a 1024-bit DH
// group, TLS 1.0/1.1 beside 1.2, DH and anonymous-only servers that no default client can
// use, and a healthy modern server on which every code is absent. Each runs the built
// `tlsprobe probe --format json` (plain, and --clients for the matrix).
//
// Not served here because Debian 12's OpenSSL 3.0 cannot: RC4, 3DES and SSLv3 (they are
// not compiled in / not in the default provider); those servers are not faked.
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "support/nginx_server.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

using namespace tlsprobe;
using namespace std::chrono_literals;

namespace {

// An RSA leaf: DHE-RSA and RSA key exchange suites need one.
struct RsaSite {
  testpki::Issued root, leaf;
};

RsaSite make_site() {
  auto root = testpki::make_root({.common_name = "tlsprobe Compat Test Root",
                                  .not_before = testpki::fixed_now() - std::chrono::days(3650),
                                  .not_after = testpki::fixed_now() + std::chrono::days(3650)});
  auto leaf = testpki::issue(root, {.common_name = "compat.test",
                                    .dns_names = {"compat.test"},
                                    .key = testpki::KeyKind::rsa_2048});
  return RsaSite{std::move(root), std::move(leaf)};
}

const RsaSite& site() {
  static const RsaSite s = make_site();
  return s;
}

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(TLSPROBE_TEST_DATA) + "/compat/" + name);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One TLS server block with the given ssl_* directives.
std::unique_ptr<testsupport::NginxServer> nginx(const std::string& ssl_directives,
                                                const std::string& dhparam_file = {}) {
  std::map<std::string, std::string> files{{"site.crt", site().leaf.cert_pem()},
                                           {"site.key", site().leaf.key_pem()}};
  std::string http =
      "  server {\n    listen 127.0.0.1:@PORT@ ssl;\n    server_name compat.test;\n"
      "    ssl_certificate @DIR@/site.crt;\n    ssl_certificate_key @DIR@/site.key;\n" +
      ssl_directives;
  if (!dhparam_file.empty()) {
    files["dh.pem"] = data_file(dhparam_file);
    http += "    ssl_dhparam @DIR@/dh.pem;\n";
  }
  http += "    location / { return 200 \"ok\\n\"; }\n  }\n";
  return std::make_unique<testsupport::NginxServer>(http, files);
}

struct Run {
  testsupport::ProcessResult process;
  boost::json::object doc;
  std::set<std::string> codes;

  const boost::json::object* finding(const std::string& code) const {
    for (const auto& f : doc.at("findings").as_array())
      if (f.at("code").as_string() == code) return &f.as_object();
    return nullptr;
  }
  std::string evidence(const std::string& code, const std::string& key) const {
    const auto* f = finding(code);
    if (!f) return {};
    const auto& ev = f->at("evidence").as_object();
    auto it = ev.find(key);
    return it == ev.end() ? std::string() : std::string(it->value().as_string());
  }
  // The matrix row of a profile (--clients).
  const boost::json::object& client(const std::string& id) const {
    for (const auto& c : doc.at("compat").at("clients").as_array())
      if (c.at("profile").as_string() == id) return c.as_object();
    FAIL("no matrix row for " << id);
    throw std::logic_error("unreachable");
  }
};

Run probe(const testsupport::NginxServer& server, std::vector<std::string> extra = {}) {
  testpki::TempPemFile ca(certs::write_pem(site().root.cert));
  std::vector<std::string> args{
      "probe",   "compat.test",       "--connect", server.address(),       "--ca-file",
      ca.path(), "--no-system-trust", "--at",      testpki::kFixedNowText, "--format",
      "json",    "--timeout",         "20"};
  args.insert(args.end(), extra.begin(), extra.end());
  Run run;
  run.process = testsupport::run_tlsprobe(args, 60s);
  INFO("stderr: " << run.process.err << "\nnginx: " << server.error_log());
  REQUIRE_FALSE(run.process.timed_out);
  REQUIRE(run.process.signal == 0);
  run.doc = boost::json::parse(run.process.out).as_object();
  for (const auto& f : run.doc.at("findings").as_array())
    run.codes.insert(std::string(f.at("code").as_string()));
  return run;
}

const std::set<std::string> kCompatCodes = {"tls.cipher_mismatch", "tls.weak_key_exchange",
                                            "tls.no_forward_secrecy", "tls.obsolete_cipher",
                                            "tls.old_protocol_enabled"};

std::set<std::string> compat_codes(const Run& run) {
  std::set<std::string> out;
  for (const auto& c : run.codes)
    if (kCompatCodes.count(c)) out.insert(c);
  return out;
}

// Mozilla's "intermediate" suites.
constexpr const char* kModernCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

TEST_CASE("compat: a healthy modern server has none of the compatibility codes",
          "[compat][nginx]") {
  auto server = nginx("    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers " +
                      std::string(kModernCiphers) + ";\n");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  CHECK(compat_codes(run).empty());
  // The cheap handshakes ran and say so in JSON.
  const auto& cheap = run.doc.at("compat").at("cheap").as_object();
  CHECK(cheap.at("browsers").at("ok").as_bool());
  CHECK_FALSE(cheap.at("tls10_11_only").at("ok").as_bool());

  const auto deep = probe(*server, {"--clients"});
  INFO(deep.process.out);
  CHECK(deep.process.exit_code == 0);
  CHECK(compat_codes(deep).empty());
  for (const auto& c : deep.doc.at("compat").at("clients").as_array()) {
    INFO(c);
    CHECK(c.at("connects").as_bool());
  }
  CHECK(deep.client("chrome").at("tls_version").as_string() == "1.3");
  CHECK(deep.client("android7").at("tls_version").as_string() == "1.2");
}

TEST_CASE("compat: a DHE-only server is an error naming Chrome, Firefox and Safari",
          "[compat][nginx]") {
  auto server = nginx("    ssl_protocols TLSv1.2;\n    ssl_ciphers DHE-RSA-AES128-GCM-SHA256;\n",
                      "ffdhe2048.pem");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.codes.count("tls.cipher_mismatch"));
  const auto browsers = run.evidence("tls.cipher_mismatch", "browsers");
  CHECK(browsers.find("Chrome") != std::string::npos);
  CHECK(browsers.find("Firefox") != std::string::npos);
  CHECK(browsers.find("Safari") != std::string::npos);
  CHECK(run.finding("tls.cipher_mismatch")->at("browser_shows").as_bool());
  // A standard 2048-bit group: not a weak key exchange.
  CHECK_FALSE(run.codes.count("tls.weak_key_exchange"));

  const auto deep = probe(*server, {"--clients"});
  INFO(deep.process.out);
  CHECK_FALSE(deep.client("chrome").at("connects").as_bool());
  CHECK_FALSE(deep.client("android7").at("connects").as_bool());
  for (const char* id : {"curl", "java17", "python3"}) {
    INFO(id);
    CHECK(deep.client(id).at("connects").as_bool());
    CHECK(deep.client(id).at("suite").as_string() == "DHE-RSA-AES128-GCM-SHA256");
  }
  const auto& scan = deep.doc.at("compat").at("scan").as_object();
  CHECK(scan.at("dh_bits").as_int64() == 2048);
  CHECK(scan.at("dh_group").as_string() == "ffdhe2048");
  CHECK(scan.at("handshakes").as_int64() <= 200);
}

TEST_CASE("compat: an RSA-key-exchange-only server: Chrome cannot connect, no forward secrecy",
          "[compat][nginx]") {
  auto server = nginx("    ssl_protocols TLSv1.2;\n    ssl_ciphers AES128-GCM-SHA256;\n");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.codes.count("tls.cipher_mismatch"));
  const auto browsers = run.evidence("tls.cipher_mismatch", "browsers");
  CHECK(browsers.find("Chrome") != std::string::npos);
  CHECK(browsers.find("Firefox") == std::string::npos);  // Firefox still offers TLS_RSA_*
  CHECK(run.codes.count("tls.no_forward_secrecy"));
}

TEST_CASE("compat: a CBC-only server is a warning (obsolete connection settings)",
          "[compat][nginx]") {
  auto server = nginx(
      "    ssl_protocols TLSv1.2;\n    ssl_ciphers ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA;\n");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);  // warnings only
  CHECK(compat_codes(run) == std::set<std::string>{"tls.obsolete_cipher"});
  CHECK(run.finding("tls.obsolete_cipher")->at("severity").as_string() == "warning");
}

TEST_CASE("compat: an old profile with a 1024-bit DH group and TLS 1.0/1.1 is warned about",
          "[compat][nginx]") {
  // Mozilla's "old" profile shape: ECDHE preferred, DHE and RSA kept for old clients,
  // TLS 1.0-1.3; Debian's OpenSSL needs @SECLEVEL=0 to serve TLS 1.0/1.1 and 1024-bit DH.
  auto server = nginx(
      "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n"
      "    ssl_prefer_server_ciphers on;\n"
      "    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
      "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA:"
      "@SECLEVEL=0;\n",
      "dh1024.pem");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.codes.count("tls.weak_key_exchange"));
  CHECK(run.evidence("tls.weak_key_exchange", "dh_bits") == "1024");
  CHECK(run.codes.count("tls.old_protocol_enabled"));
  CHECK_FALSE(run.codes.count("tls.cipher_mismatch"));

  // The enumeration also sees the RSA key exchange suite the server still accepts.
  const auto deep = probe(*server, {"--deep"});
  INFO(deep.process.out);
  CHECK(deep.codes.count("tls.no_forward_secrecy"));
  CHECK(deep.evidence("tls.old_protocol_enabled", "old_versions") == "1.0 and 1.1");
  CHECK(deep.client("android7").at("connects").as_bool());
  CHECK(deep.client("java17").at("connects").as_bool());
}

TEST_CASE("compat: TLS 1.0/1.1 enabled beside 1.2 is tls.old_protocol_enabled", "[compat][nginx]") {
  auto server = nginx(
      "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n"
      "    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:@SECLEVEL=0;\n");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 0);
  CHECK(compat_codes(run) == std::set<std::string>{"tls.old_protocol_enabled"});
  CHECK(run.evidence("tls.old_protocol_enabled", "best_version") == "1.2");
}

TEST_CASE("compat: a custom 2048-bit DH group is a weak key exchange", "[compat][nginx]") {
  auto server = nginx(
      "    ssl_protocols TLSv1.2 TLSv1.3;\n"
      "    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256;\n",
      "dh2048-custom.pem");
  const auto run = probe(*server);
  INFO(run.process.out);
  REQUIRE(run.codes.count("tls.weak_key_exchange"));
  CHECK(run.evidence("tls.weak_key_exchange", "standard_group") == "false");
}

TEST_CASE("compat: a DHE-only server with a 1024-bit group fails in words, not OpenSSL text",
          "[compat][nginx]") {
  auto server =
      nginx("    ssl_protocols TLSv1.2;\n    ssl_ciphers DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0;\n",
            "dh1024.pem");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 2);
  const auto* f = run.finding("tls.handshake_failed");
  REQUIRE(f);
  const std::string message(f->at("message").as_string());
  CHECK(message.find("1024-bit Diffie-Hellman") != std::string::npos);
  CHECK(message.find("error:0A") == std::string::npos);
  CHECK(run.evidence("tls.handshake_failed", "accepted_kex_bits") == "1024");
}

TEST_CASE("compat: an anonymous-suites-only server fails in words", "[compat][nginx]") {
  auto server =
      nginx("    ssl_protocols TLSv1.2;\n    ssl_ciphers ADH-AES128-GCM-SHA256:@SECLEVEL=0;\n",
            "ffdhe2048.pem");
  const auto run = probe(*server);
  INFO(run.process.out);
  CHECK(run.process.exit_code == 2);
  const auto* f = run.finding("tls.handshake_failed");
  REQUIRE(f);
  CHECK(std::string(f->at("message").as_string()).find("anonymous") != std::string::npos);
  CHECK(run.evidence("tls.handshake_failed", "accepted_cipher") == "ADH-AES128-GCM-SHA256");
}

TEST_CASE("compat: --clients prints the matrix in text", "[compat][nginx]") {
  auto server = nginx("    ssl_protocols TLSv1.2;\n    ssl_ciphers AES128-GCM-SHA256;\n");
  testpki::TempPemFile ca(certs::write_pem(site().root.cert));
  const auto r = testsupport::run_tlsprobe(
      {"probe", "compat.test", "--connect", server->address(), "--ca-file", ca.path(),
       "--no-system-trust", "--at", testpki::kFixedNowText, "--clients"},
      60s);
  INFO(r.out << r.err);
  CHECK(r.out.find("clients (") != std::string::npos);
  CHECK(r.out.find("Chrome 131+ / Edge") != std::string::npos);
  CHECK(r.out.find("TLS_RSA_WITH_AES_128_GCM_SHA256") != std::string::npos);
  CHECK(r.out.find("NO   no cipher suite in common at TLS 1.2") != std::string::npos);
}
