// libFuzzer target for diagnose(): a certificate chain from an untrusted server (mutated DER
// or PEM) goes through path building, verification and every check. The first input byte
// chooses the shape of the observations (roles, SNI, outcome, version, host); the rest is
// the chain: PEM when it contains a PEM header, else concatenated DER certificates. The trust
// store (one fixed root) and the evaluation time are fixed so a crash replays exactly.
// Built only with TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "certs/pem.hpp"
#include "certs/trust_store.hpp"
#include "inspect/diagnose.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace tlsprobe;

namespace {

// EC P-256 root "CN=Fuzz Root" (2026-11-24 .. 2046-11-19); the corpus chains end in it.
constexpr std::string_view root_pem = R"(-----BEGIN CERTIFICATE-----
MIIBjjCCATOgAwIBAgIUVg6nntY00/9ye/lw92HrK4NEL6owCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJRnV6eiBSb290MB4XDTI2MTEyNDA2MzI0MFoXDTQ2MTExOTA2
MzI0MFowFDESMBAGA1UEAwwJRnV6eiBSb290MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEXPI+iz6h8F1XREWGEjDioaEH9aHONJLKSuUvSCxvoXerawP20MIsLsUy
ATONRHB3GaeB7ROXRLzflCz+mxlKd6NjMGEwHQYDVR0OBBYEFMn5A1VNO5Kt8e1K
5HZIibKqNWEnMB8GA1UdIwQYMBaAFMn5A1VNO5Kt8e1K5HZIibKqNWEnMA8GA1Ud
EwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0kAMEYCIQCp
T0rUjn6I05ARqjxSPPb1aOGHfunMSvXTHehBWzDt7QIhAP68B6aGC868t3/6qFOc
Wzle2SBdEbOrTqQ4fvlNSoKJ
-----END CERTIFICATE-----
)";

const certs::TrustStore& trust() {
  static const certs::TrustStore store =
      certs::TrustStore::from_anchors(certs::read_pem_chain(root_pem, "fuzz root"));
  return store;
}

// Splits concatenated DER by each element's outer SEQUENCE length (short or long form); the
// last element takes whatever is left, so truncated certificates reach the parser too.
certs::Chain split_der(std::string_view in) {
  certs::Chain chain;
  for (int i = 0; i < 8 && in.size() >= 2; ++i) {
    std::size_t len = static_cast<std::uint8_t>(in[1]), header = 2;
    if (len & 0x80) {
      const std::size_t n = len & 0x7f;
      if (n == 0 || n > 3 || in.size() < 2 + n) break;
      len = 0;
      for (std::size_t k = 0; k < n; ++k) len = (len << 8) | static_cast<std::uint8_t>(in[2 + k]);
      header = 2 + n;
    }
    const std::size_t take = std::min(in.size(), header + len);
    if (auto cert = certs::Certificate::from_der(std::string(in.substr(0, take))))
      chain.push_back(std::move(*cert));
    in.remove_prefix(take);
  }
  return chain;
}

certs::Chain read_chain(std::string_view in) {
  if (in.find("-----BEGIN") != std::string_view::npos) {
    try {
      return certs::read_pem_chain(in, "fuzz");
    } catch (const certs::PemError&) {
      return {};
    }
  }
  return split_der(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  certs::Chain chain = read_chain(rest);

  static constexpr const char* versions[] = {"1.3", "1.2", "1.1", "1.0"};
  inspect::Observations obs;
  obs.host = (flags & 0x80) ? "127.0.0.1" : "www.example.com";
  obs.port = 443;
  obs.target = obs.host + ":443";

  inspect::HandshakeObservation main;
  main.role = (flags & 0x01) ? inspect::Role::edge : inspect::Role::direct;
  main.host = obs.host;
  main.address = "127.0.0.1:443";
  if (!(flags & 0x02) && !(flags & 0x80)) main.sni = obs.host;
  main.tls_version = versions[(flags >> 5) & 0x03];
  main.legacy_handshake = main.tls_version == "1.1" || main.tls_version == "1.0";
  if (flags & 0x08) {
    main.outcome = inspect::HandshakeOutcome::handshake_failed;
    main.failure = inspect::FailureKind::alert;
    main.alert = "handshake_failure";
  }
  main.chain = chain;
  obs.handshakes.push_back(main);

  if (flags & 0x01) {  // the origin serves the same chain without its leaf (edge.* checks)
    auto origin = main;
    origin.role = inspect::Role::origin;
    origin.outcome = inspect::HandshakeOutcome::ok;
    origin.failure = inspect::FailureKind::none;
    if (!origin.chain.empty()) origin.chain.erase(origin.chain.begin());
    obs.handshakes.push_back(std::move(origin));
  }
  if (flags & 0x04) {  // the no-SNI handshake answers with the chain reversed
    auto nosni = main;
    nosni.role = inspect::Role::nosni;
    nosni.sni.reset();
    std::reverse(nosni.chain.begin(), nosni.chain.end());
    obs.handshakes.push_back(std::move(nosni));
  }
  if (flags & 0x10) {
    inspect::ClientHelloObservation client;
    client.sni = main.sni;
    client.connect_host = obs.host;
    client.http_host = "other.example.com";
    obs.client = client;
  }

  inspect::DiagnoseOptions options;
  options.at = std::chrono::sys_days{std::chrono::year{2027} / 6 / 1};
  options.trust = &trust();
  options.edge_cert = (flags & 0x40) ? inspect::EdgeCert::own : inspect::EdgeCert::same;
  const auto findings = inspect::diagnose(obs, options);
  for (const auto& f : findings) (void)f.code.size();
  return 0;
}
