// Prober: probes TLS targets the way DESIGN section 4/8 says, and returns what it saw as
// inspect::Observations (diagnose() judges them; the prober never does).
//
// One target probe = the main handshake (TLS 1.2-1.3); if that fails in a way a version
// mismatch explains, one legacy handshake (TLS 1.0-1.1, security level 0); the client
// compatibility handshakes of ProbeRequest::compat (proxy/probe/tls_scan.hpp); when the leaf
// does not cover the name, a no-SNI and an unknown-SNI handshake (sni.default_cert), and a
// no-SNI one anyway for sni.required when asked; with an origin, an origin handshake and
// one per extra edge. After a timeout, a refusal or a non-TLS reply nothing more is tried.
// The whole probe is bounded by ProbeRequest::timeout.
//
// Asio stays out of this header (pimpl); the prober runs on the io_context it is given.
#pragma once

#include "certs/trust_store.hpp"
#include "inspect/observation.hpp"
#include "proxy/probe/aia_fetcher.hpp"
#include "proxy/probe/client_identity.hpp"
#include "proxy/probe/ip_family.hpp"
#include "proxy/probe/revocation_fetch.hpp"
#include "proxy/probe/starttls.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace tlsprobe::proxy {

enum class SniMode {
  host,  // send the target host name (never an IP literal: then none is sent)
  none,  // send no SNI (--no-sni; a client that sent none)
  name,  // send ProbeRequest::sni_name exactly (--sni NAME)
};

enum class SniChecks {
  when_needed,        // nosni + othersni only when the leaf does not cover the name
  with_sni_required,  // as above, plus a nosni handshake anyway (decides sni.required)
  off,                // no extra handshakes (the proxy's cache already knows)
};

// Issue 15 item 1: what the probe learns about client compatibility besides the chain.
enum class CompatChecks {
  off,    // nothing beyond the main handshake (and its SNI checks)
  cheap,  // a few handshakes beside the main one (inspect::CompatFacts): the default
  full,   // those, plus the bounded enumeration of protocols, suites and groups
          // (inspect::TlsScan; probe --clients / --deep)
};

struct ProbeRequest {
  std::string target;  // as the user named it (Observations::target); default host:port
  std::string host;    // name asked for (lower case), or an IP literal
  std::uint16_t port = 443;
  std::string connect;  // "ADDR:PORT" dialled instead of resolving host (--connect)
  std::string origin;   // "ADDR:PORT" of the origin (--origin); turns on edge/origin roles
  std::vector<std::string> edges;  // further edge "ADDR:PORT"s (--edge)
  SniMode sni_mode = SniMode::host;
  std::string sni_name;  // with SniMode::name
  SniChecks sni_checks = SniChecks::with_sni_required;
  std::chrono::milliseconds timeout{10000};  // the whole target probe
  // After a main handshake that answered TLS: with `cheap`, one handshake offering what
  // Chrome offers (and, when that is refused, one per current browser), one offering DHE
  // only (unless the main one used DHE), one offering TLS 1.0/1.1 only; after a refused
  // main handshake, one offering everything OpenSSL has, to say why in words.
  CompatChecks compat = CompatChecks::cheap;
  IpFamily family = IpFamily::any;                 // -4 / -6
  StartTls starttls = StartTls::none;              // plaintext dialogue before each handshake
  std::shared_ptr<const ClientIdentity> identity;  // client certificate (--cert/--key)
};

struct ProberOptions {
  std::size_t max_concurrent = 64;  // target probes in flight; more wait in a queue
  // "host:port" (or "host" for every port) -> "ADDR" or "ADDR:PORT", like curl --resolve
  // (the proxy's [resolve]).
  std::map<std::string, std::string> resolve;
  // Set: a main (direct/edge/origin) chain whose path does not reach an anchor of this
  // store for want of an issuer gets that issuer fetched from its caIssuers URL, as Chrome
  // does (aia_complete.hpp; at most 3 hops, each URL bounded and cached by the prober's
  // AiaFetcher for as long as the prober lives). Unset: no fetching (--no-aia).
  std::optional<certs::TrustStore> aia_trust;
  AiaOptions aia;  // its `resolve` is taken from `resolve` above
  // Set: the leaf of every completed main handshake gets its revocation status asked online
  // (--revocation): OCSP POST to its AIA responder, else the CRL of its distribution point
  // (revocation_fetch.hpp); this store finds the issuer when the server did not send it.
  std::optional<certs::TrustStore> revocation_trust;
  RevocationFetchOptions revocation;
};

using ProbeDone = std::function<void(inspect::Observations)>;

class Prober {
 public:
  // `io` must outlive the prober and every probe it started; run it on any number of threads.
  explicit Prober(boost::asio::io_context& io, ProberOptions options = {});
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Starts (or queues) one target probe. Safe from any thread. `done` runs exactly once,
  // on an io_context thread, with the handshakes in this order: main, origin, edges, nosni,
  // othersni. A probe in flight keeps its state alive after the prober is destroyed.
  void probe(ProbeRequest request, ProbeDone done);

  struct Impl;  // opaque (prober.cpp); public only so that the probes it runs can name it

 private:
  std::shared_ptr<Impl> impl_;
};

// Blocking convenience for the CLI and benchmarks: probes every request with at most
// `concurrency` in flight on a private io_context run by `threads` threads; results in
// request order.
std::vector<inspect::Observations> probe_all(std::vector<ProbeRequest> requests,
                                             std::size_t concurrency, ProberOptions options = {},
                                             unsigned threads = 1);

// "tlsprobe-unknown-<random>.invalid": an SNI no server can have configured.
std::string unknown_sni_name();

}  // namespace tlsprobe::proxy
