#include "inspect/client_hello.hpp"

#include "client_hello_gen.hpp"

#include <algorithm>

using namespace tlsprobe::inspect;
using tlsprobe::testing::as_bytes;
using tlsprobe::testing::generate_client_hello;
using tlsprobe::testing::HelloOptions;
using tlsprobe::testing::refragment;
using Bytes = std::vector<std::uint8_t>;

namespace {

bool has(const std::vector<std::uint16_t>& v, std::uint16_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// A hand-built ClientHello body, for malformed variants OpenSSL would never send.
Bytes minimal_body(const Bytes& extensions, bool with_extensions = true) {
  Bytes b = {0x03, 0x03};
  b.insert(b.end(), 32, 0x42);                  // random
  b.push_back(0);                               // session id
  b.insert(b.end(), {0x00, 0x02, 0x13, 0x01});  // one cipher suite
  b.insert(b.end(), {0x01, 0x00});              // null compression
  if (with_extensions) {
    b.push_back(static_cast<std::uint8_t>(extensions.size() >> 8));
    b.push_back(static_cast<std::uint8_t>(extensions.size() & 0xff));
    b.insert(b.end(), extensions.begin(), extensions.end());
  }
  return b;
}

// Wraps a body in a handshake header and a single record.
Bytes wrap(const Bytes& body) {
  Bytes hs = {0x01, 0, static_cast<std::uint8_t>(body.size() >> 8),
              static_cast<std::uint8_t>(body.size() & 0xff)};
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes rec = {0x16, 0x03, 0x01, static_cast<std::uint8_t>(hs.size() >> 8),
               static_cast<std::uint8_t>(hs.size() & 0xff)};
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

Bytes ext(std::uint16_t type, const Bytes& data) {
  Bytes e = {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type & 0xff),
             static_cast<std::uint8_t>(data.size() >> 8),
             static_cast<std::uint8_t>(data.size() & 0xff)};
  e.insert(e.end(), data.begin(), data.end());
  return e;
}

Bytes sni_ext(std::string_view host) {
  Bytes entry = {0x00, static_cast<std::uint8_t>(host.size() >> 8),
                 static_cast<std::uint8_t>(host.size() & 0xff)};
  entry.insert(entry.end(), host.begin(), host.end());
  Bytes list = {static_cast<std::uint8_t>(entry.size() >> 8),
                static_cast<std::uint8_t>(entry.size() & 0xff)};
  list.insert(list.end(), entry.begin(), entry.end());
  return ext(0, list);
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

ClientHelloResult parse(const Bytes& b) { return parse_client_hello(b); }

void check_every_prefix_needs_more(const Bytes& hello) {
  for (std::size_t n = 0; n < hello.size(); ++n) {
    auto r = parse_client_hello(std::span<const std::uint8_t>(hello.data(), n));
    if (r.status != ClientHelloStatus::need_more) {
      INFO("prefix length " << n << " of " << hello.size() << ": " << to_string(r.status) << " "
                            << r.error);
      CHECK(r.status == ClientHelloStatus::need_more);
      return;
    }
  }
}

std::vector<std::string> many_alpn(std::size_t count) {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < count; ++i)
    v.push_back("proto-" + std::to_string(i) + std::string(50, 'x'));
  return v;
}

}  // namespace

TEST_CASE("a ClientHello with SNI yields the name, TLS 1.3 and 1.2, suites and extensions") {
  auto hello = generate_client_hello({"www.example.com", {}, 0});
  auto r = parse(hello);
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.sni == "www.example.com");
  CHECK(r.hello.alpn.empty());
  CHECK(r.hello.versions.front() == "1.3");
  CHECK(std::find(r.hello.versions.begin(), r.hello.versions.end(), "1.2") !=
        r.hello.versions.end());
  CHECK(r.hello.legacy_version == 0x0303);
  CHECK(has(r.hello.cipher_suites, 0x1301));  // TLS_AES_128_GCM_SHA256
  CHECK(has(r.hello.extensions, 0));
  CHECK(has(r.hello.extensions, 43));
  CHECK(r.hello.bytes_consumed == hello.size());
  auto obs = to_observation(r.hello);
  CHECK(obs.sni == "www.example.com");
  CHECK(obs.versions == r.hello.versions);
}

TEST_CASE("a ClientHello without SNI reports no name") {
  auto r = parse(generate_client_hello({std::nullopt, {}, 0}));
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK_FALSE(r.hello.sni);
  CHECK_FALSE(has(r.hello.extensions, 0));
}

TEST_CASE("ALPN protocols are listed in the client's order") {
  auto r = parse(generate_client_hello({"a.example", {"h2", "http/1.1"}, 0}));
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(has(r.hello.extensions, 16));
}

TEST_CASE("a TLS 1.2-only client has versions from legacy_version") {
  auto r = parse(generate_client_hello({"a.example", {}, TLS1_2_VERSION}));
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK_FALSE(has(r.hello.extensions, 43));
  CHECK(r.hello.versions == std::vector<std::string>{"1.2"});
}

TEST_CASE("a large ClientHello split over several records parses, however it is fragmented") {
  auto alpn = many_alpn(400);  // ~24 KB of ALPN: more than one 16 KiB record
  auto hello = generate_client_hello({"big.example", alpn, 0});
  REQUIRE(hello.size() > 16384 + 5);
  for (std::size_t fragment : {std::size_t{16384}, std::size_t{1000}, std::size_t{7}}) {
    INFO("fragment " << fragment);
    auto split = refragment(hello, fragment);
    auto r = parse(split);
    REQUIRE(r.status == ClientHelloStatus::ok);
    CHECK(r.hello.sni == "big.example");
    CHECK(r.hello.alpn == alpn);
    CHECK(r.hello.bytes_consumed == split.size());
  }
}

TEST_CASE("the ClientHello is found even when application bytes follow it") {
  auto hello = generate_client_hello({"a.example", {}, 0});
  auto more = hello;
  more.insert(more.end(), {0x17, 0x03, 0x03, 0x00, 0x01, 0x00});
  auto r = parse(more);
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.bytes_consumed == hello.size());
}

TEST_CASE("every truncation of a ClientHello asks for more bytes") {
  auto hello = generate_client_hello({"www.example.com", {"h2", "http/1.1"}, 0});
  check_every_prefix_needs_more(hello);
  check_every_prefix_needs_more(refragment(hello, 7));
  check_every_prefix_needs_more(refragment(hello, 1));
}

TEST_CASE("bytes that are not TLS are not_tls") {
  CHECK(parse_client_hello(as_bytes("GET / HTTP/1.1\r\n")).status == ClientHelloStatus::not_tls);
  CHECK(parse_client_hello(as_bytes("GET / HTTP/1.1\r\n")).error == "http");
  CHECK(parse_client_hello(as_bytes("G")).status == ClientHelloStatus::not_tls);
  CHECK(parse_client_hello(as_bytes("\x01\x02garbage")).status == ClientHelloStatus::not_tls);
  CHECK(parse(Bytes{0x16, 0x02}).status == ClientHelloStatus::not_tls);
  CHECK(parse(Bytes{0x16, 0x03, 0x09}).status == ClientHelloStatus::not_tls);
  // SSLv2-compatible hello: 2-byte length with the high bit set, msg type 1, version 3.1.
  Bytes sslv2 = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
  auto r = parse(sslv2);
  CHECK(r.status == ClientHelloStatus::not_tls);
  CHECK(r.error == "sslv2");
  CHECK(parse(Bytes{}).status == ClientHelloStatus::need_more);
  CHECK(parse(Bytes{0x16}).status == ClientHelloStatus::need_more);
}

TEST_CASE("looks_like_http recognises request lines") {
  CHECK(looks_like_http(as_bytes("GET / HTTP/1.1\r\n")));
  CHECK(looks_like_http(as_bytes("CONNECT a:443 HTTP/1.1\r\n")));
  CHECK(looks_like_http(as_bytes("PRI * HTTP/2.0\r\n")));
  CHECK_FALSE(looks_like_http(as_bytes("GE")));
  CHECK_FALSE(looks_like_http(as_bytes("get / HTTP/1.1")));
  CHECK_FALSE(looks_like_http(as_bytes("\x16\x03\x01")));
}

TEST_CASE("wrong lengths are invalid, with a reason") {
  auto hello = generate_client_hello({"www.example.com", {}, 0});

  SECTION("session id longer than 32") {
    auto b = hello;
    b[5 + 4 + 2 + 32] = 33;
    auto r = parse(b);
    CHECK(r.status == ClientHelloStatus::invalid);
    CHECK(r.error == "bad_session_id");
  }
  SECTION("handshake length longer than the bytes that follow") {
    auto b = wrap(minimal_body({}));
    b[5 + 3] += 1;  // body length, inside a record that still ends where it did
    auto r = parse(b);
    // The record is complete but the message is not, so a further record is awaited; with a
    // bogus next record header that is invalid.
    CHECK(r.status == ClientHelloStatus::need_more);
    b.insert(b.end(), {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28});  // an alert record
    CHECK(parse(b).status == ClientHelloStatus::invalid);
    CHECK(parse(b).error == "unexpected_record_type");
  }
  SECTION("extensions length disagrees with the message") {
    auto b = wrap(minimal_body(sni_ext("a.example")));
    b[5 + 4 + 2 + 32 + 1 + 4 + 2] += 1;
    CHECK(parse(b).error == "bad_extensions_length");
  }
  SECTION("extension length past its container") {
    auto e = sni_ext("a.example");
    e[3] += 5;
    auto r = parse(wrap(minimal_body(e)));
    CHECK(r.status == ClientHelloStatus::invalid);
    CHECK(r.error == "bad_extension_length");
  }
  SECTION("odd cipher suite length") {
    auto body = minimal_body({});
    body[2 + 32 + 1 + 1] = 3;
    CHECK(parse(wrap(body)).error == "bad_cipher_suites");
  }
  SECTION("no compression method") {
    auto body = minimal_body({}, false);
    body.pop_back();
    body.back() = 0;
    CHECK(parse(wrap(body)).error == "bad_compression_methods");
  }
  SECTION("zero-length record and record overflow") {
    CHECK(parse(Bytes{0x16, 0x03, 0x01, 0x00, 0x00}).error == "zero_length_record");
    CHECK(parse(Bytes{0x16, 0x03, 0x01, 0x40, 0x01}).error == "record_overflow");
  }
  SECTION("a handshake message that is not a ClientHello") {
    CHECK(parse(Bytes{0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00}).error ==
          "not_client_hello");
  }
  SECTION("duplicate extension") {
    auto r = parse(wrap(minimal_body(concat({sni_ext("a.example"), sni_ext("b.example")}))));
    CHECK(r.error == "duplicate_extension");
  }
  SECTION("SNI with an empty or binary name, ALPN with an empty name") {
    CHECK(parse(wrap(minimal_body(sni_ext("")))).error == "bad_sni");
    CHECK(parse(wrap(minimal_body(sni_ext(std::string_view("a\0b", 3))))).error == "bad_sni");
    CHECK(parse(wrap(minimal_body(ext(16, {0x00, 0x01, 0x00})))).error == "bad_alpn");
    CHECK(parse(wrap(minimal_body(ext(43, {0x03, 0x03, 0x04, 0x03})))).error ==
          "bad_supported_versions");
  }
}

TEST_CASE("a hand-built hello without extensions is TLS 1.2 without SNI") {
  auto r = parse(wrap(minimal_body({}, false)));
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK_FALSE(r.hello.sni);
  CHECK(r.hello.extensions.empty());
  CHECK(r.hello.versions == std::vector<std::string>{"1.2"});
}

TEST_CASE("GREASE versions are skipped, unknown ones kept as hex") {
  auto r = parse(wrap(minimal_body(ext(43, {0x06, 0x3a, 0x3a, 0x03, 0x04, 0x7f, 0x1c}))));
  REQUIRE(r.status == ClientHelloStatus::ok);
  CHECK(r.hello.versions == std::vector<std::string>{"1.3", "0x7f1c"});
}

TEST_CASE("a ClientHello above 64 KiB is client_hello_too_large") {
  // Declared length alone is enough to reject it, before the bytes arrive.
  Bytes declared = {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00};
  auto r = parse(declared);
  CHECK(r.status == ClientHelloStatus::too_large);
  CHECK(r.error == "client_hello_too_large");
  // A legal 24 KB hello in 1-byte records needs ~144 KB of records: rejected, not buffered.
  auto big = refragment(generate_client_hello({"big.example", many_alpn(400), 0}), 1);
  auto r2 = parse(big);
  CHECK(r2.status == ClientHelloStatus::too_large);
  CHECK(r2.error == "client_hello_too_large");
  // Also when only the first 64 KiB have arrived.
  auto r3 = parse_client_hello(std::span<const std::uint8_t>(big.data(), max_client_hello_bytes));
  CHECK(r3.status == ClientHelloStatus::too_large);
  CHECK(r3.error == "client_hello_too_large");
}

TEST_CASE("mutated ClientHellos never crash the parser") {
  // Deterministic pseudo-random mutations of a real hello.
  auto hello = generate_client_hello({"www.example.com", {"h2"}, 0});
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  for (int i = 0; i < 3000; ++i) {
    auto b = hello;
    int flips = 1 + static_cast<int>(next() % 4);
    for (int f = 0; f < flips; ++f) b[next() % b.size()] = static_cast<std::uint8_t>(next());
    b.resize(next() % (b.size() + 1));
    auto r = parse(b);  // must not crash or read out of bounds (run under ASan in CI)
    if (r.status == ClientHelloStatus::ok) CHECK(r.hello.bytes_consumed <= b.size());
  }
}
