// The ServerHello parser (inspect/server_hello.hpp) on real server flights written by OpenSSL
// over memory BIOs (tls_pair_gen.hpp): TLS 1.2, TLS 1.3, a HelloRetryRequest, a refusal; then
// every prefix, other fragmentations, garbage and malformed hand-built variants.
#include "inspect/server_hello.hpp"

#include "client_hello_gen.hpp"
#include "tls_pair_gen.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::inspect;
using tlsprobe::testing::as_bytes;
using tlsprobe::testing::PairOptions;
using tlsprobe::testing::refragment;
using tlsprobe::testing::run_tls_pair;
using Bytes = std::vector<std::uint8_t>;

namespace {

// The leading handshake records of a stream (the server's cleartext flight in TLS 1.2, the
// ServerHello record in TLS 1.3).
Bytes leading_handshake_records(const Bytes& stream) {
  std::size_t off = 0;
  while (off + 5 <= stream.size() && stream[off] == 22)
    off += 5 + static_cast<std::size_t>(stream[off + 3] << 8 | stream[off + 4]);
  REQUIRE(off <= stream.size());
  return Bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(off));
}

// A hand-built ServerHello record, for variants OpenSSL would never send.
Bytes server_hello_record(std::uint16_t version, std::uint16_t suite, const Bytes& extensions,
                          bool with_extensions = true, std::uint8_t random_byte = 0x42) {
  Bytes b = {static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version & 0xff)};
  b.insert(b.end(), 32, random_byte);
  b.push_back(0);  // empty session id
  b.insert(b.end(), {static_cast<std::uint8_t>(suite >> 8), static_cast<std::uint8_t>(suite)});
  b.push_back(0);  // null compression
  if (with_extensions) {
    b.push_back(static_cast<std::uint8_t>(extensions.size() >> 8));
    b.push_back(static_cast<std::uint8_t>(extensions.size() & 0xff));
    b.insert(b.end(), extensions.begin(), extensions.end());
  }
  Bytes hs = {0x02, 0, static_cast<std::uint8_t>(b.size() >> 8),
              static_cast<std::uint8_t>(b.size() & 0xff)};
  hs.insert(hs.end(), b.begin(), b.end());
  Bytes rec = {0x16, 0x03, 0x03, static_cast<std::uint8_t>(hs.size() >> 8),
               static_cast<std::uint8_t>(hs.size() & 0xff)};
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

const Bytes selected_13 = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};  // supported_versions: 1.3

}  // namespace

TEST_CASE("server_hello: OpenSSL's TLS 1.3 ServerHello gives version and IANA cipher",
          "[server_hello]") {
  PairOptions o;
  o.client_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  const auto pair = run_tls_pair(o);
  REQUIRE(pair.server_done);
  REQUIRE(pair.version == "TLSv1.3");
  const auto r = parse_server_hello(pair.server_to_client);
  REQUIRE(r.status == ServerHelloStatus::ok);
  CHECK(r.hello.version == "1.3");
  CHECK(r.hello.cipher_suite == 0x1303);
  CHECK(r.hello.cipher == "TLS_CHACHA20_POLY1305_SHA256");
  CHECK(r.hello.cipher == pair.cipher);
  CHECK_FALSE(r.hello.hello_retry_request);
  // The ServerHello is the first record; the encrypted rest is not looked at.
  CHECK(r.hello.bytes_consumed == leading_handshake_records(pair.server_to_client).size());
}

TEST_CASE("server_hello: OpenSSL's TLS 1.2 flight gives 1.2 and the suite's IANA name",
          "[server_hello]") {
  PairOptions o;
  o.client_max_version = TLS1_2_VERSION;
  o.client_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256";
  const auto pair = run_tls_pair(o);
  REQUIRE(pair.server_done);
  REQUIRE(pair.version == "TLSv1.2");
  const auto r = parse_server_hello(pair.server_to_client);
  REQUIRE(r.status == ServerHelloStatus::ok);
  CHECK(r.hello.version == "1.2");
  CHECK(r.hello.cipher_suite == 0xc02b);
  CHECK(r.hello.cipher == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  CHECK(r.hello.cipher == pair.cipher);
  // Certificate, ServerKeyExchange… follow the ServerHello in the same flight: not needed.
  CHECK(r.hello.bytes_consumed < leading_handshake_records(pair.server_to_client).size());
}

TEST_CASE("server_hello: every prefix asks for more, and the answer holds however it is split",
          "[server_hello]") {
  for (const int max : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    PairOptions o;
    o.client_max_version = max;
    const auto pair = run_tls_pair(o);
    REQUIRE(pair.server_done);
    const auto full = parse_server_hello(pair.server_to_client);
    REQUIRE(full.status == ServerHelloStatus::ok);
    const auto& s = pair.server_to_client;
    for (std::size_t n = 0; n < full.hello.bytes_consumed; ++n) {
      const auto r = parse_server_hello(std::span<const std::uint8_t>(s).first(n));
      INFO("prefix " << n);
      REQUIRE(r.status == ServerHelloStatus::need_more);
    }
    const auto exact =
        parse_server_hello(std::span<const std::uint8_t>(s).first(full.hello.bytes_consumed));
    REQUIRE(exact.status == ServerHelloStatus::ok);
    CHECK(exact.hello.cipher == full.hello.cipher);
    // The same handshake bytes in records of 7 and of 1 payload bytes.
    for (const std::size_t fragment : {std::size_t{7}, std::size_t{1}}) {
      const auto split = refragment(leading_handshake_records(s), fragment);
      const auto r = parse_server_hello(split);
      REQUIRE(r.status == ServerHelloStatus::ok);
      CHECK(r.hello.version == full.hello.version);
      CHECK(r.hello.cipher_suite == full.hello.cipher_suite);
    }
  }
}

TEST_CASE("server_hello: a HelloRetryRequest is noted and the next ServerHello decides",
          "[server_hello]") {
  PairOptions o;
  o.client_groups = "X25519:P-256";  // OpenSSL sends a key share for X25519 only
  o.server_groups = "P-256";         // so the server asks again
  const auto pair = run_tls_pair(o);
  REQUIRE(pair.server_done);
  const auto r = parse_server_hello(pair.server_to_client);
  REQUIRE(r.status == ServerHelloStatus::ok);
  CHECK(r.hello.hello_retry_request);
  CHECK(r.hello.version == "1.3");
  CHECK(r.hello.cipher == pair.cipher);
  // The HelloRetryRequest (and its ChangeCipherSpec) alone are not an answer yet.
  const auto& s = pair.server_to_client;
  const std::size_t hrr_len = 5 + static_cast<std::size_t>(s[3] << 8 | s[4]);
  REQUIRE(s.size() > hrr_len + 6);
  CHECK(parse_server_hello(std::span<const std::uint8_t>(s).first(hrr_len)).status ==
        ServerHelloStatus::need_more);
  CHECK(parse_server_hello(std::span<const std::uint8_t>(s).first(hrr_len + 6)).status ==
        ServerHelloStatus::need_more);
  // Two HelloRetryRequests in a row are a protocol error.
  Bytes twice(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(hrr_len));
  twice.insert(twice.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(hrr_len));
  const auto again = parse_server_hello(twice);
  CHECK(again.status == ServerHelloStatus::invalid);
  CHECK(again.error == "second_hello_retry_request");
}

TEST_CASE("server_hello: a server that refuses answers with an alert", "[server_hello]") {
  PairOptions o;
  o.client_min_version = TLS1_3_VERSION;
  o.server_max_version = TLS1_2_VERSION;
  const auto pair = run_tls_pair(o);
  REQUIRE_FALSE(pair.server_done);
  const auto r = parse_server_hello(pair.server_to_client);
  CHECK(r.status == ServerHelloStatus::alert);
  CHECK(r.error == "alert_70");  // protocol_version
  CHECK(parse_server_hello(Bytes{0x15, 0x03, 0x03, 0x00, 0x02, 0x02}).status ==
        ServerHelloStatus::need_more);
}

TEST_CASE("server_hello: not TLS, garbage and malformed hellos", "[server_hello]") {
  CHECK(parse_server_hello(Bytes{}).status == ServerHelloStatus::need_more);
  CHECK(parse_server_hello(as_bytes("HTTP/1.1 200 OK\r\n\r\n")).status ==
        ServerHelloStatus::not_tls);
  CHECK(parse_server_hello(as_bytes("SSH-2.0-OpenSSH_9.2\r\n")).status ==
        ServerHelloStatus::not_tls);
  CHECK(parse_server_hello(Bytes{0x16, 0x03, 0x05}).status == ServerHelloStatus::not_tls);
  CHECK(parse_server_hello(Bytes{0x17, 0x03, 0x03, 0x00, 0x10}).status ==
        ServerHelloStatus::not_tls);

  const auto with = [](Bytes rec, std::size_t at, std::uint8_t v) {
    rec.at(at) = v;
    return rec;
  };
  const Bytes good = server_hello_record(0x0303, 0x1301, selected_13);
  REQUIRE(parse_server_hello(good).status == ServerHelloStatus::ok);
  // A Certificate message where the ServerHello must be.
  CHECK(parse_server_hello(with(good, 5, 11)).error == "not_server_hello");
  // A record longer than 2^14.
  CHECK(parse_server_hello(with(good, 3, 0x41)).error == "record_overflow");
  // Extensions longer than the body.
  CHECK(parse_server_hello(server_hello_record(0x0303, 0x1301, {0x00, 0x2b, 0x00, 0x09})).error ==
        "bad_extension_length");
  Bytes dup = selected_13;
  dup.insert(dup.end(), selected_13.begin(), selected_13.end());
  CHECK(parse_server_hello(server_hello_record(0x0303, 0x1301, dup)).error ==
        "duplicate_extension");
  CHECK(parse_server_hello(server_hello_record(0x0303, 0x1301, {0x00, 0x2b, 0x00, 0x01, 0x03}))
            .error == "bad_supported_versions");
  // A ChangeCipherSpec before any HelloRetryRequest, and an application data record.
  Bytes ccs_first = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
  CHECK(parse_server_hello(ccs_first).status == ServerHelloStatus::not_tls);
  Bytes after = {0x16, 0x03, 0x03, 0x00, 0x01, 0x02, 0x17, 0x03, 0x03, 0x00, 0x01, 0x00};
  CHECK(parse_server_hello(after).error == "unexpected_record_type");
}

TEST_CASE("server_hello: old versions without extensions, and the bound", "[server_hello]") {
  const auto r = parse_server_hello(server_hello_record(0x0302, 0x002f, {}, false));
  REQUIRE(r.status == ServerHelloStatus::ok);
  CHECK(r.hello.version == "1.1");
  CHECK(r.hello.cipher == "TLS_RSA_WITH_AES_128_CBC_SHA");
  // supported_versions overrides legacy_version.
  CHECK(parse_server_hello(server_hello_record(0x0303, 0x1302, selected_13)).hello.version ==
        "1.3");
  CHECK(cipher_suite_name(0xfafa) == "0xfafa");  // GREASE: no suite OpenSSL knows

  // A ServerHello that announces 16 MiB never ends within the bound: too_large, not need_more.
  Bytes huge = {0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0xff, 0xff, 0xff};
  huge.resize(5 + 0x4000, 0x00);
  while (huge.size() < max_server_hello_bytes + 100) {
    huge.insert(huge.end(), {0x16, 0x03, 0x03, 0x40, 0x00});
    huge.resize(huge.size() + 0x4000, 0x00);
  }
  CHECK(parse_server_hello(huge).status == ServerHelloStatus::too_large);
  CHECK(parse_server_hello(std::span<const std::uint8_t>(huge).first(1000)).status ==
        ServerHelloStatus::need_more);
}

// Seeds for server_hello_fuzz (tests/fuzz/corpus/server_hello_fuzz/): real server flights
// and the refusal, rewritten by this hidden test:
//   tests_parse "generate the server_hello_fuzz seeds"
TEST_CASE("generate the server_hello_fuzz seeds", "[.generate]") {
  const std::string dir = TLSPROBE_SOURCE_DIR "/tests/fuzz/corpus/server_hello_fuzz/";
  using tlsprobe::testing::write_binary;
  PairOptions tls12;
  tls12.client_max_version = TLS1_2_VERSION;
  const auto first_records = [](const Bytes& s, std::size_t limit) {
    return Bytes(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), limit)));
  };
  write_binary(dir + "tls12_flight.bin", first_records(run_tls_pair(tls12).server_to_client, 4096));
  write_binary(dir + "tls13_flight.bin", first_records(run_tls_pair({}).server_to_client, 4096));
  PairOptions hrr;
  hrr.client_groups = "X25519:P-256";
  hrr.server_groups = "P-256";
  write_binary(dir + "tls13_hello_retry.bin",
               first_records(run_tls_pair(hrr).server_to_client, 4096));
  PairOptions refused;
  refused.client_min_version = TLS1_3_VERSION;
  refused.server_max_version = TLS1_2_VERSION;
  write_binary(dir + "alert.bin", run_tls_pair(refused).server_to_client);
  write_binary(dir + "tls11_no_extensions.bin", server_hello_record(0x0302, 0x002f, {}, false));
}

TEST_CASE("cipher_suite_name: repeated and alternating suites keep their own names",
          "[server_hello]") {
  // The last answer is kept for the next ServerHello: a hit, a miss after it, an unknown suite
  // between two known ones (never kept), and the same suite again.
  const std::pair<std::uint16_t, std::string_view> order[] = {
      {0x1301, "TLS_AES_128_GCM_SHA256"},
      {0x1301, "TLS_AES_128_GCM_SHA256"},
      {0x1302, "TLS_AES_256_GCM_SHA384"},
      {0xfafa, "0xfafa"},
      {0x1302, "TLS_AES_256_GCM_SHA384"},
      {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
      {0x1301, "TLS_AES_128_GCM_SHA256"},
      {0xfafa, "0xfafa"},
      {0xfafa, "0xfafa"}};
  for (const auto& [id, name] : order) {
    INFO("suite " << id);
    CHECK(cipher_suite_name(id) == name);
  }
}
