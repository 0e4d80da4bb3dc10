// TlsRecordWalker: follows the record headers of one direction of a relayed TLS stream, from
// its first byte, without copying anything: each piece of bytes is walked from header to
// header (5 bytes: content type, version, length) and the payloads are skipped. A header split
// across pieces is kept (at most 4 bytes) until its last byte comes. Once the bytes stop
// looking like TLS records (a version byte that is not 3, a length no record may have) the
// walker is lost and reports nothing more: it never guesses where the next header is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tlsprobe::proxy {

class TlsRecordWalker {
 public:
  // RFC 5246 §6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes (TLS 1.3 allows
  // less, 2^14 + 256); anything longer is not a record.
  static constexpr std::size_t max_record_length = (1u << 14) + 2048;

  // Walks the next bytes of the stream; calls on_record(type, length) for each header as it
  // completes. Cost: one step per record header in the piece.
  template <class OnRecord>
  void feed(const std::uint8_t* data, std::size_t n, OnRecord&& on_record) {
    std::size_t pos = 0;
    while (!lost_ && pos < n) {
      if (skip_ > 0) {  // inside a payload: jump over what this piece holds of it
        const std::size_t step = skip_ < n - pos ? skip_ : n - pos;
        skip_ -= step;
        pos += step;
        continue;
      }
      header_[header_len_++] = data[pos++];
      if (header_len_ < header_.size()) continue;
      header_len_ = 0;
      const std::size_t length = static_cast<std::size_t>(header_[3]) << 8 | header_[4];
      if (header_[1] != 0x03 || length > max_record_length) {
        lost_ = true;
        return;
      }
      skip_ = length;
      on_record(header_[0], length);
    }
  }

  bool lost() const { return lost_; }

 private:
  std::array<std::uint8_t, 5> header_{};
  std::size_t header_len_ = 0;  // bytes of a header read so far
  std::size_t skip_ = 0;        // payload bytes of the current record still to come
  bool lost_ = false;
};

}  // namespace tlsprobe::proxy
