// Forward mode (absolute-form http:// through the proxy) relays each message as it arrives:
// a response that pauses reaches the client before the origin finishes, chunked framing
// that arrives in pieces stays intact, large uploads go through and Expect: 100-continue
// does not make the client wait for its expect timeout.
#include "pki/test_pki.hpp"
#include "proxy_fixture.hpp"
#include "support/proxy_origin.hpp"
#include "support/relay_peers.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;
using namespace tlsprobe::relaytest;

TEST_CASE("forward relay: a response that pauses reaches the client before the origin finishes") {
  PausingResponse scenario;
  scenario.chunked = GENERATE(false, true);
  ScriptedOrigin origin([&](PlainIo& io) { scenario.serve(io); });
  RunningProxy proxy(test_config());
  const int fd = connect_loopback(proxy.port());
  REQUIRE(fd >= 0);
  PlainIo client(fd);
  REQUIRE(client.write("GET http://" + origin.address() +
                       "/events HTTP/1.1\r\nHost: " + origin.address() + "\r\n\r\n"));
  const auto seen = scenario.read(client);
  ::close(fd);
  INFO("chunked=" << scenario.chunked << " first after " << seen.first_after.count() << " ms");
  REQUIRE(seen.first_in_time);
  CHECK_FALSE(scenario.origin_gave_up);
  CHECK(seen.head.rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(seen.body);
  CHECK(*seen.body == std::string(PausingResponse::kFirst) + std::string(PausingResponse::kRest));
}

TEST_CASE("forward relay: a chunked response whose framing arrives apart stays intact") {
  ScriptedOrigin origin([](PlainIo& io) { SplitChunks::serve(io); });
  RunningProxy proxy(test_config());
  const auto r = curl({"--max-time", "10", "-x", proxy.url(), "-D", "/dev/stderr",
                       "http://" + origin.address() + "/split"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == SplitChunks::body());
}

TEST_CASE(
    "forward relay: a 3 MiB upload with Expect: 100-continue is neither dropped nor stalled") {
  testsupport::ProxyOrigin origin;
  RunningProxy proxy(test_config());
  const std::string body = testsupport::pattern_bytes(3 * 1024 * 1024);
  testpki::TempPemFile file(body);
  // --expect100-timeout 5: a proxy that leaves the 100 to the origin (which never sends one)
  // makes curl wait the full 5 s before it sends the body.
  const auto r = curl({"--max-time", "15", "-x", proxy.url(), "-H", "Expect: 100-continue",
                       "--expect100-timeout", "5", "-H", "Content-Type: application/octet-stream",
                       "--data-binary", "@" + file.path(), "http://" + origin.address() + "/echo"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.size() == body.size());
  CHECK(sha256_hex(r.out) == sha256_hex(body));
  CHECK(r.elapsed_ms < 3000);
  const auto reqs = origin.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].count("expect") == 0);  // answered by the proxy
}

TEST_CASE("forward relay: an upload on a later keep-alive request is not refused by size") {
  testsupport::ProxyOrigin origin;
  RunningProxy proxy(test_config());
  const std::string body = testsupport::pattern_bytes(3 * 1024 * 1024);
  testpki::TempPemFile file(body);
  const auto base = "http://" + origin.address();
  const auto r =
      curl({"--max-time", "15", "-x", proxy.url(), base + "/bytes/10", "--next", "-x", proxy.url(),
            "-H", "Expect:", "--data-binary", "@" + file.path(), base + "/echo"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == testsupport::pattern_bytes(10) + body);
  CHECK(origin.connections() == 1);
}
