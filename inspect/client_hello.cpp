#include "inspect/client_hello.hpp"

#include "inspect/tls_reader.hpp"

#include <algorithm>
#include <array>

namespace tlsprobe::inspect {
namespace {

constexpr std::uint8_t record_type_handshake = 22;  // RFC 8446 §5.1 ContentType
constexpr std::uint8_t handshake_client_hello = 1;  // RFC 8446 §4 HandshakeType
constexpr std::size_t record_header_size = 5;
constexpr std::size_t max_record_payload = 1u << 14;  // RFC 8446 §5.1: 2^14
constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint16_t ext_alpn = 16;
constexpr std::uint16_t ext_supported_versions = 43;

bool is_grease(std::uint16_t v) {  // RFC 8701: 0x0A0A, 0x1A1A, … 0xFAFA
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

ClientHelloResult fail(ClientHelloStatus s, std::string why) {
  ClientHelloResult r;
  r.status = s;
  r.error = std::move(why);
  return r;
}

ClientHelloResult too_large() {
  return fail(ClientHelloStatus::too_large, "client_hello_too_large");
}

ClientHelloResult invalid(std::string why) {
  return fail(ClientHelloStatus::invalid, std::move(why));
}

// RFC 6066 §3: a list of (name_type, name); only one host_name, which is ASCII without NUL
// or spaces. Anything else is treated as malformed rather than passed on to logs raw.
bool parse_sni(TlsReader r, ClientHello& h) {
  TlsReader list(std::span<const std::uint8_t>{});
  if (!r.vec16(list) || !r.empty() || list.empty()) return false;
  while (!list.empty()) {
    std::uint8_t type = 0;
    TlsReader name(std::span<const std::uint8_t>{});
    if (!list.u8(type) || !list.vec16(name)) return false;
    if (type != 0) continue;  // unknown name types are skipped (none is defined)
    if (h.sni || name.empty()) return false;
    std::string host;
    for (auto c : name.rest()) {
      if (c <= 0x20 || c >= 0x7f) return false;
      host.push_back(static_cast<char>(c));
    }
    h.sni = std::move(host);
  }
  return true;
}

// RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>.
bool parse_alpn(TlsReader r, ClientHello& h) {
  TlsReader list(std::span<const std::uint8_t>{});
  if (!r.vec16(list) || !r.empty() || list.empty()) return false;
  while (!list.empty()) {
    TlsReader name(std::span<const std::uint8_t>{});
    if (!list.vec8(name) || name.empty()) return false;
    auto bytes = name.rest();
    h.alpn.emplace_back(bytes.begin(), bytes.end());
  }
  return true;
}

// RFC 8446 §4.2.1: ProtocolVersion versions<2..254> in a ClientHello.
bool parse_supported_versions(TlsReader r, ClientHello& h) {
  TlsReader list(std::span<const std::uint8_t>{});
  if (!r.vec8(list) || !r.empty() || list.left() < 2 || list.left() % 2 != 0) return false;
  while (!list.empty()) {
    std::uint16_t v = 0;
    list.u16(v);
    if (!is_grease(v)) h.versions.push_back(tls_version_name(v));
  }
  return true;
}

// Parses the ClientHello body (after the 4-byte handshake header), RFC 8446 §4.1.2.
ClientHelloResult parse_body(std::span<const std::uint8_t> body) {
  ClientHelloResult res;
  ClientHello& h = res.hello;
  TlsReader r(body);
  TlsReader session(std::span<const std::uint8_t>{}), suites(std::span<const std::uint8_t>{}),
      compression(std::span<const std::uint8_t>{});
  if (!r.u16(h.legacy_version) || !r.skip(32)) return invalid("truncated_body");
  if (!r.vec8(session)) return invalid("truncated_body");
  if (session.left() > 32) return invalid("bad_session_id");
  if (!r.vec16(suites)) return invalid("truncated_body");
  if (suites.left() < 2 || suites.left() % 2 != 0) return invalid("bad_cipher_suites");
  while (!suites.empty()) {
    std::uint16_t s = 0;
    suites.u16(s);
    h.cipher_suites.push_back(s);
  }
  if (!r.vec8(compression)) return invalid("truncated_body");
  if (compression.empty()) return invalid("bad_compression_methods");

  bool has_supported_versions = false;
  // Extensions are optional in TLS 1.2 and older hellos (RFC 5246 §7.4.1.2).
  if (!r.empty()) {
    TlsReader exts(std::span<const std::uint8_t>{});
    if (!r.vec16(exts) || !r.empty()) return invalid("bad_extensions_length");
    while (!exts.empty()) {
      std::uint16_t type = 0;
      TlsReader data(std::span<const std::uint8_t>{});
      if (!exts.u16(type) || !exts.vec16(data)) return invalid("bad_extension_length");
      // RFC 8446 §4.2: at most one extension of each type.
      for (auto seen : h.extensions)
        if (seen == type) return invalid("duplicate_extension");
      h.extensions.push_back(type);
      if (type == ext_server_name && !parse_sni(data, h)) return invalid("bad_sni");
      if (type == ext_alpn && !parse_alpn(data, h)) return invalid("bad_alpn");
      if (type == ext_supported_versions) {
        if (!parse_supported_versions(data, h)) return invalid("bad_supported_versions");
        has_supported_versions = true;
      }
    }
  }
  if (!has_supported_versions) h.versions.push_back(tls_version_name(h.legacy_version));
  res.status = ClientHelloStatus::ok;
  return res;
}

}  // namespace

std::string_view to_string(ClientHelloStatus s) {
  switch (s) {
    case ClientHelloStatus::need_more:
      return "need_more";
    case ClientHelloStatus::not_tls:
      return "not_tls";
    case ClientHelloStatus::invalid:
      return "invalid";
    case ClientHelloStatus::too_large:
      return "too_large";
    case ClientHelloStatus::ok:
      return "ok";
  }
  return "invalid";
}

ClientHelloResult parse_client_hello(std::span<const std::uint8_t> bytes) {
  constexpr auto need_more = ClientHelloStatus::need_more;
  std::vector<std::uint8_t> handshake;  // the message reassembled from record fragments
  std::size_t message_size = 0;         // 4 + body length, once the header is known
  std::size_t off = 0;
  for (;;) {
    const std::size_t avail = bytes.size() - off;
    if (avail == 0) return fail(need_more, "");
    const bool first = off == 0;
    // The first record decides "is this TLS at all"; a later record that is not a handshake
    // record (an alert, application data) before the hello is complete is a protocol error.
    if (bytes[off] != record_type_handshake) {
      if (!first) return invalid("unexpected_record_type");
      if (bytes[0] & 0x80) return fail(ClientHelloStatus::not_tls, "sslv2");
      return fail(ClientHelloStatus::not_tls, looks_like_http(bytes) ? "http" : "not_handshake");
    }
    // Record version: 0x0300..0x0304 (RFC 8446 §5.1 legacy_record_version).
    if ((avail >= 2 && bytes[off + 1] != 0x03) || (avail >= 3 && bytes[off + 2] > 0x04)) {
      if (!first) return invalid("bad_record_version");
      return fail(ClientHelloStatus::not_tls, "not_handshake");
    }
    if (off + record_header_size > max_client_hello_bytes) return too_large();
    if (avail < record_header_size) return fail(need_more, "");
    const std::size_t len = static_cast<std::size_t>(bytes[off + 3] << 8 | bytes[off + 4]);
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
    if (len == 0) return invalid("zero_length_record");
    if (len > max_record_payload) return invalid("record_overflow");
    const std::size_t record_end = off + record_header_size + len;
    const std::size_t take = std::min(len, avail - record_header_size);
    auto payload = bytes.subspan(off + record_header_size, take);
    handshake.insert(handshake.end(), payload.begin(), payload.end());

    // The handshake header: type (1 byte) and body length (24 bits), RFC 8446 §4.
    if (!handshake.empty() && handshake[0] != handshake_client_hello)
      return invalid("not_client_hello");
    if (message_size == 0 && handshake.size() >= 4) {
      message_size = 4 + (static_cast<std::size_t>(handshake[1]) << 16 |
                          static_cast<std::size_t>(handshake[2]) << 8 | handshake[3]);
      // Known too large before reading it all: at least one record header is needed too.
      if (message_size + record_header_size > max_client_hello_bytes) return too_large();
    }
    if (record_end > max_client_hello_bytes) return too_large();
    if (take < len) return fail(need_more, "");
    if (message_size != 0 && handshake.size() >= message_size) {
      auto res = parse_body(std::span<const std::uint8_t>(handshake).subspan(4, message_size - 4));
      res.hello.bytes_consumed = record_end;
      return res;
    }
    off = record_end;
  }
}

bool looks_like_http(std::span<const std::uint8_t> bytes) {
  static constexpr std::array<std::string_view, 10> methods = {
      "GET ",   "POST ",    "HEAD ",  "PUT ",     "DELETE ",
      "PATCH ", "OPTIONS ", "TRACE ", "CONNECT ", "PRI "};
  for (auto m : methods) {
    if (bytes.size() < m.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < m.size() && match; ++i)
      match = bytes[i] == static_cast<std::uint8_t>(m[i]);
    if (match) return true;
  }
  return false;
}

ClientHelloObservation to_observation(const ClientHello& hello) {
  ClientHelloObservation o;
  o.sni = hello.sni;
  o.alpn = hello.alpn;
  o.versions = hello.versions;
  return o;
}

}  // namespace tlsprobe::inspect
