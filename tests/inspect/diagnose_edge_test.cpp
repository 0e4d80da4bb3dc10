// edge.stale, edge.mismatch and origin.untrusted from diagnose().
#include "diagnose_helpers.hpp"

using namespace diagtest;

namespace {

struct Cdn {
  Issued root, inter;
  certs::TrustStore trust;
};

Cdn cdn(const std::string& ca = "Edge") {
  auto root = make_root(ca_spec(ca + " Root"));
  auto inter = issue(root, ca_spec(ca + " Intermediate"));
  auto trust = trust_root(root);
  return Cdn{std::move(root), std::move(inter), std::move(trust)};
}

// A leaf for kHost valid from `from_days` to `to_days` relative to fixed_now().
certs::Chain leaf_chain(const Cdn& c, int from_days, int to_days,
                        std::vector<std::string> names = {kHost}) {
  auto spec = leaf_spec(std::move(names));
  spec.not_before = fixed_now() + std::chrono::days(from_days);
  spec.not_after = fixed_now() + std::chrono::days(to_days);
  return {issue(c.inter, spec).cert, c.inter.cert};
}

HandshakeObservation edge(certs::Chain chain, std::string address = "198.51.100.7:443") {
  return handshake(Role::edge, kHost, std::move(chain), std::move(address));
}
HandshakeObservation origin(certs::Chain chain) {
  return handshake(Role::origin, kHost, std::move(chain), "10.0.0.5:443");
}

}  // namespace

TEST_CASE("same certificate on edge and origin: no edge finding", "[diagnose][edge]") {
  auto c = cdn();
  auto chain = leaf_chain(c, -30, 60);
  CHECK(run(observations(kHost, {edge(chain), origin(chain)}), options(c.trust)).empty());
}

TEST_CASE("edge.stale (warning) when the origin was renewed and the edge still has the old one",
          "[diagnose][edge]") {
  auto c = cdn();
  auto old_chain = leaf_chain(c, -60, 30);
  auto new_chain = leaf_chain(c, -1, 89);
  auto fs = run(observations(kHost, {edge(old_chain), origin(new_chain)}), options(c.trust));
  REQUIRE(count(fs, codes::edge_stale) == 1);
  auto* f = find(fs, codes::edge_stale);
  CHECK(f->severity == Severity::warning);
  CHECK(f->role == Role::edge);
  CHECK(ev(*f, "edge_sha256") == old_chain[0].sha256_hex());
  CHECK(ev(*f, "origin_sha256") == new_chain[0].sha256_hex());
  CHECK(ev(*f, "edge_not_before") == certs::format_rfc3339(old_chain[0].not_before()));
  CHECK(ev(*f, "origin_not_before") == certs::format_rfc3339(new_chain[0].not_before()));
  CHECK(ev(*f, "edge_not_after") == certs::format_rfc3339(old_chain[0].not_after()));
  CHECK(ev(*f, "edge_address") == "198.51.100.7:443");
  CHECK(ev(*f, "origin_address") == "10.0.0.5:443");
  CHECK(ev(*f, "edge_days_left") == "30");
  CHECK(count(fs, codes::edge_mismatch) == 0);
  CHECK_FALSE(has_error(fs));
}

TEST_CASE("edge.stale is an error when the edge's copy is expired or about to expire",
          "[diagnose][edge]") {
  auto c = cdn();
  auto new_chain = leaf_chain(c, -1, 89);
  auto fs =
      run(observations(kHost, {edge(leaf_chain(c, -85, 5)), origin(new_chain)}), options(c.trust));
  REQUIRE(find(fs, codes::edge_stale));
  CHECK(find(fs, codes::edge_stale)->severity == Severity::error);
  CHECK(count(fs, codes::cert_expiring_soon) == 1);  // the edge's own handshake says it too

  auto fs2 =
      run(observations(kHost, {edge(leaf_chain(c, -95, -2)), origin(new_chain)}), options(c.trust));
  REQUIRE(find(fs2, codes::edge_stale));
  CHECK(find(fs2, codes::edge_stale)->severity == Severity::error);
  CHECK(ev(*find(fs2, codes::edge_stale), "edge_expired") == "true");
  REQUIRE(find(fs2, codes::cert_expired));
  CHECK(find(fs2, codes::cert_expired)->role == Role::edge);
}

TEST_CASE("edge.mismatch when the edge serves other names (edge_cert = same)", "[diagnose][edge]") {
  auto c = cdn();
  auto origin_chain = leaf_chain(c, -30, 60);
  auto edge_chain = leaf_chain(c, -10, 80, {kHost, "cdn-customer-42.example.net"});
  auto fs = run(observations(kHost, {edge(edge_chain), origin(origin_chain)}), options(c.trust));
  REQUIRE(count(fs, codes::edge_mismatch) == 1);
  auto* f = find(fs, codes::edge_mismatch);
  CHECK(f->severity == Severity::error);
  CHECK(f->role == Role::edge);
  CHECK(ev(*f, "differs").find("names") != std::string::npos);
  CHECK(ev(*f, "edge_names") == std::string(kHost) + ", cdn-customer-42.example.net");
  CHECK(ev(*f, "origin_names") == kHost);
  CHECK(count(fs, codes::edge_stale) == 0);
}

TEST_CASE("edge.mismatch on another issuer; every edge compared on its own", "[diagnose][edge]") {
  auto c = cdn();
  auto other = cdn("Other CDN");
  auto origin_chain = leaf_chain(c, -30, 60);
  auto foreign = leaf_chain(other, -10, 80);
  auto both = certs::TrustStore::from_anchors({c.root.cert, other.root.cert});
  auto fs = run(observations(kHost, {edge(origin_chain, "198.51.100.7:443"),
                                     edge(foreign, "198.51.100.8:443"), origin(origin_chain)}),
                options(both));
  REQUIRE(count(fs, codes::edge_mismatch) == 1);
  auto* f = find(fs, codes::edge_mismatch);
  CHECK(ev(*f, "edge_address") == "198.51.100.8:443");
  CHECK(ev(*f, "differs").find("issuer") != std::string::npos);
  CHECK(ev(*f, "differs").find("key") != std::string::npos);
}

TEST_CASE("edge_cert = own: a different certificate is fine unless it misses the name",
          "[diagnose][edge]") {
  auto c = cdn();
  auto opt = options(c.trust);
  opt.edge_cert = EdgeCert::own;
  auto origin_chain = leaf_chain(c, -1, 89);
  auto own = leaf_chain(c, -60, 30, {kHost, "*.cdn.example.net"});
  CHECK(run(observations(kHost, {edge(own), origin(origin_chain)}), opt).empty());

  auto wrong = leaf_chain(c, -60, 30, {"*.cdn.example.net"});
  auto fs = run(observations(kHost, {edge(wrong), origin(origin_chain)}), opt);
  REQUIRE(count(fs, codes::edge_mismatch) == 1);
  CHECK(ev(*find(fs, codes::edge_mismatch), "edge_cert") == "own");
  CHECK(count(fs, codes::edge_stale) == 0);
  CHECK(count(fs, codes::name_mismatch) == 1);  // the edge handshake's own finding
}

TEST_CASE("origin.untrusted with the underlying reason; origin findings carry role origin",
          "[diagnose][origin]") {
  auto c = cdn();
  auto spec = leaf_spec({kHost});
  spec.aia_issuer_url = "http://ca.example.test/edge-intermediate.crt";
  auto leaf = issue(c.inter, spec);
  auto good = certs::Chain{leaf.cert, c.inter.cert};
  auto fs = run(observations(kHost, {edge(good), origin({leaf.cert})}), options(c.trust));
  REQUIRE(count(fs, codes::origin_untrusted) == 1);
  auto* f = find(fs, codes::origin_untrusted);
  CHECK(f->severity == Severity::error);
  CHECK(f->role == Role::origin);
  CHECK(ev(*f, "reason") == "chain.incomplete");
  CHECK(ev(*f, "requested_name") == kHost);
  CHECK(ev(*f, "openssl_code") != "0");
  REQUIRE(find(fs, codes::chain_incomplete));
  CHECK(find(fs, codes::chain_incomplete)->role == Role::origin);
  CHECK(count(fs, codes::edge_mismatch) == 0);  // same leaf on both
  CHECK(count(fs, codes::edge_stale) == 0);

  SECTION("a healthy origin is not untrusted") {
    CHECK(run(observations(kHost, {edge(good), origin(good)}), options(c.trust)).empty());
  }
  SECTION("the origin is checked against its SNI") {
    auto o = origin(good);
    o.sni = "origin.example.test";
    auto fs2 = run(observations(kHost, {edge(good), o}), options(c.trust));
    REQUIRE(find(fs2, codes::origin_untrusted));
    CHECK(ev(*find(fs2, codes::origin_untrusted), "reason") == "name.mismatch");
  }
}

TEST_CASE("an unreachable origin gives probe.unreachable with role origin and no comparison",
          "[diagnose][origin]") {
  auto c = cdn();
  auto o = origin({});
  o.outcome = HandshakeOutcome::unreachable;
  o.failure = FailureKind::refused;
  auto fs = run(observations(kHost, {edge(leaf_chain(c, -30, 60)), o}), options(c.trust));
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == codes::probe_unreachable);
  CHECK(fs[0].role == Role::origin);
}

TEST_CASE("browser_shows is chosen per handshake: two broken edges, one mark each",
          "[diagnose][browser]") {
  auto c = cdn();
  auto expired = leaf_chain(c, -95, -2);
  auto fs = run(
      observations(kHost, {edge(expired, "198.51.100.7:443"), edge(expired, "198.51.100.8:443")}),
      options(c.trust));
  REQUIRE(count(fs, codes::cert_expired) == 2);
  for (const auto& f : fs)
    if (f.code == codes::cert_expired) CHECK(f.browser_shows);
}
