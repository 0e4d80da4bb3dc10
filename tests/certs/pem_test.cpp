#include "certs/pem.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace tlsprobe;
using namespace tlsprobe::testpki;

namespace {
// "path: what" -> "what" (the message format is the contract: one line, path first).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const certs::PemError& e) {
    return e.what();
  }
  return "<no PemError>";
}
}  // namespace

TEST_CASE("PEM round trip keeps order and content", "[certs][pem]") {
  auto h = make_hierarchy({"a.test"});
  certs::Chain chain{h.leaf.cert, h.intermediate.cert, h.root.cert};
  std::string pem = certs::write_pem(chain);
  auto back = certs::read_pem_chain(pem);
  REQUIRE(back.size() == 3);
  CHECK(back[0] == h.leaf.cert);
  CHECK(back[1] == h.intermediate.cert);
  CHECK(back[2] == h.root.cert);

  TempPemFile file(pem);
  auto from_file = certs::read_pem_file(file.path());
  REQUIRE(from_file.size() == 3);
  CHECK(from_file[2] == h.root.cert);
}

TEST_CASE("private key PEM round trip", "[certs][pem]") {
  auto root = make_root({.common_name = "R"});
  std::string pem = root.key_pem();
  CHECK(pem.find("-----BEGIN PRIVATE KEY-----") == 0);
  auto key = certs::read_private_key_pem(pem);
  REQUIRE(key);
  CHECK(EVP_PKEY_eq(key.get(), root.pkey()) == 1);
  CHECK_THROWS_AS(certs::read_private_key_pem("nothing here"), certs::PemError);
  CHECK_THROWS_AS(certs::read_private_key_pem(root.cert_pem()), certs::PemError);
}

TEST_CASE("PEM errors name the input and say what is wrong", "[certs][pem]") {
  auto root = make_root({.common_name = "R"});
  std::string good = root.cert_pem();

  SECTION("empty") {
    TempPemFile f("");
    CHECK(error_of([&] { certs::read_pem_file(f.path()); }) == f.path() + ": no certificate found");
  }
  SECTION("missing file") {
    CHECK(error_of([] { certs::read_pem_file("/nonexistent/ca.pem"); }) ==
          "/nonexistent/ca.pem: cannot open: No such file or directory");
  }
  SECTION("a directory") {
    CHECK(error_of([] { certs::read_pem_file("/tmp"); }).rfind("/tmp: cannot open", 0) == 0);
  }
  SECTION("key but no certificate") {
    TempPemFile f(root.key_pem());
    std::string e = error_of([&] { certs::read_pem_file(f.path()); });
    CHECK(e.rfind(f.path() + ": no certificate found", 0) == 0);
  }
  SECTION("broken base64 in the second certificate") {
    std::string broken = good;
    auto pos = broken.find('\n') + 5;
    broken[pos] = '!';
    broken[pos + 1] = '*';
    TempPemFile f(good + broken);
    std::string e = error_of([&] { certs::read_pem_file(f.path()); });
    CHECK(e.rfind(f.path() + ": bad PEM at certificate 2: ", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
  }
  SECTION("truncated PEM") {
    std::string cut = good.substr(0, good.size() / 2);
    std::string e = error_of([&] { certs::read_pem_chain(cut, "ca.pem"); });
    CHECK(e.rfind("ca.pem: bad PEM at certificate 1: ", 0) == 0);
  }
  SECTION("valid base64 that is not a certificate") {
    std::string pem = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    std::string e = error_of([&] { certs::read_pem_chain(pem, "x.pem"); });
    CHECK(e.rfind("x.pem: bad PEM at certificate 1: ", 0) == 0);
  }
  SECTION("text around certificates is ignored, keys are skipped") {
    auto chain = certs::read_pem_chain("comment\n" + root.key_pem() + good + "trailer\n");
    CHECK(chain.size() == 1);
  }
}
