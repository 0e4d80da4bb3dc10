// The revocation and Certificate Transparency keys (issue 16): read, defaults, bad types.
#include "config/load.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::config;

TEST_CASE("revocation, crl_files and ct_log_list are read; defaults are off and empty",
          "[config][revocation]") {
  const auto none = parse_config("", "t.toml");
  CHECK_FALSE(none.revocation);
  CHECK(none.crl_files.empty());
  CHECK(none.ct_log_list.empty());
  const auto c = parse_config(
      "revocation = true\ncrl_files = [\"a.crl\", \"b.pem\"]\nct_log_list = \"log_list.json\"\n",
      "t.toml");
  CHECK(c.revocation);
  CHECK(c.crl_files == std::vector<std::string>{"a.crl", "b.pem"});
  CHECK(c.ct_log_list == "log_list.json");
}

TEST_CASE("revocation keys with the wrong type are errors at the key", "[config][revocation]") {
  for (const char* text : {"revocation = \"yes\"\n", "crl_files = \"a.crl\"\n",
                           "crl_files = [\"\"]\n", "ct_log_list = 3\n"}) {
    INFO(text);
    try {
      parse_config(text, "t.toml");
      FAIL("no error");
    } catch (const ConfigError& e) {
      CHECK(e.line == 1);
    }
  }
}
