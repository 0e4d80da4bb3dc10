// tls.intercepted (issue 15 item 2): a fake interception CA named like a product is
// recognised whether its root is trusted or not; ordinary CAs, and public CAs whose names
// resemble a product's vendor, are not.
#include "diagnose_helpers.hpp"
#include "inspect/interception_products.hpp"

using namespace diagtest;

namespace {

CertSpec named_ca(std::string cn, std::string org) {
  auto s = ca_spec(std::move(cn));
  s.organization = std::move(org);
  return s;
}

}  // namespace

TEST_CASE("interception products are recognised by their CA names", "[intercepted]") {
  struct Case {
    const char* dn;
    const char* product_word;
  };
  for (auto c : {
           Case{"CN=Zscaler Intermediate Root CA (zscaler.net),O=Zscaler Inc.", "Zscaler"},
           Case{"CN=ca.corp.example,O=Netskope Inc", "Netskope"},
           Case{"CN=FortiGate CA,O=Fortinet", "FortiGate"},
           Case{"CN=ProxySG Root,O=Blue Coat Systems", "ProxySG"},
           Case{"CN=Cisco Umbrella Root CA,O=Cisco", "Umbrella"},
           Case{"CN=Kaspersky Anti-Virus Personal Root Certificate", "Kaspersky"},
           Case{"CN=avast! Web/Mail Shield Root,O=avast! Web/Mail Shield", "Avast"},
           Case{"CN=ESET SSL Filter CA,O=ESET\\, spol. s r. o.", "ESET"},
           Case{"CN=Bitdefender Personal CA.Net-Defender,O=Bitdefender", "Bitdefender"},
           Case{"CN=Sophos SSL CA_C1234567890", "Sophos"},
           Case{"CN=mitmproxy,O=mitmproxy", "mitmproxy"},
           Case{"CN=Charles Proxy CA (1 Jan 2026\\, host),OU=https://charlesproxy.com/ssl",
                "Charles"},
           Case{"CN=DO_NOT_TRUST_FiddlerRoot,O=DO_NOT_TRUST", "Fiddler"},
           Case{"CN=PortSwigger CA,OU=PortSwigger CA,O=PortSwigger", "Burp"},
           Case{"CN=Palo Alto Networks Forward Trust,O=Palo Alto Networks", "Palo Alto"},
       }) {
    INFO(c.dn);
    const auto p = recognise_interception_ca(c.dn);
    REQUIRE(p.has_value());
    CHECK(p->name.find(c.product_word) != std::string_view::npos);
    CHECK(!p->kind.empty());
  }
  for (const char* dn :
       {"CN=R11,O=Let's Encrypt,C=US", "CN=ISRG Root X1,O=Internet Security Research Group",
        "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc",
        "CN=Symantec Class 3 Secure Server CA - G4,O=Symantec Corporation",
        "CN=GTS Root R1,O=Google Trust Services LLC", "CN=Corp Internal Root CA"}) {
    INFO(dn);
    CHECK_FALSE(recognise_interception_ca(dn).has_value());
  }
}

TEST_CASE("tls.intercepted names the product when its root is trusted", "[intercepted]") {
  auto root = make_root(named_ca("Zscaler Root CA", "Zscaler Inc."));
  auto inter = issue(root, named_ca("Zscaler Intermediate Root CA (zscaler.net)", "Zscaler Inc."));
  auto leaf = issue(inter, leaf_spec({kHost}));
  const auto trust = trust_root(root);
  const auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, inter.cert})}),
          options(trust));
  const auto* f = find(fs, codes::tls_intercepted);
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::warning);
  CHECK(ev(*f, "product") == "Zscaler");
  CHECK(ev(*f, "in_trust_store") == "true");
  CHECK(ev(*f, "interception_ca").find("Zscaler Intermediate") != std::string::npos);
  CHECK(f->message.find("unable to get local issuer certificate") != std::string::npos);
  CHECK(f->remedy.find("NODE_EXTRA_CA_CERTS") != std::string::npos);
  CHECK(f->remedy.find("exempt") != std::string::npos);
  CHECK_FALSE(has_error(fs));  // the chain itself verifies here
}

TEST_CASE("tls.intercepted beside chain.untrusted_root when the product's root is not trusted",
          "[intercepted]") {
  auto root = make_root(named_ca("mitmproxy", "mitmproxy"));
  auto leaf = issue(root, leaf_spec({kHost}));
  const auto no_trust = certs::TrustStore::from_anchors({});
  const auto fs = run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert, root.cert})}),
                      options(no_trust));
  const auto* f = find(fs, codes::tls_intercepted);
  REQUIRE(f != nullptr);
  CHECK(ev(*f, "product") == "mitmproxy");
  CHECK(ev(*f, "in_trust_store") == "false");
  CHECK(find(fs, codes::chain_untrusted_root) != nullptr);

  // Not sent: the leaf's issuer name alone is enough.
  const auto fs2 =
      run(observations(kHost, {handshake(Role::direct, kHost, {leaf.cert})}), options(no_trust));
  REQUIRE(find(fs2, codes::tls_intercepted) != nullptr);
}

TEST_CASE("no tls.intercepted for an ordinary chain", "[intercepted]") {
  auto h = make_hierarchy({kHost});
  const auto trust = trust_root(h.root);
  const auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, h.fullchain())}), options(trust));
  CHECK(find(fs, codes::tls_intercepted) == nullptr);
  auto p = private_hierarchy({kHost});
  const auto fs2 = run(observations(kHost, {handshake(Role::direct, kHost, p.fullchain())}),
                       options(trust_root(p.root)));
  CHECK(find(fs2, codes::tls_intercepted) == nullptr);
}
