// What AIA fetches prove about an incomplete chain (inspect/check_aia.cpp), the repaired
// chain to serve (inspect/aia_chain.hpp), and the handshakes that give less than a full view
// (inspect/check_partial.cpp): no server certificate, client certificate required.
#include "diagnose_helpers.hpp"
#include "inspect/aia_chain.hpp"

using namespace diagtest;

namespace {

constexpr const char* kUrl = "http://pki.tlsprobe.test/intermediate.crt";

AiaFetch fetched(std::string url, certs::Chain certs) {
  AiaFetch f;
  f.url = std::move(url);
  f.ok = true;
  f.certs = std::move(certs);
  f.elapsed_ms = 4;
  return f;
}

AiaFetch failed(std::string url, std::string error) {
  AiaFetch f;
  f.url = std::move(url);
  f.error = std::move(error);
  return f;
}

}  // namespace

TEST_CASE("AIA: the fetched intermediate completes the chain: say so and how to fix it",
          "[diagnose][aia]") {
  const auto h = make_hierarchy({kHost});
  const auto trust = trust_root(h.root);
  auto hs = handshake(Role::direct, kHost, {h.leaf.cert});

  SECTION("without a fetch the finding says nothing about one") {
    const auto fs = run(observations(kHost, {hs}), options(trust));
    const auto* f = find(fs, codes::chain_incomplete);
    REQUIRE(f);
    CHECK(ev(*f, "aia_result") == "<missing>");
    CHECK(f->message.find("serving it fixes this") == std::string::npos);
  }
  SECTION("with it") {
    hs.aia_fetches.push_back(fetched(kUrl, {h.intermediate.cert}));
    const auto fs = run(observations(kHost, {hs}), options(trust));
    const auto* f = find(fs, codes::chain_incomplete);
    REQUIRE(f);
    CHECK(ev(*f, "aia_result") == "completes");
    CHECK(f->message.find("the chain completes with CN=" + h.intermediate.cert.common_name() +
                          " from " + kUrl + "; serving it fixes this") != std::string::npos);
    CHECK(f->remedy.find("--fullchain-out") != std::string::npos);
    CHECK(ev(*f, "fullchain") == h.leaf.cert.subject() + " | " + h.intermediate.cert.subject());
    // Chrome completes it too and shows nothing.
    CHECK_FALSE(f->browser_shows);
    CHECK(count(fs, codes::chain_incomplete) == 1);
  }
}

TEST_CASE("AIA: even with the fetched issuer there is no trusted path", "[diagnose][aia]") {
  const auto h = make_hierarchy({kHost});
  const auto other = make_root(ca_spec("Some Other Root"));
  const auto trust = trust_root(other);  // the hierarchy's root is not trusted
  auto hs = handshake(Role::direct, kHost, {h.leaf.cert});
  hs.aia_fetches.push_back(fetched(kUrl, {h.intermediate.cert}));
  hs.aia_fetches.push_back(fetched("http://pki.tlsprobe.test/root.crt", {h.root.cert}));
  const auto fs = run(observations(kHost, {hs}), options(trust));
  const Finding* f = find(fs, codes::chain_incomplete);
  if (!f) f = find(fs, codes::chain_untrusted_root);
  REQUIRE(f);
  CHECK(ev(*f, "aia_result") == "no_trusted_path");
  CHECK(f->message.find("Even with the fetched issuer") != std::string::npos);
  CHECK(f->message.find("there is no trusted path: it ends at " + h.root.cert.subject()) !=
        std::string::npos);
  // Chrome cannot complete it either: it shows this error.
  CHECK(f->browser_shows);
  CHECK(inspect::chain_to_serve(hs, trust).empty());
}

TEST_CASE("AIA: a failed fetch is named with its one-line error", "[diagnose][aia]") {
  const auto h = make_hierarchy({kHost});
  const auto trust = trust_root(h.root);
  auto hs = handshake(Role::direct, kHost, {h.leaf.cert});
  hs.aia_fetches.push_back(failed(kUrl, "timed out after 5000 ms"));
  const auto fs = run(observations(kHost, {hs}), options(trust));
  const auto* f = find(fs, codes::chain_incomplete);
  REQUIRE(f);
  CHECK(ev(*f, "aia_result") == "fetch_failed");
  CHECK(f->message.find("Fetching the issuer from " + std::string(kUrl) +
                        " failed (timed out after 5000 ms)") != std::string::npos);
  CHECK(f->browser_shows);
}

TEST_CASE("AIA: a sent intermediate whose issuer is fetched makes the chain incomplete",
          "[diagnose][aia]") {
  // root -> A -> B -> leaf; the server sends leaf + B; A is published at B's AIA URL.
  auto root = make_root(ca_spec("AIA Test Root"));
  auto a = issue(root, ca_spec("AIA Test Policy CA"));
  auto bspec = ca_spec("AIA Test Issuing CA");
  bspec.aia_issuer_url = "http://pki.tlsprobe.test/policy.crt";
  auto b = issue(a, bspec);
  auto leaf = issue(b, leaf_spec({kHost}));
  const auto trust = trust_root(root);
  auto hs = handshake(Role::direct, kHost, {leaf.cert, b.cert});
  hs.aia_fetches.push_back(fetched(bspec.aia_issuer_url, {a.cert}));
  const auto fs = run(observations(kHost, {hs}), options(trust));
  const auto* f = find(fs, codes::chain_incomplete);
  REQUIRE(f);
  CHECK(find(fs, codes::chain_untrusted_root) == nullptr);
  CHECK(ev(*f, "aia_result") == "completes");
  CHECK(f->message.find("CN=AIA Test Policy CA from http://pki.tlsprobe.test/policy.crt") !=
        std::string::npos);
  const auto serve = inspect::chain_to_serve(hs, trust);
  REQUIRE(serve.size() == 3);
  CHECK(serve[0] == leaf.cert);
  CHECK(serve[1] == b.cert);
  CHECK(serve[2] == a.cert);
}

TEST_CASE("AIA: chain_to_serve is leaf then intermediates, no root, nothing extra",
          "[diagnose][aia]") {
  const auto h = make_hierarchy({kHost});
  const auto trust = trust_root(h.root);
  const auto junk = make_root(ca_spec("Unrelated Root"));
  // Sent in the wrong order with the root and junk: the file to serve is clean.
  auto hs =
      handshake(Role::direct, kHost, {h.intermediate.cert, h.leaf.cert, junk.cert, h.root.cert});
  auto serve = inspect::chain_to_serve(hs, trust);
  REQUIRE(serve.size() == 2);
  CHECK(serve[0] == h.leaf.cert);
  CHECK(serve[1] == h.intermediate.cert);
  // Leaf only and nothing fetched: no complete chain to write.
  hs.chain = {h.leaf.cert};
  CHECK(inspect::chain_to_serve(hs, trust).empty());
  // Leaf only plus the fetched intermediate (and the root in the same PKCS#7 bundle).
  hs.aia_fetches.push_back(fetched(kUrl, {h.intermediate.cert, h.root.cert}));
  serve = inspect::chain_to_serve(hs, trust);
  REQUIRE(serve.size() == 2);
  CHECK(serve[1] == h.intermediate.cert);
  const auto repaired = inspect::repair_chain(hs.chain, hs.aia_fetches, trust);
  CHECK(repaired.fullchain.size() == 2);
  CHECK(repaired.fetched_on_path == std::vector<std::string>{h.intermediate.cert.subject()});
}

TEST_CASE("AIA: next_aia_url and is_http_url", "[diagnose][aia]") {
  const auto h = make_hierarchy({kHost});
  const auto trust = trust_root(h.root);
  CHECK(inspect::next_aia_url(inspect::repair_chain({h.leaf.cert}, {}, trust)) ==
        h.leaf.cert.aia_issuer_url());
  CHECK(inspect::next_aia_url(inspect::repair_chain({h.leaf.cert, h.intermediate.cert}, {}, trust))
            .empty());
  CHECK(inspect::is_http_url("HTTP://x/y"));
  CHECK_FALSE(inspect::is_http_url("https://x/y"));
  CHECK_FALSE(inspect::is_http_url("ldap://x/y"));
  CHECK_FALSE(inspect::is_http_url("http://"));
}

TEST_CASE("a chain sent before a client-certificate refusal is judged", "[diagnose][clientauth]") {
  const auto h = make_hierarchy({kHost});
  const auto trust = trust_root(h.root);
  auto hs = handshake(Role::direct, kHost, {h.leaf.cert});  // incomplete
  hs.outcome = HandshakeOutcome::handshake_failed;
  hs.failure = FailureKind::client_cert_required;
  hs.tls_version.clear();

  SECTION("the chain's findings and the refusal, which says the chain was judged") {
    const auto fs = run(observations(kHost, {hs}), options(trust));
    const auto* failed_f = find(fs, codes::tls_handshake_failed);
    REQUIRE(failed_f);
    CHECK(ev(*failed_f, "chain_judged") == "true");
    CHECK(failed_f->message.find("requires a client certificate") != std::string::npos);
    CHECK(failed_f->message.find("it is judged in the other findings") != std::string::npos);
    CHECK(find(fs, codes::chain_incomplete));
  }
  SECTION("a healthy chain adds nothing but the refusal") {
    hs.chain = h.fullchain();
    const auto fs = run(observations(kHost, {hs}), options(trust));
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].code == codes::tls_handshake_failed);
  }
  SECTION("no chain (refused before the server sent one): only the refusal") {
    hs.chain.clear();
    const auto fs = run(observations(kHost, {hs}), options(trust));
    REQUIRE(fs.size() == 1);
    CHECK(ev(fs[0], "chain_judged") == "<missing>");
  }
  SECTION("another failure with a chain is not judged") {
    hs.failure = FailureKind::alert;
    hs.alert = "handshake_failure";
    const auto fs = run(observations(kHost, {hs}), options(trust));
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].code == codes::tls_handshake_failed);
  }
  CHECK(chain_judged(handshake(Role::direct, kHost, {})));
}
