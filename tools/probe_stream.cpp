#include "probe_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

namespace tlsprobe::tools {

namespace asio = boost::asio;

namespace {

// Re-arms itself every `period` until the io_context stops.
void schedule_tick(asio::steady_timer& timer, std::chrono::milliseconds period,
                   const std::function<void()>& tick) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, &tick](boost::system::error_code ec) {
    if (ec) return;
    tick();
    schedule_tick(timer, period, tick);
  });
}

}  // namespace

StreamOutcome probe_streaming(
    std::vector<proxy::ProbeRequest> requests, proxy::ProberOptions prober_options,
    const StreamOptions& options,
    const std::function<void(std::size_t, inspect::Observations)>& on_result) {
  StreamOutcome outcome;
  if (requests.empty()) return outcome;
  asio::io_context io;
  std::atomic<bool> interrupted{false};
  std::atomic<std::size_t> finished{0};
  const std::size_t total = requests.size();

  // Ctrl-C: stop the io_context, which returns every run() at once; probes in flight are
  // dropped with it (their sockets close when the io_context is destroyed below).
  asio::signal_set signals(io, SIGINT);
  signals.async_wait([&io, &interrupted](boost::system::error_code ec, int) {
    if (ec) return;
    interrupted = true;
    io.stop();
  });
  asio::steady_timer ticker(io);
  if (options.on_tick) schedule_tick(ticker, options.tick, options.on_tick);

  prober_options.max_concurrent = options.concurrency == 0 ? 1 : options.concurrency;
  {
    proxy::Prober prober(io, std::move(prober_options));
    for (std::size_t i = 0; i < requests.size(); ++i)
      prober.probe(std::move(requests[i]),
                   [&on_result, &finished, &io, total, i](inspect::Observations obs) {
                     on_result(i, std::move(obs));
                     // The last target: nothing else is worth waiting for (the signal set
                     // and the ticker would keep run() going).
                     if (++finished == total) io.stop();
                   });
  }
  std::vector<std::thread> runners;
  for (unsigned t = 1; t < options.threads; ++t) runners.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : runners) t.join();
  outcome.interrupted = interrupted.load() && finished.load() < total;
  outcome.finished = finished.load();
  return outcome;
}

}  // namespace tlsprobe::tools
