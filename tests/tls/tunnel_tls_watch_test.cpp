// TunnelTlsWatch (the tunnel's view of the client's own TLS connection) and its parts, the
// ServerHelloTap and the TlsRecordWalker: pure, on real TLS 1.2 and 1.3 conversations between
// an OpenSSL client and server over memory BIOs (tests/parse/tls_pair_gen.hpp), relayed in the
// order the two sides wrote them, as the tunnel sees them.
#include "proxy/tls/tunnel_tls_watch.hpp"
#include "parse/client_hello_gen.hpp"
#include "parse/tls_pair_gen.hpp"
#include "proxy/tls/server_hello_tap.hpp"
#include "proxy/tls/tls_record_walker.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace tlsprobe;
using proxy::ServerHelloTap;
using proxy::TunnelTlsWatch;
using testing::chars;
using testing::PairOptions;
using testing::run_tls_pair;
using testing::TlsPair;

namespace {

// Relays the conversation through a watch, each write in pieces of at most `piece` bytes.
// Counts the calls made after the watch said it wanted no more (the relay would not make them).
struct Relayed {
  TunnelTlsWatch watch;
  int calls_after_done = 0;
};
void relay(Relayed& r, const TlsPair& pair, std::size_t piece = 1u << 20) {
  bool want_client = true, want_server = true;
  for (const auto& chunk : pair.chunks) {
    for (std::size_t off = 0; off < chunk.bytes.size(); off += piece) {
      const std::size_t n = std::min(piece, chunk.bytes.size() - off);
      bool& want = chunk.from_client ? want_client : want_server;
      if (!want) {
        ++r.calls_after_done;
        continue;
      }
      want = chunk.from_client ? r.watch.client_bytes(chars(chunk.bytes) + off, n)
                               : r.watch.server_bytes(chars(chunk.bytes) + off, n);
    }
  }
}

PairOptions talk(int max_version) {
  PairOptions o;
  o.client_max_version = max_version;
  o.client_data = "GET / HTTP/1.1\r\nHost: pair.test\r\n\r\n";
  o.server_data = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
  return o;
}

}  // namespace

TEST_CASE("tls watch: TLS 1.3 with data both ways is established, version and cipher read",
          "[tls_watch]") {
  const auto pair = run_tls_pair(talk(0));
  REQUIRE(pair.version == "TLSv1.3");
  for (const std::size_t piece : {std::size_t{1} << 20, std::size_t{1}, std::size_t{3}}) {
    INFO("piece " << piece);
    Relayed r;
    relay(r, pair, piece);
    REQUIRE(r.watch.server_hello().state() == ServerHelloTap::State::tls);
    CHECK(r.watch.server_hello().hello().version == "1.3");
    CHECK(r.watch.server_hello().hello().cipher == pair.cipher);
    CHECK(r.watch.established());
    // Decided: it wants no more bytes either way (the relay stops calling it).
    CHECK_FALSE(r.watch.client_bytes("x", 1));
    CHECK_FALSE(r.watch.server_bytes("x", 1));
    // Byte by byte it decides at the header of the server's data record, before its payload.
    if (piece == 1) CHECK(r.calls_after_done > 0);
  }
}

TEST_CASE("tls watch: TLS 1.2 with data both ways is established", "[tls_watch]") {
  auto o = talk(TLS1_2_VERSION);
  o.client_cipher_list = "ECDHE-ECDSA-AES256-GCM-SHA384";
  const auto pair = run_tls_pair(o);
  REQUIRE(pair.version == "TLSv1.2");
  Relayed r;
  relay(r, pair, 5);
  CHECK(r.watch.server_hello().hello().version == "1.2");
  CHECK(r.watch.server_hello().hello().cipher == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
  CHECK(r.watch.established());
}

TEST_CASE("tls watch: a client that rejects the certificate is not established", "[tls_watch]") {
  for (const int max : {TLS1_2_VERSION, 0}) {
    INFO("max version " << max);
    auto o = talk(max);
    o.client_trusts_server = false;
    const auto pair = run_tls_pair(o);
    REQUIRE_FALSE(pair.client_done);
    Relayed r;
    relay(r, pair);
    // The server chose (its ServerHello is there), but the client's alert ended it.
    REQUIRE(r.watch.server_hello().state() == ServerHelloTap::State::tls);
    CHECK_FALSE(r.watch.established());
    CHECK(r.calls_after_done == 0);
  }
}

TEST_CASE("tls watch: a handshake without application data both ways is not established",
          "[tls_watch]") {
  for (const int max : {TLS1_2_VERSION, 0}) {
    INFO("max version " << max);
    PairOptions quiet;  // handshake only
    quiet.client_max_version = max;
    Relayed a;
    relay(a, run_tls_pair(quiet));
    CHECK_FALSE(a.watch.established());
    // The server answered nothing: TLS 1.2 has no server record of type 23 at all.
    auto one_way = talk(max);
    one_way.server_data.clear();
    Relayed b;
    relay(b, run_tls_pair(one_way));
    if (max == TLS1_2_VERSION) {
      CHECK_FALSE(b.watch.established());
    } else {
      // TLS 1.3: the server's NewSessionTickets, sent only after it accepted the client's
      // Finished, count as its side (documented in tunnel_tls_watch.cpp).
      CHECK(b.watch.established());
    }
  }
}

TEST_CASE("tls watch: a server that refuses, or is not TLS, ends the watch at once",
          "[tls_watch]") {
  PairOptions refused;
  refused.client_min_version = TLS1_3_VERSION;
  refused.server_max_version = TLS1_2_VERSION;
  Relayed r;
  relay(r, run_tls_pair(refused));
  CHECK(r.watch.server_hello().state() == ServerHelloTap::State::alert);
  CHECK(r.watch.server_hello().detail() == "alert_70");
  CHECK_FALSE(r.watch.established());

  TunnelTlsWatch plain;
  CHECK_FALSE(plain.server_bytes("HTTP/1.1 200 OK\r\n\r\n", 19));
  CHECK(plain.server_hello().state() == ServerHelloTap::State::not_tls);
  CHECK_FALSE(plain.client_bytes("GET / HTTP/1.1\r\n", 16));
  CHECK_FALSE(plain.established());
}

TEST_CASE("server hello tap: a split ServerHello is read at its last byte, then nothing more",
          "[tls_watch]") {
  const auto pair = run_tls_pair(talk(0));
  const auto& s = pair.server_to_client;
  ServerHelloTap tap;
  const std::size_t hello_end = 5 + static_cast<std::size_t>(s[3] << 8 | s[4]);
  for (std::size_t i = 0; i + 1 < hello_end; ++i) {
    REQUIRE_FALSE(tap.feed(chars(s) + i, 1));
    REQUIRE(tap.state() == ServerHelloTap::State::reading);
  }
  CHECK(tap.feed(chars(s) + hello_end - 1, 1));
  CHECK(tap.state() == ServerHelloTap::State::tls);
  CHECK(tap.hello().version == "1.3");
  CHECK_FALSE(tap.feed(chars(s), 5));
}

TEST_CASE("record walker: headers split anywhere are read, and a non-record stops it",
          "[tls_watch]") {
  const std::vector<std::uint8_t> records = {0x16, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb, 0x17, 0x03,
                                             0x03, 0x00, 0x00, 0x17, 0x03, 0x03, 0x00, 0x01, 0xcc};
  for (std::size_t piece = 1; piece <= records.size(); ++piece) {
    proxy::TlsRecordWalker walker;
    std::vector<std::pair<int, std::size_t>> seen;
    for (std::size_t off = 0; off < records.size(); off += piece)
      walker.feed(records.data() + off, std::min(piece, records.size() - off),
                  [&](std::uint8_t type, std::size_t length) { seen.emplace_back(type, length); });
    INFO("piece " << piece);
    CHECK(seen == std::vector<std::pair<int, std::size_t>>{{22, 2}, {23, 0}, {23, 1}});
    CHECK_FALSE(walker.lost());
  }
  proxy::TlsRecordWalker walker;
  int calls = 0;
  const std::string http = "HTTP/1.1 200 OK\r\n";
  walker.feed(reinterpret_cast<const std::uint8_t*>(http.data()), http.size(),
              [&](std::uint8_t, std::size_t) { ++calls; });
  CHECK(walker.lost());
  CHECK(calls == 0);
}
