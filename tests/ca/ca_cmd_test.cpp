// `tlsprobe ca init|export|path` through the built binary.
#include "ca/ca_test_util.hpp"
#include "certs/authority.hpp"
#include "certs/pem.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe;
using catest::TempDir;
using certs::Authority;
using testsupport::run_tlsprobe;

namespace {

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("ca init creates the CA, a second init keeps it", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const std::string dir = (tmp.path / "state").string();
  const auto first = run_tlsprobe({"ca", "init", "--state-dir", dir});
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.rfind("created the tlsprobe CA at " + dir + "/ca.pem\n", 0) == 0);
  const certs::Certificate ca = Authority::read_certificate(dir);
  CHECK(first.out.find(certs::colon_fingerprint(ca)) != std::string::npos);
  CHECK(catest::mode_of(Authority::key_path(dir)) == 0600);

  const auto second = run_tlsprobe({"ca", "init", "--state-dir", dir});
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.rfind("kept the existing CA at " + dir + "/ca.pem\n", 0) == 0);
  CHECK(second.out.find(certs::colon_fingerprint(ca)) != std::string::npos);
  CHECK(Authority::read_certificate(dir) == ca);
}

TEST_CASE("ca export writes the CA as PEM or DER", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const std::string dir = tmp.path.string();
  REQUIRE(run_tlsprobe({"ca", "init", "--state-dir", dir}).exit_code == 0);
  const certs::Certificate ca = Authority::read_certificate(dir);

  const auto pem = run_tlsprobe({"ca", "export", "--state-dir", dir});
  REQUIRE(pem.exit_code == 0);
  CHECK(pem.err.empty());
  const certs::Chain parsed = certs::read_pem_chain(pem.out);
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0] == ca);
  CHECK(pem.out.find("PRIVATE") == std::string::npos);

  const auto der = run_tlsprobe({"ca", "export", "--format", "der", "--state-dir", dir});
  REQUIRE(der.exit_code == 0);
  const auto from_der = certs::Certificate::from_der(der.out);
  REQUIRE(from_der);
  CHECK(*from_der == ca);
  CHECK(der.out == ca.der());

  // Options before the action work too.
  const auto before = run_tlsprobe({"ca", "--state-dir", dir, "--format=pem", "export"});
  CHECK(before.exit_code == 0);
  CHECK(before.out == pem.out);
}

TEST_CASE("ca path prints where the CA certificate is", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const std::string dir = tmp.path.string();
  const auto missing = run_tlsprobe({"ca", "path", "--state-dir", dir});
  CHECK(missing.exit_code == 64);
  CHECK(missing.out == dir + "/ca.pem\n");
  CHECK(missing.err.find("tlsprobe ca init") != std::string::npos);
  REQUIRE(run_tlsprobe({"ca", "init", "--state-dir", dir}).exit_code == 0);
  const auto present = run_tlsprobe({"ca", "path", "--state-dir", dir});
  CHECK(present.exit_code == 0);
  CHECK(present.out == dir + "/ca.pem\n");
}

TEST_CASE("ca export without a CA asks for ca init and creates nothing", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const auto r = run_tlsprobe({"ca", "export", "--state-dir", tmp.path.string()});
  CHECK(r.exit_code == 64);
  CHECK(r.out.empty());
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("no CA yet") != std::string::npos);
  // The hint works as printed: it names the state directory that was asked about.
  CHECK(r.err.find("`tlsprobe ca init --state-dir '" + tmp.path.string() + "'`") !=
        std::string::npos);
  CHECK_FALSE(catest::fs::exists(Authority::key_path(tmp.path)));
}

TEST_CASE("ca init's trust hint names a non-default state directory", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const auto r = run_tlsprobe({"ca", "init", "--state-dir", tmp.path.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("`tlsprobe ca export --state-dir '" + tmp.path.string() +
                   "' > tlsprobe-ca.pem`") != std::string::npos);
}

TEST_CASE("ca usage errors exit 64 with one line", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const std::string dir = tmp.path.string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"ca"},
           {"ca", "rotate", "--state-dir", dir},
           {"ca", "export", "--format", "xml", "--state-dir", dir},
           {"ca", "init", "--format", "der", "--state-dir", dir},
           {"ca", "init", "--bogus"},
       }) {
    const auto r = run_tlsprobe(args);
    CAPTURE(args, r.err);
    CHECK(r.exit_code == 64);
    CHECK(lines(r.err) == 1);
    CHECK(r.out.empty());
  }
  CHECK_FALSE(catest::fs::exists(Authority::key_path(dir)));
  const auto help = run_tlsprobe({"ca", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--state-dir") != std::string::npos);
}

TEST_CASE("ca init refuses a group-readable key with one line naming it", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const std::string dir = tmp.path.string();
  REQUIRE(run_tlsprobe({"ca", "init", "--state-dir", dir}).exit_code == 0);
  ::chmod(Authority::key_path(dir).c_str(), 0644);
  const auto r = run_tlsprobe({"ca", "init", "--state-dir", dir});
  CHECK(r.exit_code == 64);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find(Authority::key_path(dir).string()) != std::string::npos);
  CHECK(r.err.find("chmod 600") != std::string::npos);
}

TEST_CASE("without --state-dir the CA lives under XDG_DATA_HOME", "[ca_cmd]") {
  TempDir tmp{"ca"};
  const std::string xdg = tmp.path.string();
  // env(1) sets XDG_DATA_HOME for the child alone.
  const auto r = testsupport::run_process(
      {"env", "XDG_DATA_HOME=" + xdg, testsupport::tlsprobe_binary(), "ca", "init"});
  REQUIRE(r.exit_code == 0);
  CHECK(catest::fs::exists(tmp.path / "tlsprobe" / "ca.pem"));
  CHECK(catest::mode_of(tmp.path / "tlsprobe") == 0700);
  const auto p = testsupport::run_process(
      {"env", "XDG_DATA_HOME=" + xdg, testsupport::tlsprobe_binary(), "ca", "path"});
  CHECK(p.out == xdg + "/tlsprobe/ca.pem\n");
}
