// Valid UTF-8 for every text tlsprobe writes into JSON (log lines, metrics labels, admin
// answers): certificate fields and request data are hostile input.
#pragma once

#include <string>
#include <string_view>

namespace tlsprobe::proxy {

// `text` with every invalid UTF-8 sequence (bad lead byte, truncated, overlong, surrogate,
// above U+10FFFF) replaced by U+FFFD; valid input is returned unchanged.
std::string sanitize_utf8(std::string_view text);

// True when every byte is below 0x80: the text is valid UTF-8 as it is.
bool is_ascii(std::string_view text);

// `text` made valid UTF-8 in place; ASCII (nearly every value) is left as it is, uncopied.
void sanitize_utf8_in_place(std::string& text);

}  // namespace tlsprobe::proxy
