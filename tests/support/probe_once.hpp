// One probe target through proxy::probe_all, the prober `tlsprobe probe` runs, for the tests
// that probe a loopback server: the one copy of "probe it, it gave one result, take it".
#pragma once

#include "proxy/probe/prober.hpp"

namespace tlsprobe::testsupport {

// The observations of `request` (probe_all gives exactly one per request; anything else
// throws std::logic_error, which fails the test).
inspect::Observations probe_once(proxy::ProbeRequest request, proxy::ProberOptions options = {});

}  // namespace tlsprobe::testsupport
