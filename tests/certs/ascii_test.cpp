#include "certs/ascii.hpp"

#include <catch2/catch.hpp>

#include <string>

using tlsprobe::certs::ascii_iequals;
using tlsprobe::certs::ascii_istarts_with;
using tlsprobe::certs::ascii_lower;

TEST_CASE("ascii_lower folds A-Z only", "[certs][ascii]") {
  CHECK(ascii_lower("WWW.Example.COM") == "www.example.com");
  CHECK(ascii_lower("Content-Type: TEXT/HTML; Charset=UTF-8") ==
        "content-type: text/html; charset=utf-8");
  CHECK(ascii_lower("AbCdEf0123") == "abcdef0123");  // hex digits
  CHECK(ascii_lower("") == "");
  // The letters next to the ranges stay: '@' is 'A' - 1, '[' is 'Z' + 1.
  CHECK(ascii_lower("@AZ[`az{") == "@az[`az{");
  // Bytes >= 0x80 (UTF-8 "É", Latin-1 0xC9) are never folded, whatever the locale.
  CHECK(ascii_lower("\xC3\x89T\xC9") == "\xC3\x89t\xC9");
  // Embedded NULs are kept (name_match rejects them afterwards, it must still see them).
  CHECK(ascii_lower(std::string_view("A\0B", 3)) == std::string("a\0b", 3));
  STATIC_REQUIRE(ascii_lower('Q') == 'q');
  STATIC_REQUIRE(ascii_lower('q') == 'q');
  STATIC_REQUIRE(ascii_lower('5') == '5');
}

TEST_CASE("ascii_iequals and ascii_istarts_with ignore ASCII case only", "[certs][ascii]") {
  CHECK(ascii_iequals("Max-Age", "max-age"));
  CHECK(ascii_iequals("includeSubDomains", "INCLUDESUBDOMAINS"));
  CHECK(ascii_iequals("", ""));
  CHECK_FALSE(ascii_iequals("max-age", "max-ag"));
  CHECK_FALSE(ascii_iequals("max-age", "max_age"));
  CHECK_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9"));  // "É" vs "é": not ASCII, not folded

  CHECK(ascii_istarts_with("HTTP://example.test/", "http://"));
  CHECK(ascii_istarts_with("http://", "http://"));
  CHECK(ascii_istarts_with("anything", ""));
  CHECK_FALSE(ascii_istarts_with("http:/", "http://"));
  CHECK_FALSE(ascii_istarts_with("https://example.test/", "http://"));
}
