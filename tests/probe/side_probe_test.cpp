// The side probe's per-connection part (proxy/probe/side_probe.hpp): client findings are
// memoised by what the ClientHello and the CONNECT said, so that the tunnels of one client
// cost one diagnosis, never a stale answer for another hello.
#include "proxy/probe/side_probe.hpp"
#include "inspect/codes.hpp"
#include "inspect/diagnose.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;

namespace {

inspect::ClientHelloObservation hello_for(std::optional<std::string> sni, std::string connect) {
  inspect::ClientHelloObservation h;
  h.sni = std::move(sni);
  h.alpn = {"h2", "http/1.1"};
  h.versions = {"1.3", "1.2"};
  h.connect_host = std::move(connect);
  return h;
}

bool has_code(const proxy::FindingList& fs, std::string_view code) {
  return std::any_of(fs.begin(), fs.end(), [&](const auto& f) { return f.code == code; });
}

}  // namespace

TEST_CASE("client findings are diagnosed once per distinct hello, host and port", "[side_probe]") {
  int diagnosed = 0;
  proxy::SideProbe side(
      [](const proxy::SideProbeRequest&, std::function<void(inspect::Observations)>) {},
      [&diagnosed](const inspect::Observations& obs) {
        ++diagnosed;
        return inspect::diagnose(obs, {});
      },
      std::chrono::seconds(60));

  const auto mismatch = hello_for("www.example.test", "api.example.test:443");
  const auto first = side.client_findings(mismatch, "api.example.test", 443);
  CHECK(has_code(first, inspect::codes::client_sni_host_mismatch));
  CHECK(diagnosed == 1);
  const auto again = side.client_findings(mismatch, "api.example.test", 443);
  CHECK(diagnosed == 1);  // memoised
  REQUIRE(again.size() == first.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(again[i].code == first[i].code);
    CHECK(again[i].subject == first[i].subject);
    CHECK(again[i].evidence == first[i].evidence);
    CHECK(again.refs()[i] == first.refs()[i]);  // the same shared finding, not a copy
  }

  // Anything the diagnosis reads makes another entry, with its own answer.
  const auto matching = hello_for("api.example.test", "api.example.test:443");
  CHECK(side.client_findings(matching, "api.example.test", 443).empty());
  CHECK(diagnosed == 2);
  const auto no_sni = hello_for(std::nullopt, "api.example.test:443");
  CHECK(has_code(side.client_findings(no_sni, "api.example.test", 443),
                 inspect::codes::client_no_sni));
  CHECK(diagnosed == 3);
  const auto empty_sni = hello_for(std::string(), "api.example.test:443");
  side.client_findings(empty_sni, "api.example.test", 443);
  CHECK(diagnosed == 4);  // an empty SNI is not "no SNI" in the key
  const auto on_8443 = side.client_findings(mismatch, "api.example.test", 8443);
  CHECK(diagnosed == 5);
  REQUIRE_FALSE(on_8443.empty());
  CHECK(on_8443.front().subject.find("8443") != std::string::npos);
  auto other_alpn = mismatch;
  other_alpn.alpn = {"http/1.1"};
  side.client_findings(other_alpn, "api.example.test", 443);
  CHECK(diagnosed == 6);
  auto with_host = mismatch;
  with_host.http_host = "www.example.test";
  side.client_findings(with_host, "api.example.test", 443);
  CHECK(diagnosed == 7);
  side.client_findings(mismatch, "api.example.test", 443);
  CHECK(diagnosed == 7);
}
