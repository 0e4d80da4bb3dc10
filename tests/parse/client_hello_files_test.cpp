// The captured ClientHellos in tests/data/client_hello/ (see the README there), one scenario
// per file. The hidden test "[.generate]" rewrites them:
//   tests_parse "[.generate]"
#include "inspect/client_hello.hpp"

#include "client_hello_gen.hpp"

using namespace tlsprobe::inspect;
using namespace tlsprobe::testing;

namespace {

const std::string dir = TLSPROBE_TEST_DATA "/client_hello/";

ClientHelloResult parse_file(const std::string& name) {
  auto bytes = read_binary(dir + name);
  return parse_client_hello(bytes);
}

}  // namespace

TEST_CASE("generate the ClientHello data files", "[.generate]") {
  write_binary(dir + "valid_sni_alpn.bin",
               generate_client_hello({"www.example.com", {"h2", "http/1.1"}, 0}));
  write_binary(dir + "no_sni.bin", generate_client_hello({std::nullopt, {}, 0}));
  write_binary(dir + "tls12_only.bin",
               generate_client_hello({"legacy.example.com", {}, TLS1_2_VERSION}));
  std::vector<std::string> alpn;
  for (int i = 0; i < 100; ++i) alpn.push_back("proto-" + std::to_string(i) + "-padding-padding");
  write_binary(dir + "multiple_records.bin",
               refragment(generate_client_hello({"split.example.com", alpn, 0}), 512));
  write_binary(dir + "not_tls_http.bin",
               as_bytes("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"));
  const std::vector<std::uint8_t> sslv2 = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00,
                                           0x00, 0x00, 0x10, 0x00, 0x00, 0x05, 0x00, 0x00};
  write_binary(dir + "not_tls_sslv2.bin", sslv2);
  const std::vector<std::uint8_t> too_large = {0x16, 0x03, 0x01, 0x40, 0x00,
                                               0x01, 0x01, 0x00, 0x00};
  write_binary(dir + "too_large.bin", too_large);
}

TEST_CASE("data file valid_sni_alpn: SNI, ALPN and TLS 1.3") {
  auto r = parse_file("valid_sni_alpn.bin");
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.sni == "www.example.com");
  CHECK(r.hello.alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(r.hello.versions.front() == "1.3");
}

TEST_CASE("data file no_sni: no server_name") {
  auto r = parse_file("no_sni.bin");
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK_FALSE(r.hello.sni);
}

TEST_CASE("data file tls12_only: versions from legacy_version") {
  auto r = parse_file("tls12_only.bin");
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.sni == "legacy.example.com");
  CHECK(r.hello.versions == std::vector<std::string>{"1.2"});
}

TEST_CASE("data file multiple_records: a hello split over 512-byte records") {
  auto bytes = read_binary(dir + "multiple_records.bin");
  auto r = parse_client_hello(bytes);
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.sni == "split.example.com");
  CHECK(r.hello.alpn.size() == 100);
  CHECK(r.hello.bytes_consumed == bytes.size());
  CHECK(parse_client_hello(std::span<const std::uint8_t>(bytes).first(bytes.size() - 1)).status ==
        ClientHelloStatus::need_more);
}

TEST_CASE("data files not_tls_http and not_tls_sslv2 are not TLS") {
  auto http = parse_file("not_tls_http.bin");
  CHECK(http.status == ClientHelloStatus::not_tls);
  CHECK(http.error == "http");
  auto v2 = parse_file("not_tls_sslv2.bin");
  CHECK(v2.status == ClientHelloStatus::not_tls);
  CHECK(v2.error == "sslv2");
}

TEST_CASE("data file too_large: rejected from its declared length") {
  auto r = parse_file("too_large.bin");
  CHECK(r.status == ClientHelloStatus::too_large);
  CHECK(r.error == "client_hello_too_large");
}
