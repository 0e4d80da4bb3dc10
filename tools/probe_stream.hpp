// Running many probes from the command line: results handed over as each target finishes
// (not at the end), a periodic tick for a progress line, and SIGINT caught inside the
// probe's own io_context so that Ctrl-C ends the run at once without losing what finished.
#pragma once

#include "inspect/observation.hpp"
#include "proxy/probe/prober.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

namespace tlsprobe::tools {

struct StreamOptions {
  std::size_t concurrency = 8;  // target probes in flight
  unsigned threads = 2;         // io_context threads
  // Called every `tick` while probes run (progress line); never concurrently with itself
  // or with on_result's critical section: callers lock their own mutex.
  std::function<void()> on_tick;
  std::chrono::milliseconds tick{200};
};

struct StreamOutcome {
  bool interrupted = false;  // SIGINT arrived before every target finished
  std::size_t finished = 0;  // targets whose on_result ran
};

// Probes every request. `on_result(index, observations)` runs once per finished target, on
// an io_context thread, possibly on two threads at once (the caller serialises its output).
// On SIGINT the probes in flight are abandoned: the io_context stops, its threads are joined
// (each handler is short, so this is bounded), and no on_result runs after this returns.
StreamOutcome probe_streaming(
    std::vector<proxy::ProbeRequest> requests, proxy::ProberOptions prober_options,
    const StreamOptions& options,
    const std::function<void(std::size_t, inspect::Observations)>& on_result);

}  // namespace tlsprobe::tools
