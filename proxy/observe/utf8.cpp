#include "proxy/observe/utf8.hpp"

#include <algorithm>
#include <cstdint>

namespace tlsprobe::proxy {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid
// (RFC 3629 section 4: no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  // Nearly every logged string is ASCII (names, codes, messages): copy the ASCII prefix
  // whole and decode byte by byte only from the first byte above 0x7F. Every tunnel's
  // record passes a few KB through here.
  const auto first_non_ascii =
      std::find_if(text.begin(), text.end(), [](char c) { return (c & 0x80) != 0; });
  std::string out(text.begin(), first_non_ascii);
  if (first_non_ascii == text.end()) return out;
  out.reserve(text.size());
  for (std::size_t i = out.size(); i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; });
}

void sanitize_utf8_in_place(std::string& text) {
  if (!is_ascii(text)) text = sanitize_utf8(text);
}

}  // namespace tlsprobe::proxy
