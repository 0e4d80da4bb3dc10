#include "certs/chain_path.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::testpki;
using certs::Chain;
using certs::PathEnd;
using certs::TrustStore;
using V = std::vector<std::size_t>;

TEST_CASE("healthy fullchain is anchored in order", "[certs][chain]") {
  auto h = make_hierarchy({"www.example.test"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  auto p = certs::analyze_chain(h.fullchain(), trust);
  CHECK(p.end == PathEnd::anchored);
  CHECK(p.path == V{0, 1});
  REQUIRE(p.anchor);
  CHECK(*p.anchor == h.root.cert);
  CHECK_FALSE(p.anchor_was_sent);
  CHECK(p.in_order);
  CHECK(p.extra.empty());
  CHECK(p.missing_issuer.empty());
}

TEST_CASE("empty chain", "[certs][chain]") {
  auto p = certs::analyze_chain({}, TrustStore::from_anchors({}));
  CHECK(p.end == PathEnd::empty);
  CHECK(p.path.empty());
}

TEST_CASE("anchor sent", "[certs][chain]") {
  auto h = make_hierarchy({"a.test"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  auto p = certs::analyze_chain({h.leaf.cert, h.intermediate.cert, h.root.cert}, trust);
  CHECK(p.end == PathEnd::anchored);
  CHECK(p.anchor_was_sent);
  CHECK(p.path == V{0, 1, 2});
  CHECK(p.in_order);
  CHECK(p.extra.empty());
}

TEST_CASE("intermediate that is itself an anchor", "[certs][chain]") {
  auto h = make_hierarchy({"a.test"});
  auto trust = TrustStore::from_anchors({h.intermediate.cert});
  auto p = certs::analyze_chain(h.fullchain(), trust);
  CHECK(p.end == PathEnd::anchored);
  CHECK(*p.anchor == h.intermediate.cert);
  CHECK(p.anchor_was_sent);
  CHECK(p.path == V{0, 1});
  // Not sent, the same anchor is found in the store.
  auto q = certs::analyze_chain({h.leaf.cert}, trust);
  CHECK(q.end == PathEnd::anchored);
  CHECK_FALSE(q.anchor_was_sent);
  CHECK(q.path == V{0});
}

TEST_CASE("missing intermediate: the missing issuer and its AIA", "[certs][chain]") {
  auto root = make_root({.common_name = "Root R"});
  auto inter = issue(root, {.common_name = "Inter I", .is_ca = true});
  auto leaf = issue(inter, {.common_name = "a.test",
                            .dns_names = {"a.test"},
                            .aia_issuer_url = "http://ca.test/inter.der"});
  auto trust = TrustStore::from_anchors({root.cert});
  auto p = certs::analyze_chain({leaf.cert}, trust);
  CHECK(p.end == PathEnd::missing_issuer);
  CHECK(p.path == V{0});
  CHECK(p.missing_issuer == inter.cert.subject());
  CHECK(p.missing_issuer_aia_url == "http://ca.test/inter.der");
  CHECK_FALSE(p.anchor);
  CHECK(p.in_order);
}

TEST_CASE("internal root not sent and not trusted: missing issuer at the top", "[certs][chain]") {
  auto h = make_hierarchy({"a.test"});
  auto p = certs::analyze_chain(h.fullchain(), TrustStore::from_anchors({}));
  CHECK(p.end == PathEnd::missing_issuer);
  CHECK(p.path == V{0, 1});
  CHECK(p.missing_issuer == h.root.cert.subject());
}

TEST_CASE("untrusted root sent", "[certs][chain]") {
  auto h = make_hierarchy({"a.test"});
  auto other = make_hierarchy({"b.test"});  // same names, other keys: not an issuer
  auto trust = TrustStore::from_anchors({other.root.cert});
  auto p = certs::analyze_chain({h.leaf.cert, h.intermediate.cert, h.root.cert}, trust);
  CHECK(p.end == PathEnd::untrusted_root);
  REQUIRE(p.untrusted_root_index);
  CHECK(*p.untrusted_root_index == 2);
  CHECK(p.path == V{0, 1, 2});
  CHECK_FALSE(p.anchor);
}

TEST_CASE("self-signed leaf", "[certs][chain]") {
  auto ss = make_self_signed({.common_name = "self.test", .dns_names = {"self.test"}});
  auto p = certs::analyze_chain({ss.cert}, TrustStore::from_anchors({}));
  CHECK(p.end == PathEnd::leaf_self_signed);
  CHECK(p.path == V{0});
  CHECK_FALSE(p.untrusted_root_index);
  // Trusted explicitly (--ca-file with the certificate itself): anchored.
  auto q = certs::analyze_chain({ss.cert}, TrustStore::from_anchors({ss.cert}));
  CHECK(q.end == PathEnd::anchored);
  CHECK(q.anchor_was_sent);
  // A self-signed CA certificate served alone is also a self-signed leaf.
  auto root = make_root({.common_name = "R"});
  auto r = certs::analyze_chain({root.cert}, TrustStore::from_anchors({}));
  CHECK(r.end == PathEnd::leaf_self_signed);
}

TEST_CASE("wrong order: intermediate first", "[certs][chain]") {
  auto h = make_hierarchy({"a.test"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  auto p = certs::analyze_chain({h.intermediate.cert, h.leaf.cert}, trust);
  CHECK(p.end == PathEnd::anchored);
  CHECK(p.path == V{1, 0});
  CHECK_FALSE(p.in_order);
  CHECK(p.extra.empty());

  auto root2 = make_root({.common_name = "R2"});
  auto i1 = issue(root2, {.common_name = "I1", .is_ca = true});
  auto i2 = issue(i1, {.common_name = "I2", .is_ca = true});
  auto leaf = issue(i2, {.common_name = "x.test"});
  auto q =
      certs::analyze_chain({leaf.cert, i1.cert, i2.cert}, TrustStore::from_anchors({root2.cert}));
  CHECK(q.end == PathEnd::anchored);
  CHECK(q.path == V{0, 2, 1});
  CHECK_FALSE(q.in_order);
}

TEST_CASE("extra and duplicate certificates", "[certs][chain]") {
  auto h = make_hierarchy({"a.test"});
  auto unrelated = make_hierarchy({"z.test"});
  auto trust = TrustStore::from_anchors({h.root.cert});
  auto p = certs::analyze_chain(
      {h.leaf.cert, h.intermediate.cert, unrelated.intermediate.cert, h.intermediate.cert}, trust);
  CHECK(p.end == PathEnd::anchored);
  CHECK(p.path == V{0, 1});
  CHECK(p.in_order);  // extras after the path do not make it wrong
  CHECK(p.extra == V{2, 3});

  // Duplicated leaf: a duplicate, not a reordering.
  auto d = certs::analyze_chain({h.leaf.cert, h.leaf.cert, h.intermediate.cert}, trust);
  CHECK(d.path == V{0, 2});
  CHECK(d.in_order);
  CHECK(d.extra == V{1});

  // Unrelated certificate before the intermediate: out of order.
  auto o = certs::analyze_chain({h.leaf.cert, unrelated.leaf.cert, h.intermediate.cert}, trust);
  CHECK(o.end == PathEnd::anchored);
  CHECK(o.path == V{0, 2});
  CHECK_FALSE(o.in_order);
  CHECK(o.extra == V{1});
}

TEST_CASE("cross-signed root: the path ends at the store's self-signed root", "[certs][chain]") {
  // New root N (self-signed); old root O cross-signs N's subject and key.
  auto old_root = make_root({.common_name = "Old Root"});
  auto new_root = make_root({.common_name = "New Root"});
  auto cross =
      issue(old_root, {.common_name = "New Root", .is_ca = true, .subject_key = new_root.key});
  auto inter = issue(new_root, {.common_name = "Inter", .is_ca = true});
  auto leaf = issue(inter, {.common_name = "a.test"});
  Chain sent{leaf.cert, inter.cert, cross.cert};

  SECTION("store has the new root: anchored there, the cross cert is extra") {
    auto p = certs::analyze_chain(sent, TrustStore::from_anchors({new_root.cert}));
    CHECK(p.end == PathEnd::anchored);
    CHECK(*p.anchor == new_root.cert);
    CHECK_FALSE(p.anchor_was_sent);
    CHECK(p.path == V{0, 1});
    CHECK(p.extra == V{2});
    CHECK(p.in_order);
  }
  SECTION("store has only the old root: the path goes through the cross cert") {
    auto p = certs::analyze_chain(sent, TrustStore::from_anchors({old_root.cert}));
    CHECK(p.end == PathEnd::anchored);
    CHECK(*p.anchor == old_root.cert);
    CHECK(p.path == V{0, 1, 2});
    CHECK(p.extra.empty());
  }
  SECTION("store has neither: the old root is the missing issuer") {
    auto p = certs::analyze_chain(sent, TrustStore::from_anchors({}));
    CHECK(p.end == PathEnd::missing_issuer);
    CHECK(p.missing_issuer == old_root.cert.subject());
  }
  SECTION("sent self-signed root re-issued in the store (same subject and key)") {
    auto reissued = make_root({.common_name = "New Root",
                               .not_after = fixed_now() + std::chrono::days(9000),
                               .subject_key = new_root.key});
    auto p = certs::analyze_chain({leaf.cert, inter.cert, new_root.cert},
                                  TrustStore::from_anchors({reissued.cert}));
    CHECK(p.end == PathEnd::anchored);
    CHECK(*p.anchor == reissued.cert);
    CHECK(p.path == V{0, 1});  // the store anchor is reached first, from the intermediate
    CHECK(p.extra == V{2});
    // Only the root sent, as a leaf would be: the same root, re-issued -> anchored.
    auto q = certs::analyze_chain({leaf.cert, new_root.cert, inter.cert},
                                  TrustStore::from_anchors({reissued.cert}));
    CHECK(q.end == PathEnd::anchored);
    CHECK(q.path == V{0, 2});
  }
}

TEST_CASE("cycles are bounded", "[certs][chain]") {
  // Two CAs with each other's names cannot be made to verify each other without shared keys,
  // so build a long but finite chain and check the bound instead.
  auto root = make_root({.common_name = "R"});
  std::vector<Issued> cas{root};
  for (int i = 0; i < 12; ++i)
    cas.push_back(issue(cas.back(), {.common_name = "CA " + std::to_string(i), .is_ca = true}));
  auto leaf = issue(cas.back(), {.common_name = "deep.test"});
  Chain chain{leaf.cert};
  for (auto it = cas.rbegin(); it != cas.rend() - 1; ++it) chain.push_back(it->cert);
  auto p = certs::analyze_chain(chain, TrustStore::from_anchors({root.cert}));
  CHECK(p.end == PathEnd::missing_issuer);
  CHECK(p.path.size() == 10);
}

TEST_CASE("a real issuer cycle terminates", "[certs][chain]") {
  // X issues Y, and X' (X's subject and key) is issued by Y: X' <-> Y form a cycle.
  auto x = make_root({.common_name = "Cycle X"});
  auto y = issue(x, {.common_name = "Cycle Y", .is_ca = true});
  auto x2 = issue(y, {.common_name = "Cycle X", .is_ca = true, .subject_key = x.key});
  auto leaf = issue(y, {.common_name = "c.test"});
  auto p = certs::analyze_chain({leaf.cert, y.cert, x2.cert, y.cert}, TrustStore::from_anchors({}));
  CHECK(p.end == PathEnd::missing_issuer);
  CHECK(p.path == V{0, 1, 2});
  CHECK(p.missing_issuer == y.cert.subject());
  CHECK(p.extra == V{3});
  // With X trusted the cycle is cut at the anchor.
  auto q = certs::analyze_chain({leaf.cert, y.cert, x2.cert}, TrustStore::from_anchors({x.cert}));
  CHECK(q.end == PathEnd::anchored);
  CHECK(q.path == V{0, 1});
  CHECK(*q.anchor == x.cert);
  CHECK(q.extra == V{2});
}
