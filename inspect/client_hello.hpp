// ClientHello parser: what a client asks for (SNI, ALPN, versions) read from the first bytes
// of a connection, before any TLS library runs.
//
// This is a deliberate, documented exception to "never parse DER/TLS by hand": the proxy must
// see the ClientHello of a tunnelled connection it does not terminate (and, when intercepting,
// before OpenSSL picks a certificate), as sslsplit (ssl_tls_clienthello_parse) and Envoy's TLS
// inspector do. The parser is sans-io and bounded: it is given the bytes read so far and
// answers need_more, not_tls, invalid or ok (STYLE.md habit 5). Every length is checked
// against its container before use; nothing is read past the span.
//
// Followed: RFC 8446 §5.1 (records; a handshake message may span several records),
// §4.1.2 (ClientHello), §4.2 (extensions, no duplicates), §4.2.1 (supported_versions);
// RFC 6066 §3 (server_name); RFC 7301 §3.1 (ALPN).
#pragma once

#include "inspect/observation.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::inspect {

// The most bytes (record headers included) the parser will ever need: a peek buffer of this
// size always suffices. Same bound as Envoy's TLS_MAX_CLIENT_HELLO.
inline constexpr std::size_t max_client_hello_bytes = 64 * 1024;

enum class ClientHelloStatus {
  need_more,  // a valid prefix so far: call again with more bytes (same start)
  not_tls,    // the first bytes are not a TLS handshake record (HTTP, SSLv2 hello, garbage)
  invalid,    // TLS framing but a malformed ClientHello; see `error`
  too_large,  // TLS framing, but more than max_client_hello_bytes would be needed
  ok,         // parsed; `hello` is filled in
};

std::string_view to_string(ClientHelloStatus s);

struct ClientHello {
  std::optional<std::string> sni;  // host_name from server_name; nullopt = none sent
  std::vector<std::string> alpn;   // in the client's order
  // "1.3", "1.2", "1.1", "1.0", "ssl3" from supported_versions (GREASE skipped, unknown values
  // as "0x7f1c"), or the single version named by legacy_version when that extension is absent.
  std::vector<std::string> versions;
  std::vector<std::uint16_t> cipher_suites;  // as sent, GREASE included
  std::vector<std::uint16_t> extensions;     // extension types in the order sent
  std::uint16_t legacy_version = 0;          // e.g. 0x0303
  // Bytes of the input taken by the records that carry the ClientHello (headers included).
  std::size_t bytes_consumed = 0;
};

struct ClientHelloResult {
  ClientHelloStatus status = ClientHelloStatus::need_more;
  // invalid: a stable snake_case reason ("bad_sni", …); too_large: "client_hello_too_large";
  // not_tls: what it looks like instead ("http", "sslv2", "not_handshake").
  std::string error;
  ClientHello hello;  // meaningful only when status == ok
};

// Parses the ClientHello at the start of `bytes` (the first bytes a client sent). Never reads
// outside the span; answers too_large ("client_hello_too_large") as soon as it is known that more
// than max_client_hello_bytes would be needed.
ClientHelloResult parse_client_hello(std::span<const std::uint8_t> bytes);

// True when the bytes start with an HTTP/1.x request method and a space ("GET ", "CONNECT ",
// …) or the HTTP/2 preface ("PRI "): a plain-HTTP client talking to a TLS port.
bool looks_like_http(std::span<const std::uint8_t> bytes);

// The client-facing facts of a parsed ClientHello, for diagnosis (client.no_sni, …).
ClientHelloObservation to_observation(const ClientHello& hello);

}  // namespace tlsprobe::inspect
