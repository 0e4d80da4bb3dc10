#include "proxy/observe/json_text_writer.hpp"

#include "proxy/observe/utf8.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include <algorithm>

namespace tlsprobe::proxy {

namespace {

// Printable ASCII without '"' or '\\': JSON needs no escape for it.
bool needs_no_escape(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b >= 0x20 && b < 0x80 && c != '"' && c != '\\';
  });
}

}  // namespace

void JsonTextWriter::append_string(std::string_view text) {
  if (needs_no_escape(text)) {
    out_ += '"';
    out_ += text;
    out_ += '"';
    return;
  }
  if (is_ascii(text)) {
    out_ += boost::json::serialize(boost::json::string_view(text.data(), text.size()));
    return;
  }
  const std::string valid = sanitize_utf8(text);
  out_ += boost::json::serialize(boost::json::string_view(valid.data(), valid.size()));
}

}  // namespace tlsprobe::proxy
