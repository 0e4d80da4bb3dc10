#include "proxy/net/server.hpp"

#include "proxy/net/context_generations.hpp"

#include "proxy/net/listener.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/probe/side_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>
#include <vector>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

namespace {

// Waits until `done()` or `limit` has passed, checking every 20 ms.
template <class Pred>
asio::awaitable<bool> wait_until(asio::steady_timer& t, std::chrono::milliseconds limit,
                                 Pred done) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) co_return false;
    t.expires_after(std::chrono::milliseconds(20));
    co_await t.async_wait(as_tuple(use_awaitable));
  }
  co_return true;
}

}  // namespace

namespace {

// settings.threads, or by default one io thread per two cores: on a small machine the proxy
// shares its cores with its clients and upstreams, and a second io thread there mostly adds
// scheduler-lock contention and cross-thread wakeups (futex) on every completion. With one
// thread (concurrency hint 1) those locks are never contended.
unsigned io_threads(const ProxySettings& s) {
  if (s.threads) return s.threads;
  return std::max(1u, std::thread::hardware_concurrency() / 2);
}

}  // namespace

Server::Server(ProxySettings settings, ConnectionLog* log)
    : settings_(std::move(settings)), log_(log), ioc_(static_cast<int>(io_threads(settings_))) {}

Server::~Server() = default;

boost::system::error_code Server::start() {
  auto ctx = std::make_shared<ProxyContext>(settings_, log_, side_probe_);
  ctx->metrics = metrics_;
  generations_ = std::make_shared<ContextGenerations>(ctx);
  if (metrics_) {
    // Open from accept, whatever the session later becomes (DESIGN.md section 8 metrics),
    // in every generation a reload left behind too.
    std::weak_ptr<ContextGenerations> weak = generations_;
    metrics_->set_open_connections_source([weak]() -> std::int64_t {
      const auto g = weak.lock();
      return g ? static_cast<std::int64_t>(g->open_connections()) : 0;
    });
  }
  listener_ = std::make_shared<Listener>(
      ioc_, ctx, io_threads(settings_) == 1 ? IoThreads::one : IoThreads::several);
  if (starter_) listener_->set_session_starter(starter_);
  if (auto ec = listener_->open(settings_.listen)) return ec;
  listener_->start();
  return {};
}

std::shared_ptr<ProxyContext> Server::context() const {
  return generations_ ? generations_->current() : nullptr;
}

void Server::replace_settings(ProxySettings settings, std::shared_ptr<SideProbe> side_probe) {
  const auto previous = generations_->current();
  if (!side_probe) side_probe = previous->side_probe;
  auto next = std::make_shared<ProxyContext>(std::move(settings), log_, std::move(side_probe));
  // What the previous generation learnt after construction: the bound address (port 0
  // resolved), the other own ports (loop protection) and the metrics registry. The Via token
  // is new: a request still in flight with the old one is caught by the destination check.
  next->metrics = metrics_;
  next->set_listen_endpoint(previous->listen_endpoint());
  {
    std::lock_guard lock(own_ports_mutex_);
    for (const auto port : own_ports_) next->add_own_port(port);
  }
  generations_->replace(next);
  listener_->set_context(std::move(next));
}

void Server::add_own_port(std::uint16_t port) {
  {
    std::lock_guard lock(own_ports_mutex_);
    own_ports_.push_back(port);
  }
  if (generations_) generations_->current()->add_own_port(port);
}

std::size_t Server::context_generations() const { return generations_ ? generations_->count() : 0; }

tcp::endpoint Server::local_endpoint() const {
  return listener_ ? listener_->local_endpoint() : tcp::endpoint{};
}

void Server::run(SignalHandling signals) {
  std::optional<asio::signal_set> sigs;
  if (signals == SignalHandling::install) {
    sigs.emplace(ioc_, SIGINT, SIGTERM);
    sigs->async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) shutdown();
    });
  }
  const unsigned n = io_threads(settings_);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (auto& t : threads) t.join();
}

void Server::shutdown() {
  if (shutting_down_.exchange(true)) return;
  asio::post(ioc_, [this] { begin_shutdown(); });
}

void Server::begin_shutdown() {
  asio::co_spawn(
      ioc_,
      [this]() -> asio::awaitable<void> {
        auto gens = generations_;
        const auto drain = gens->current()->settings.timeouts.drain;
        const auto probe = gens->current()->settings.timeouts.probe;
        gens->set_draining();
        if (listener_) listener_->stop();
        asio::steady_timer t(ioc_);
        // 1. Let open connections finish on their own, for at most the drain period.
        co_await wait_until(t, std::chrono::duration_cast<std::chrono::milliseconds>(drain),
                            [&] { return gens->open_connections() == 0; });
        // 2. Close the rest: each writes its log line as it ends.
        gens->close_all();
        co_await wait_until(t, std::chrono::milliseconds(2000),
                            [&] { return gens->open_connections() == 0; });
        // 3. Lines still waiting for their probe: the probe timeout bounds each.
        co_await wait_until(t,
                            std::chrono::duration_cast<std::chrono::milliseconds>(probe) +
                                std::chrono::milliseconds(1000),
                            [&] { return gens->pending_lines() <= 0; });
        ioc_.stop();
      },
      asio::detached);
}

}  // namespace tlsprobe::proxy
