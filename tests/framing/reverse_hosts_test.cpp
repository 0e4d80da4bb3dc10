// Issue 12 item 7: reverse mode diagnoses only the sites it serves. Before, any client-chosen
// Host went upstream as SNI, was probed, announced (sni.default_cert, origin.untrusted) and made
// a metrics series of its own.
#include "framing/harness.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::framing_test;

TEST_CASE("reverse: an unserved Host is 421, never reaches the origin, the prober or the metrics",
          "[framing][reverse]") {
  Bench bench(Mode::reverse);
  bench.client_sni("attacker-1.example");
  const auto got = bench.run("GET / HTTP/1.1\r\nHost: attacker-1.example\r\n\r\n");
  INFO(got);
  CHECK(parse_responses(got) == std::vector<int>{421});
  CHECK(bench.backend().take().empty());  // no connection to the origin at all
  CHECK(bench.reverse().probes() == 0);
  const auto metrics = bench.reverse().metrics().render();
  CHECK(metrics.find("attacker-1.example") == std::string::npos);
  const auto recs = bench.reverse().records();
  REQUIRE(recs.size() == 1);
  CHECK(reverse_test::codes(recs[0]).empty());
  CHECK(reverse_test::str_at(recs[0], "event.reason").find("misdirected") != std::string::npos);
  CHECK(reverse_test::find_path(recs[0], "destination.domain") == nullptr);
}

TEST_CASE("reverse: a Host that is not a host name is 400", "[framing][reverse]") {
  Bench bench(Mode::reverse);
  const auto got = bench.run("GET / HTTP/1.1\r\nHost: <img src=x onerror=alert(9)>\r\n\r\n");
  INFO(got);
  CHECK(parse_responses(got) == std::vector<int>{400});
  CHECK(bench.backend().take().empty());
  CHECK(bench.reverse().probes() == 0);
  const auto missing = bench.run("GET / HTTP/1.1\r\n\r\n");  // HTTP/1.1 needs a Host
  CHECK(parse_responses(missing) == std::vector<int>{400});
}

TEST_CASE("reverse: a served Host is relayed and is the only metrics series",
          "[framing][reverse]") {
  Bench bench(Mode::reverse);
  const auto got = bench.run("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n");
  CHECK(parse_responses(got) == std::vector<int>{200});
  CHECK(bench.backend().take().size() == 1);
  const auto metrics = bench.reverse().metrics().render();
  CHECK(metrics.find("host=\"www.example.test\"") != std::string::npos);
  // A second connection for an unserved name on the same proxy adds nothing.
  bench.client_sni("attacker-2.example");
  CHECK(parse_responses(bench.run("GET / HTTP/1.1\r\nHost: attacker-2.example\r\n\r\n")) ==
        std::vector<int>{421});
  CHECK(bench.reverse().metrics().render().find("attacker-2") == std::string::npos);
}
