// JSON text written left to right into a string, for the connection log's hot path: a
// tunnel's line has some ninety values of its own, and building them as a boost::json tree
// only to serialize it at once cost more than writing the text (proxy_bench: the log line
// was the largest part of tlsprobe's own CPU per new tunnel).
//
// The text is byte for byte what boost::json::serialize writes for the same values: no
// spaces, integers in decimal, and every string escaped by boost::json itself unless it is
// printable ASCII without a quote or backslash (nearly every value), which needs none.
// Strings from outside are made valid UTF-8 first (sanitize_utf8). Keys are the caller's
// own ASCII names and are written as they are.
#pragma once

#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

class JsonTextWriter {
 public:
  explicit JsonTextWriter(std::string& out) : out_(out) {}

  // The top-level object, or an object element of the array being written.
  void begin_object() { open('{'); }
  void begin_object(std::string_view key) {
    write_key(key);
    open_after_key('{');
  }
  void end_object() { close('}'); }
  void begin_array(std::string_view key) {
    write_key(key);
    open_after_key('[');
  }
  void end_array() { close(']'); }

  void string(std::string_view key, std::string_view text) {
    write_key(key);
    append_string(text);
  }
  template <std::integral Number>
  requires(!std::same_as<Number, bool>) void number(std::string_view key, Number n) {
    write_key(key);
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out_.append(digits, end);
  }
  void boolean(std::string_view key, bool b) {
    write_key(key);
    out_ += b ? "true" : "false";
  }
  // A value already serialized (a memoised fragment).
  void raw(std::string_view key, std::string_view json_text) {
    write_key(key);
    out_ += json_text;
  }
  // A string element of the array being written.
  void element(std::string_view text) {
    separate();
    append_string(text);
  }
  void raw_element(std::string_view json_text) {
    separate();
    out_ += json_text;
  }

 private:
  static constexpr std::size_t kMaxDepth = 16;  // records nest four deep
  void separate() {
    if (!first_[depth_]) out_ += ',';
    first_[depth_] = false;
  }
  void write_key(std::string_view key) {
    separate();
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  void open(char c) {
    if (depth_ > 0) separate();
    open_after_key(c);
  }
  void open_after_key(char c) {
    out_ += c;
    first_[++depth_] = true;
  }
  void close(char c) {
    out_ += c;
    --depth_;
  }
  void append_string(std::string_view text);

  std::string& out_;
  std::array<bool, kMaxDepth + 1> first_{true};
  std::size_t depth_ = 0;
};

}  // namespace tlsprobe::proxy
