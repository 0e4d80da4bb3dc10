// HostResolver without DNS: names from /etc/hosts, and a resolver with no threads (threads =
// 0), where every lookup stays queued, to check timeouts, sharing, the queue bound and
// shutdown deterministically. tests/hardening/dns_timeout_test.cpp covers a DNS server that
// never answers, against the real binary.
#include "proxy/net/host_resolver.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

using namespace tlsprobe::proxy;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct Outcome {
  std::optional<boost::system::error_code> ec;
  HostResolver::Endpoints endpoints;
  bool on_strand = false;
  std::chrono::steady_clock::time_point at;
};

HostResolver::Handler record(Outcome& o, const asio::strand<asio::io_context::executor_type>& s) {
  return [&o, s](boost::system::error_code ec, HostResolver::Endpoints eps) {
    REQUIRE_FALSE(o.ec);  // exactly once
    o.ec = ec;
    o.endpoints = std::move(eps);
    o.on_strand = s.running_in_this_thread();
    o.at = std::chrono::steady_clock::now();
  };
}

}  // namespace

TEST_CASE("HostResolver: a name from /etc/hosts resolves, on the caller's strand",
          "[proxy][resolver]") {
  asio::io_context ioc;
  auto strand = asio::make_strand(ioc);
  HostResolver resolver;
  Outcome o;
  auto lookup = resolver.resolve(strand, "localhost", 8080, 5s, record(o, strand));
  ioc.run_for(5s);
  REQUIRE(o.ec);
  CHECK_FALSE(*o.ec);
  CHECK(o.on_strand);
  REQUIRE_FALSE(o.endpoints.empty());
  for (const auto& ep : o.endpoints) {
    CHECK(ep.address().is_loopback());
    CHECK(ep.port() == 8080);
  }
  lookup->cancel();  // after completion: nothing more happens
  ioc.restart();
  ioc.run_for(50ms);
}

TEST_CASE("HostResolver: timeouts, sharing, the queue bound and shutdown (no threads)",
          "[proxy][resolver]") {
  asio::io_context ioc;
  auto strand = asio::make_strand(ioc);
  std::optional<HostResolver> resolver(HostResolver::Limits{.threads = 0, .max_queued = 1});
  const auto start = std::chrono::steady_clock::now();

  Outcome first, shared, full;
  auto l1 = resolver->resolve(strand, "a.example", 443, 200ms, record(first, strand));
  // The same name and port shares the queued lookup: no queue slot of its own.
  auto l2 = resolver->resolve(strand, "a.example", 443, 100ms, record(shared, strand));
  // A second name finds the queue (one slot) full and fails at once.
  auto l3 = resolver->resolve(strand, "b.example", 443, 5s, record(full, strand));
  CHECK(resolver->stats().queued == 1);
  ioc.run_for(1s);

  REQUIRE(full.ec);
  CHECK(*full.ec == ResolveError::queue_full);
  CHECK(full.ec->message() == "too many name lookups pending");
  CHECK(full.at - start < 100ms);
  REQUIRE(shared.ec);
  CHECK(*shared.ec == ResolveError::timed_out);
  CHECK(shared.at - start >= 90ms);
  REQUIRE(first.ec);
  CHECK(*first.ec == ResolveError::timed_out);
  CHECK(first.at - start >= 190ms);
  CHECK(first.at - start < 900ms);
  CHECK(first.on_strand);
  // Nobody waits for it any more and no thread took it: its slot is free again.
  CHECK(resolver->stats().queued == 0);

  // cancel() answers at once with operation_aborted.
  Outcome cancelled;
  auto l4 = resolver->resolve(strand, "c.example", 443, 5s, record(cancelled, strand));
  l4->cancel();
  ioc.restart();
  ioc.run_for(200ms);
  REQUIRE(cancelled.ec);
  CHECK(*cancelled.ec == asio::error::operation_aborted);

  // Destroying the resolver fails what is still queued (and does not block).
  Outcome orphan;
  auto l5 = resolver->resolve(strand, "d.example", 443, 5s, record(orphan, strand));
  resolver.reset();
  ioc.restart();
  ioc.run_for(200ms);
  REQUIRE(orphan.ec);
  CHECK(*orphan.ec == ResolveError::shut_down);
}
