// proxy/observe/json_text_writer: the log line's text is what boost::json::serialize writes
// for the same values.
#include "proxy/observe/json_text_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace json = boost::json;
using tlsprobe::proxy::JsonTextWriter;

TEST_CASE("json text writer: nesting, separators, numbers and booleans", "[json_text_writer]") {
  std::string out;
  JsonTextWriter w(out);
  w.begin_object();
  w.string("a", "x");
  w.begin_object("empty");
  w.end_object();
  w.begin_array("list");
  w.element("one");
  w.begin_object();
  w.number("n", -7);
  w.end_object();
  w.raw_element("{\"pre\":true}");
  w.element("two");
  w.end_array();
  w.begin_array("none");
  w.end_array();
  w.number("big", std::numeric_limits<std::uint64_t>::max());
  w.number("small", std::numeric_limits<std::int64_t>::min());
  w.number("port", std::uint16_t{443});
  w.boolean("yes", true);
  w.boolean("no", false);
  w.raw("fragment", "[1,2]");
  w.end_object();
  CHECK(out ==
        "{\"a\":\"x\",\"empty\":{},\"list\":[\"one\",{\"n\":-7},{\"pre\":true},\"two\"],"
        "\"none\":[],\"big\":18446744073709551615,\"small\":-9223372036854775808,\"port\":443,"
        "\"yes\":true,\"no\":false,\"fragment\":[1,2]}");
  CHECK(json::serialize(json::parse(out)) == out);
}

TEST_CASE("json text writer: strings are escaped as boost::json escapes them",
          "[json_text_writer]") {
  const std::string hostile[] = {
      "plain text, nothing to escape: /<>&'",
      "\"quoted\" and back\\slash",
      std::string("controls \x01\x07\x08\x09\x0a\x0c\x0d\x1b\x1f and DEL \x7f"),
      std::string("nul \0 inside", 12),
      "caf\xc3\xa9 \xe2\x80\xae right-to-left override",
  };
  for (const auto& text : hostile) {
    std::string out;
    JsonTextWriter w(out);
    w.begin_object();
    w.string("k", text);
    w.end_object();
    json::object expected;
    expected["k"] = text;
    CHECK(out == json::serialize(expected));
  }
  // Invalid UTF-8 becomes U+FFFD, so the line stays valid JSON.
  std::string out;
  JsonTextWriter w(out);
  w.begin_object();
  w.begin_array("names");
  w.element("bad \xff\xfe end");
  w.end_array();
  w.end_object();
  CHECK(out == "{\"names\":[\"bad \xEF\xBF\xBD\xEF\xBF\xBD end\"]}");
  CHECK_NOTHROW(json::parse(out));
}
