// TlsReader: the bounds-checked cursor the hand-written TLS parsers share (ClientHello and
// ServerHello, inspect/client_hello.cpp and inspect/server_hello.cpp), and the names of the
// protocol versions they report. Every read reports failure instead of running past the end
// of its span (STYLE.md habit 5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace tlsprobe::inspect {

class TlsReader {
 public:
  explicit TlsReader(std::span<const std::uint8_t> b = {}) : b_(b) {}
  std::size_t left() const { return b_.size() - pos_; }
  bool empty() const { return pos_ == b_.size(); }
  bool u8(std::uint8_t& v) {
    if (left() < 1) return false;
    v = b_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (left() < 2) return false;
    v = static_cast<std::uint16_t>((b_[pos_] << 8) | b_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool skip(std::size_t n) {
    if (left() < n) return false;
    pos_ += n;
    return true;
  }
  // The next n bytes, consumed.
  bool bytes(std::size_t n, std::span<const std::uint8_t>& out) {
    if (left() < n) return false;
    out = b_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  // A sub-reader over the next n bytes (a length-prefixed vector's body).
  bool sub(std::size_t n, TlsReader& out) {
    if (left() < n) return false;
    out = TlsReader(b_.subspan(pos_, n));
    pos_ += n;
    return true;
  }
  // An opaque vector with an 8- or 16-bit length prefix.
  bool vec8(TlsReader& out) {
    std::uint8_t n = 0;
    return u8(n) && sub(n, out);
  }
  bool vec16(TlsReader& out) {
    std::uint16_t n = 0;
    return u16(n) && sub(n, out);
  }
  std::span<const std::uint8_t> rest() const { return b_.subspan(pos_); }

 private:
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
};

// "1.3", "1.2", "1.1", "1.0", "ssl3" for a ProtocolVersion; unknown values as "0x7f1c".
inline std::string tls_version_name(std::uint16_t v) {
  switch (v) {
    case 0x0304:
      return "1.3";
    case 0x0303:
      return "1.2";
    case 0x0302:
      return "1.1";
    case 0x0301:
      return "1.0";
    case 0x0300:
      return "ssl3";
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
      return buf;
    }
  }
}

}  // namespace tlsprobe::inspect
