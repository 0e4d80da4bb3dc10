// ClientHelloTap (the tunnel's incremental ClientHello reader) and the HelloStatus vocabulary
// it shares with the intercept/reverse peek: pure, on real ClientHellos written by OpenSSL
// into a memory BIO (tests/parse/client_hello_gen.hpp).
#include "proxy/tls/client_hello_tap.hpp"
#include "parse/client_hello_gen.hpp"
#include "proxy/tls/hello_status.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace tlsprobe;
using proxy::ClientHelloTap;
using proxy::HelloStatus;
using proxy::TapState;

using testing::chars;

TEST_CASE("tap: a ClientHello that arrives a byte at a time is read at its last byte", "[tap]") {
  const auto hello = testing::generate_client_hello({"www.example.test", {"http/1.1"}, 0});
  ClientHelloTap tap(inspect::max_client_hello_bytes);
  for (std::size_t i = 0; i + 1 < hello.size(); ++i) {
    CHECK_FALSE(tap.feed(chars(hello) + i, 1));
    REQUIRE(tap.state() == TapState::reading);
  }
  CHECK(tap.feed(chars(hello) + hello.size() - 1, 1));
  REQUIRE(tap.state() == TapState::tls);
  CHECK(tap.status() == HelloStatus::ok);
  CHECK(tap.hello().sni == std::optional<std::string>("www.example.test"));
  CHECK(tap.reason().empty());
  // Decided: later bytes (the rest of the TLS stream) are not looked at.
  CHECK_FALSE(tap.feed("more", 4));
  CHECK(tap.state() == TapState::tls);
}

TEST_CASE("tap: plain HTTP through a tunnel is not_tls at its first bytes", "[tap]") {
  ClientHelloTap tap(inspect::max_client_hello_bytes);
  const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(tap.feed(get.data(), get.size()));
  CHECK(tap.state() == TapState::not_tls);
  CHECK(tap.reason() == "not_tls");
}

TEST_CASE("tap: a declared 64 KiB ClientHello is too_large at once, by status", "[tap]") {
  const std::vector<std::uint8_t> declared = {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00};
  ClientHelloTap tap(inspect::max_client_hello_bytes);
  CHECK(tap.feed(chars(declared), declared.size()));
  CHECK(tap.state() == TapState::too_large);
  CHECK(tap.status() == HelloStatus::too_large);
  CHECK(tap.reason() == "client_hello_too_large");
}

TEST_CASE("tap: a ClientHello longer than the tap's own limit is too_large", "[tap]") {
  const auto hello = testing::generate_client_hello({"www.example.test", {}, 0});
  ClientHelloTap tap(100);  // [limits] client_hello_bytes set small
  CHECK(tap.feed(chars(hello), hello.size()));
  CHECK(tap.state() == TapState::too_large);
}

TEST_CASE("tap: a malformed ClientHello is invalid with the parser's reason", "[tap]") {
  // A handshake record whose message is not a ClientHello (type 2, ServerHello).
  const std::vector<std::uint8_t> server_hello = {0x16, 0x03, 0x01, 0x00, 0x04,
                                                  0x02, 0x00, 0x00, 0x00};
  ClientHelloTap tap(inspect::max_client_hello_bytes);
  CHECK(tap.feed(chars(server_hello), server_hello.size()));
  CHECK(tap.state() == TapState::invalid);
  CHECK(tap.detail() == "not_client_hello");
  CHECK(tap.reason() == "client_hello_invalid: not_client_hello");
}

TEST_CASE("tap: a client that closes mid-ClientHello is truncated; with nothing sent, not TLS",
          "[tap]") {
  const auto hello = testing::generate_client_hello({"www.example.test", {}, 0});
  ClientHelloTap half(inspect::max_client_hello_bytes);
  CHECK_FALSE(half.feed(chars(hello), hello.size() / 2));
  half.finish();
  CHECK(half.state() == TapState::truncated);
  CHECK(half.reason() == "client_hello_truncated");

  ClientHelloTap none(inspect::max_client_hello_bytes);
  none.finish();
  CHECK(none.state() == TapState::not_tls);
}

TEST_CASE("hello status: one log reason per outcome, for the peek and the tap alike",
          "[tap][peek]") {
  CHECK(proxy::hello_failure_reason(HelloStatus::ok, "").empty());
  CHECK(proxy::hello_failure_reason(HelloStatus::not_tls, "http") == "not_tls");
  CHECK(proxy::hello_failure_reason(HelloStatus::invalid, "bad_sni") ==
        "client_hello_invalid: bad_sni");
  CHECK(proxy::hello_failure_reason(HelloStatus::too_large, "") == "client_hello_too_large");
  CHECK(proxy::hello_failure_reason(HelloStatus::closed, "") == "client_hello_closed");
  CHECK(proxy::hello_failure_reason(HelloStatus::truncated, "") == "client_hello_truncated");
  CHECK(proxy::hello_failure_reason(HelloStatus::timeout, "") == "client_hello_timeout");
  CHECK(proxy::hello_failure_reason(HelloStatus::error, "Connection reset by peer") ==
        "client_hello_error: Connection reset by peer");
  CHECK(proxy::hello_status_of(inspect::ClientHelloStatus::too_large) == HelloStatus::too_large);
  CHECK(proxy::hello_status_of(inspect::ClientHelloStatus::invalid) == HelloStatus::invalid);
}
