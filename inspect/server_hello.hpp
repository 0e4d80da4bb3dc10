// ServerHello parser: what a server chose (protocol version, cipher suite) read from the first
// bytes it sent on a connection tlsprobe relays without terminating (a CONNECT tunnel).
//
// The same documented exception to "never parse TLS by hand" as the ClientHello parser
// (inspect/client_hello.hpp): the ServerHello is cleartext in TLS 1.2 and 1.3, and it is the
// only place a tunnel can learn what the client's connection negotiated. Sans-io and bounded:
// given the bytes read so far it answers need_more, not_tls, invalid, alert, too_large or ok,
// never reads outside the span and never looks past max_server_hello_bytes.
//
// A HelloRetryRequest (RFC 8446 §4.1.4: a ServerHello whose random is the special value) is
// not the server's choice yet: the parser notes it and reads on to the ServerHello that follows
// (after the client's second ClientHello, and an optional ChangeCipherSpec record).
//
// Followed: RFC 8446 §5.1 (records), §4.1.3 (ServerHello), §4.1.4 (HelloRetryRequest),
// §4.2.1 (supported_versions), §D.4 (middlebox compatibility ChangeCipherSpec);
// RFC 5246 §7.4.1.3 (TLS 1.2 ServerHello, extensions optional).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tlsprobe::inspect {

// The most input bytes the parser looks at: a HelloRetryRequest's record, the optional
// ChangeCipherSpec record (6 bytes) and the ServerHello's record, each at most 2^14 + 5.
// A ServerHello is always the server's first message and small (under 2 KiB even with a
// post-quantum key share), so a real one never comes near this.
inline constexpr std::size_t max_server_hello_bytes = 2 * ((1u << 14) + 5) + 6;

enum class ServerHelloStatus {
  need_more,  // a valid prefix so far: call again with more bytes (same start)
  not_tls,    // the first bytes are not a TLS record
  invalid,    // TLS framing but a malformed ServerHello; see `error`
  alert,      // the server answered with an alert instead (it refused the handshake)
  too_large,  // no ServerHello within max_server_hello_bytes
  ok,         // parsed; `hello` is filled in
};

std::string_view to_string(ServerHelloStatus s);

struct ServerHello {
  // The version the server chose: supported_versions' selected_version when present (TLS 1.3
  // always sends it), else legacy_version. "1.3", "1.2", "1.1", "1.0", "ssl3" or "0x7f1c".
  std::string version;
  std::uint16_t cipher_suite = 0;  // as on the wire, e.g. 0x1301
  // IANA name of the suite (TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
  // from OpenSSL's table (cipher_suite_name); "0xc0ff" for a suite OpenSSL does not know.
  std::string cipher;
  bool hello_retry_request = false;  // a HelloRetryRequest came first
  // Bytes of the input up to the last byte of the (final) ServerHello message.
  std::size_t bytes_consumed = 0;
};

struct ServerHelloResult {
  ServerHelloStatus status = ServerHelloStatus::need_more;
  // invalid: a stable snake_case reason ("bad_extensions_length", …); not_tls: "not_tls";
  // too_large: "server_hello_too_large"; alert: "alert_<description>", e.g. "alert_40".
  std::string error;
  ServerHello hello;  // meaningful only when status == ok
};

// Parses the server's first flight at the start of `bytes` up to its ServerHello.
ServerHelloResult parse_server_hello(std::span<const std::uint8_t> bytes);

// The IANA name OpenSSL gives a cipher suite id (SSL_CIPHER_find, SSL_CIPHER_standard_name);
// "0x" and four hex digits when OpenSSL does not know it.
std::string cipher_suite_name(std::uint16_t id);

}  // namespace tlsprobe::inspect
