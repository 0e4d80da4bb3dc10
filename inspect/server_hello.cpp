#include "inspect/server_hello.hpp"

#include "certs/ossl.hpp"
#include "inspect/tls_reader.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

namespace tlsprobe::inspect {
namespace {

constexpr std::uint8_t record_change_cipher_spec = 20;  // RFC 8446 §5.1 ContentType
constexpr std::uint8_t record_alert = 21;
constexpr std::uint8_t record_handshake = 22;
constexpr std::uint8_t handshake_server_hello = 2;  // RFC 8446 §4 HandshakeType
constexpr std::size_t record_header_size = 5;
constexpr std::size_t handshake_header_size = 4;
constexpr std::size_t max_record_payload = 1u << 14;  // RFC 8446 §5.1: 2^14
constexpr std::uint16_t ext_supported_versions = 43;

// RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256 of
// "HelloRetryRequest".
constexpr std::array<std::uint8_t, 32> hello_retry_random = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

ServerHelloResult fail(ServerHelloStatus s, std::string why) {
  ServerHelloResult r;
  r.status = s;
  r.error = std::move(why);
  return r;
}

ServerHelloResult invalid(std::string why) {
  return fail(ServerHelloStatus::invalid, std::move(why));
}

// One parsed ServerHello body (after the 4-byte handshake header); empty error = ok.
struct Body {
  std::string error;
  bool retry = false;
  std::uint16_t legacy_version = 0, selected_version = 0, cipher_suite = 0;
};

// RFC 8446 §4.1.3 (RFC 5246 §7.4.1.3 for TLS <= 1.2, where extensions are optional).
Body parse_body(std::span<const std::uint8_t> body) {
  Body b;
  TlsReader r(body);
  std::span<const std::uint8_t> random;
  TlsReader session;
  std::uint8_t compression = 0;
  if (!r.u16(b.legacy_version) || !r.bytes(32, random) || !r.vec8(session) ||
      !r.u16(b.cipher_suite) || !r.u8(compression)) {
    b.error = "truncated_body";
    return b;
  }
  if (session.left() > 32) {
    b.error = "bad_session_id";
    return b;
  }
  b.retry = std::equal(random.begin(), random.end(), hello_retry_random.begin());
  if (r.empty()) return b;
  TlsReader exts;
  if (!r.vec16(exts) || !r.empty()) {
    b.error = "bad_extensions_length";
    return b;
  }
  std::vector<std::uint16_t> seen;
  while (!exts.empty()) {
    std::uint16_t type = 0;
    TlsReader data;
    if (!exts.u16(type) || !exts.vec16(data)) {
      b.error = "bad_extension_length";
      return b;
    }
    // RFC 8446 §4.2: at most one extension of each type.
    if (std::find(seen.begin(), seen.end(), type) != seen.end()) {
      b.error = "duplicate_extension";
      return b;
    }
    seen.push_back(type);
    if (type == ext_supported_versions) {
      // §4.2.1: in a ServerHello (and a HelloRetryRequest) the one selected_version.
      if (!data.u16(b.selected_version) || !data.empty() || b.selected_version == 0) {
        b.error = "bad_supported_versions";
        return b;
      }
    }
  }
  return b;
}

}  // namespace

std::string_view to_string(ServerHelloStatus s) {
  switch (s) {
    case ServerHelloStatus::need_more:
      return "need_more";
    case ServerHelloStatus::not_tls:
      return "not_tls";
    case ServerHelloStatus::invalid:
      return "invalid";
    case ServerHelloStatus::alert:
      return "alert";
    case ServerHelloStatus::too_large:
      return "too_large";
    case ServerHelloStatus::ok:
      return "ok";
  }
  return "invalid";
}

ServerHelloResult parse_server_hello(std::span<const std::uint8_t> input) {
  // Never look past the bound: what is beyond it cannot change the answer.
  const auto bytes = input.first(std::min(input.size(), max_server_hello_bytes));
  const auto need_more = [&] {
    return bytes.size() == max_server_hello_bytes
               ? fail(ServerHelloStatus::too_large, "server_hello_too_large")
               : fail(ServerHelloStatus::need_more, "");
  };
  std::vector<std::uint8_t> handshake;  // handshake messages reassembled from record fragments
  std::size_t message_start = 0;        // where the next message begins in `handshake`
  bool retried = false;
  std::size_t off = 0;
  for (;;) {
    const std::size_t avail = bytes.size() - off;
    if (avail == 0) return need_more();
    const bool first = off == 0;
    const std::uint8_t type = bytes[off];
    // The first record decides "is this TLS at all": a server's first record is a handshake
    // record, or an alert when it refuses the ClientHello.
    if (first && type != record_handshake && type != record_alert)
      return fail(ServerHelloStatus::not_tls, "not_tls");
    // Record version: 0x0300..0x0304 (RFC 8446 §5.1 legacy_record_version).
    if ((avail >= 2 && bytes[off + 1] != 0x03) || (avail >= 3 && bytes[off + 2] > 0x04)) {
      if (first) return fail(ServerHelloStatus::not_tls, "not_tls");
      return invalid("bad_record_version");
    }
    if (avail < record_header_size) return need_more();
    const std::size_t len = static_cast<std::size_t>(bytes[off + 3] << 8 | bytes[off + 4]);
    if (len > max_record_payload) return invalid("record_overflow");
    const std::size_t take = std::min(len, avail - record_header_size);
    const auto payload = bytes.subspan(off + record_header_size, take);
    const bool between_messages = message_start == handshake.size();

    if (type == record_alert) {
      // RFC 8446 §6: level (1 byte), description (1 byte).
      if (len != 2) return invalid("bad_alert");
      if (take < len) return need_more();
      return fail(ServerHelloStatus::alert, "alert_" + std::to_string(payload[1]));
    }
    if (type == record_change_cipher_spec) {
      // §D.4: a TLS 1.3 server in middlebox compatibility mode sends one right after its
      // first handshake message, here a HelloRetryRequest; it carries the single byte 1.
      if (!retried || !between_messages || len != 1) return invalid("unexpected_record_type");
      if (take < len) return need_more();
      if (payload[0] != 1) return invalid("bad_change_cipher_spec");
      off += record_header_size + len;
      continue;
    }
    if (type != record_handshake) return invalid("unexpected_record_type");
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
    if (len == 0) return invalid("zero_length_record");

    const std::size_t record_start_in_handshake = handshake.size();
    handshake.insert(handshake.end(), payload.begin(), payload.end());
    // Every complete message so far: a HelloRetryRequest then the ServerHello.
    while (handshake.size() > message_start) {
      if (handshake[message_start] != handshake_server_hello) return invalid("not_server_hello");
      if (handshake.size() - message_start < handshake_header_size) break;
      const std::size_t body_len = static_cast<std::size_t>(handshake[message_start + 1]) << 16 |
                                   static_cast<std::size_t>(handshake[message_start + 2]) << 8 |
                                   handshake[message_start + 3];
      const std::size_t message_end = message_start + handshake_header_size + body_len;
      if (handshake.size() < message_end) break;
      const auto body = parse_body(std::span<const std::uint8_t>(handshake).subspan(
          message_start + handshake_header_size, body_len));
      if (!body.error.empty()) return invalid(body.error);
      if (body.retry) {
        // §4.1.4: at most one HelloRetryRequest per handshake.
        if (retried) return invalid("second_hello_retry_request");
        retried = true;
        message_start = message_end;
        continue;
      }
      ServerHelloResult res;
      res.status = ServerHelloStatus::ok;
      auto& h = res.hello;
      h.version = tls_version_name(body.selected_version != 0 ? body.selected_version
                                                              : body.legacy_version);
      h.cipher_suite = body.cipher_suite;
      h.cipher = cipher_suite_name(body.cipher_suite);
      h.hello_retry_request = retried;
      h.bytes_consumed = off + record_header_size + (message_end - record_start_in_handshake);
      return res;
    }
    if (take < len) return need_more();
    off += record_header_size + len;
  }
}

std::string cipher_suite_name(std::uint16_t id) {
  // SSL_CIPHER_find needs an SSL; it only looks the id up in OpenSSL's static tables (every
  // suite OpenSSL knows, whatever this SSL would offer), so one shared, never-used SSL serves.
  static const certs::SslCtxPtr ctx{SSL_CTX_new(TLS_method())};
  static const certs::SslPtr ssl{ctx ? SSL_new(ctx.get()) : nullptr};
  // Every tunnel's ServerHello is named here, and a server picks the same suite each time: the
  // last answer is kept (OpenSSL's names are static strings), sparing its table searches.
  thread_local std::uint16_t last_id = 0;
  thread_local const char* last_name = nullptr;
  if (last_name != nullptr && id == last_id) return last_name;
  const unsigned char wire[2] = {static_cast<unsigned char>(id >> 8),
                                 static_cast<unsigned char>(id & 0xff)};
  const SSL_CIPHER* cipher = ssl ? SSL_CIPHER_find(ssl.get(), wire) : nullptr;
  const char* name = cipher != nullptr ? SSL_CIPHER_standard_name(cipher) : nullptr;
  if (name != nullptr) {
    last_id = id;
    last_name = name;
    return name;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(id));
  return buf;
}

}  // namespace tlsprobe::inspect
