// compare_paths (issue 15 item 2, proxy mode): the proxy's upstream chain against the side
// probe's for the same address and SNI.
#include "inspect/compare_paths.hpp"
#include "diagnose_helpers.hpp"

using namespace diagtest;

namespace {

Hierarchy hierarchy_of(const std::string& org, const std::string& ca_name) {
  auto rs = ca_spec(ca_name + " Root");
  rs.organization = org;
  auto root = make_root(rs);
  auto is = ca_spec(ca_name + " Issuing CA");
  is.organization = org;
  auto inter = issue(root, is);
  auto leaf = issue(inter, leaf_spec({kHost}));
  return Hierarchy{std::move(root), std::move(inter), std::move(leaf)};
}

}  // namespace

TEST_CASE("compare_paths: another organisation re-signs one path", "[intercepted][paths]") {
  const auto site = hierarchy_of("Example CA Ltd", "Example");
  const auto zscaler = hierarchy_of("Zscaler Inc.", "Zscaler");
  const auto client_path = handshake(Role::direct, kHost, zscaler.fullchain());
  const auto side = handshake(Role::direct, kHost, site.fullchain());
  const auto fs = compare_paths(client_path, side);
  REQUIRE(fs.size() == 1);
  const auto& f = fs[0];
  CHECK(f.code == codes::tls_intercepted);
  CHECK(f.severity == Severity::warning);
  CHECK(ev(f, "path_differs") == "true");
  CHECK(ev(f, "product") == "Zscaler");
  CHECK(ev(f, "intercepted_path") == "client_path");
  CHECK(ev(f, "side_probe_issuer").find("Example Issuing CA") != std::string::npos);
  CHECK(f.message.find("Example Issuing CA") != std::string::npos);
  CHECK(f.message.find('{') == std::string::npos);

  // The other way round: the side probe is the intercepted one.
  const auto other = compare_paths(side, client_path);
  REQUIRE(other.size() == 1);
  CHECK(ev(other[0], "intercepted_path") == "side_probe");

  // An unknown product still shows up, unnamed.
  const auto unknown = hierarchy_of("Some Middlebox", "Box");
  const auto u = compare_paths(handshake(Role::direct, kHost, unknown.fullchain()), side);
  REQUIRE(u.size() == 1);
  CHECK(ev(u[0], "intercepted_path") == "unknown");
}

TEST_CASE("compare_paths: same leaf, same CA organisation, or a failure: nothing",
          "[intercepted][paths]") {
  const auto site = hierarchy_of("Example CA Ltd", "Example");
  const auto h = handshake(Role::direct, kHost, site.fullchain());
  CHECK(compare_paths(h, h).empty());
  // A second certificate from the same CA (dual RSA/ECDSA, or renewed in between).
  auto second = issue(site.intermediate, leaf_spec({kHost}));
  CHECK(compare_paths(h, handshake(Role::direct, kHost, {second.cert, site.intermediate.cert}))
            .empty());
  auto failed = h;
  failed.outcome = HandshakeOutcome::handshake_failed;
  const auto zscaler = hierarchy_of("Zscaler Inc.", "Zscaler");
  CHECK(compare_paths(failed, handshake(Role::direct, kHost, zscaler.fullchain())).empty());
  auto empty = h;
  empty.chain.clear();
  CHECK(compare_paths(empty, handshake(Role::direct, kHost, zscaler.fullchain())).empty());
}
