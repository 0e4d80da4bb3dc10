// Completes a chain the way Chrome does: while the path from the leaf stops at a
// certificate whose issuer was neither sent nor trusted, fetch that issuer from the
// certificate's caIssuers URL (AiaFetcher: bounded, cached), at most `max_hops` times (the
// issuer of the fetched issuer…). The fetches and the repaired chain go into the
// observation (HandshakeObservation::aia_fetches / completed_chain); diagnosis says what
// they prove (inspect/check_aia.cpp).
#pragma once

#include "certs/trust_store.hpp"
#include "inspect/observation.hpp"
#include "proxy/probe/aia_fetcher.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace tlsprobe::proxy {

inline constexpr unsigned kAiaMaxHops = 3;

// True when `obs` has a chain whose path does not reach an anchor of `trust` because an
// issuer is missing (what a fetch can fix).
bool needs_aia(const inspect::HandshakeObservation& obs, const certs::TrustStore& trust);

// Runs the fetches on `ex` (a strand) and calls `done` once, on `ex`, with `obs` amended.
// Gives up at `deadline` (the probe's): a fetch still running then is recorded as failed
// (it goes on in the fetcher and fills its cache for the next probe).
void async_complete_chain(const boost::asio::any_io_executor& ex,
                          std::shared_ptr<AiaFetcher> fetcher, certs::TrustStore trust,
                          inspect::HandshakeObservation obs,
                          std::chrono::steady_clock::time_point deadline,
                          std::function<void(inspect::HandshakeObservation)> done,
                          unsigned max_hops = kAiaMaxHops);

}  // namespace tlsprobe::proxy
