// config/exposure.hpp: the startup checks of who can reach the admin listener and the
// warnings for allow-lists that admit everyone (docs/security.md, "Not a door into the host").
#include "config/exposure.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::config;

TEST_CASE("exposure: a non-loopback admin listener needs admin_allow", "[exposure]") {
  CHECK(admin_policy_error("off", {}).empty());
  CHECK(admin_policy_error("127.0.0.1:9464", {}).empty());
  CHECK(admin_policy_error("[::1]:9464", {}).empty());
  CHECK(admin_policy_error("localhost:9464", {}).empty());
  // The review's finding: `--admin 0.0.0.0:P` was accepted with no allow-list.
  const auto err = admin_policy_error("0.0.0.0:9464", {});
  CHECK(err.find("refusing to serve the admin listener on non-loopback address 0.0.0.0:9464") !=
        std::string::npos);
  CHECK(err.find("--admin-allow") != std::string::npos);
  CHECK_FALSE(admin_policy_error("[::]:9464", {}).empty());
  CHECK_FALSE(admin_policy_error("192.0.2.2:9464", {}).empty());
  CHECK(admin_policy_error("0.0.0.0:9464", {"10.0.0.0/8"}).empty());
  CHECK(admin_policy_error("0.0.0.0:9464", {"10.0.0.0/99"}).find("admin_allow \"10.0.0.0/99\"") ==
        0);
  CHECK(admin_policy_error("127.0.0.1:99999", {}).find("admin address") == 0);
}

TEST_CASE("exposure: an allow-list admitting everyone is a warning", "[exposure]") {
  CHECK(admits_everyone("0.0.0.0/0"));
  CHECK(admits_everyone("::/0"));
  CHECK(admits_everyone("10.0.0.0/0"));  // host bits are cleared: still everyone
  CHECK_FALSE(admits_everyone("0.0.0.0/1"));
  CHECK_FALSE(admits_everyone("10.0.0.0/8"));
  CHECK_FALSE(admits_everyone("::/1"));
  CHECK_FALSE(admits_everyone("garbage"));

  Config c;
  CHECK(exposure_warnings(c).empty());
  c.allow = {"10.0.0.0/8"};
  CHECK(exposure_warnings(c).empty());
  c.listen = "0.0.0.0:3128";
  c.allow = {"10.0.0.0/8", "0.0.0.0/0"};
  c.admin_allow = {"::/0"};
  c.allow_destinations = {"127.0.0.1/32", "0.0.0.0/0"};
  const auto w = exposure_warnings(c);
  REQUIRE(w.size() == 3);
  CHECK(w[0] ==
        "allow 0.0.0.0/0 admits every client address: anyone who can reach 0.0.0.0:3128 "
        "can use the proxy");
  CHECK(w[1].rfind("admin_allow ::/0 admits every client address", 0) == 0);
  CHECK(w[2].rfind("allow_destinations 0.0.0.0/0 lets every client reach", 0) == 0);
}

TEST_CASE("exposure: the admin client filter admits loopback and admin_allow only", "[exposure]") {
  const auto none = admin_client_filter({});
  CHECK(none("127.0.0.1"));
  CHECK(none("::1"));
  CHECK_FALSE(none("192.0.2.9"));
  const auto lan = admin_client_filter({"192.0.2.0/24"});
  CHECK(lan("192.0.2.9"));
  CHECK(lan("::ffff:192.0.2.9"));
  CHECK_FALSE(lan("198.51.100.1"));
}

#include "config/load.hpp"

TEST_CASE("exposure: allow_destinations, admin_allow and max_connections_per_client load",
          "[exposure]") {
  const auto c = parse_config(R"(
allow_destinations = ["127.0.0.1/32", "fe80::/10"]
admin_allow = ["192.0.2.0/24"]
[limits]
max_connections_per_client = 64
)",
                              "test.toml");
  CHECK(c.allow_destinations == std::vector<std::string>{"127.0.0.1/32", "fe80::/10"});
  CHECK(c.admin_allow == std::vector<std::string>{"192.0.2.0/24"});
  CHECK(c.limits.max_connections_per_client == 64);
  CHECK(Config{}.limits.max_connections_per_client == 256);
  CHECK_THROWS_AS(parse_config("allow_destinations = [\"127.0.0.1/40\"]\n", "t.toml"), ConfigError);
  CHECK_THROWS_AS(parse_config("[limits]\nmax_connections_per_client = 0\n", "t.toml"),
                  ConfigError);
}
