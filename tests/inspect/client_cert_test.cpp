// tls.client_cert_requested and the client-certificate refusal (issue 15 item 3), from
// observations built by hand; tests/trust/client_cert_nginx_test.cpp does it against nginx.
#include "diagnose_helpers.hpp"

using namespace diagtest;

namespace {

struct Setup {
  Hierarchy h = make_hierarchy({kHost});
  certs::TrustStore trust = trust_root(h.root);
};

}  // namespace

TEST_CASE("tls.client_cert_requested lists the CAs an optional client auth accepts",
          "[client_cert]") {
  Setup s;
  auto hs = handshake(Role::direct, kHost, s.h.fullchain());
  hs.client_cert_requested = true;
  hs.client_ca_names = {"CN=Client CA One,O=Example", "CN=Client CA Two,O=Example"};
  const auto fs = run(observations(kHost, {hs}), options(s.trust));
  const auto* f = find(fs, codes::tls_client_cert_requested);
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::info);
  CHECK(ev(*f, "accepted_ca_count") == "2");
  CHECK(ev(*f, "accepted_cas") == "CN=Client CA One,O=Example; CN=Client CA Two,O=Example");
  CHECK(f->message.find("CN=Client CA Two,O=Example") != std::string::npos);
  CHECK(f->remedy.find("--cert") != std::string::npos);
  CHECK_FALSE(has_error(fs));

  // An empty list means "any CA", said in words.
  hs.client_ca_names.clear();
  const auto any = run(observations(kHost, {hs}), options(s.trust));
  REQUIRE(find(any, codes::tls_client_cert_requested) != nullptr);
  CHECK(ev(*find(any, codes::tls_client_cert_requested), "accepted_cas").find("any CA") == 0);
}

TEST_CASE("no tls.client_cert_requested when the server asks for nothing", "[client_cert]") {
  Setup s;
  const auto fs =
      run(observations(kHost, {handshake(Role::direct, kHost, s.h.fullchain())}), options(s.trust));
  CHECK(find(fs, codes::tls_client_cert_requested) == nullptr);
  CHECK(fs.empty());
}

TEST_CASE("a refusal for want of a client certificate names the CAs and --cert/--key",
          "[client_cert]") {
  Setup s;
  auto hs = handshake(Role::direct, kHost, s.h.fullchain());
  hs.outcome = HandshakeOutcome::handshake_failed;
  hs.failure = FailureKind::client_cert_required;
  hs.failure_detail = "the server requires a client certificate";
  hs.alert = "certificate_required";
  hs.client_cert_requested = true;
  hs.client_ca_names = {"CN=Partner Client CA,O=Example"};
  const auto fs = run(observations(kHost, {hs}), options(s.trust));
  const auto* f = find(fs, codes::tls_handshake_failed);
  REQUIRE(f != nullptr);
  CHECK(ev(*f, "accepted_cas") == "CN=Partner Client CA,O=Example");
  CHECK(f->message.find("CN=Partner Client CA,O=Example") != std::string::npos);
  CHECK(f->remedy.find("--cert client.pem --key client.key") != std::string::npos);
  // The refusal is the finding; no info finding beside it.
  CHECK(find(fs, codes::tls_client_cert_requested) == nullptr);
}
