// Name lookups that never block each other and that give up at their deadline.
//
// Why not asio::ip::tcp::resolver: Boost.Asio (1.81) runs every getaddrinfo of an io_context
// on ONE private background thread, one query after another, and resolver::cancel() only
// marks queries that have not started yet (their handlers still wait their turn behind the
// running one). So a name whose DNS server never answers holds up every other lookup for
// getaddrinfo's whole retry time (resolv.conf timeout x attempts x nameservers), its own
// client waits that long too, and destroying the io_context joins that thread.
//
// Here getaddrinfo runs on a small bounded pool of detached threads. Every lookup has a
// timeout: when it passes, or on cancel(), the caller's handler runs at once and a late
// result is dropped (the pool thread finishes on its own). Concurrent lookups of the same
// name share one getaddrinfo call. At most `max_queued` names wait for a thread; beyond that
// a lookup fails at once (ResolveError::queue_full), so a storm of hanging names cannot grow
// memory without bound.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tlsprobe::proxy {

enum class ResolveError {
  timed_out = 1,  // the lookup's timeout passed first
  queue_full,     // too many names already wait for a resolver thread
  shut_down,      // the resolver was destroyed before the lookup started
};
const boost::system::error_category& resolve_category();
boost::system::error_code make_error_code(ResolveError e);

// One lookup in progress; cancel() completes it with operation_aborted (no-op once done).
class HostLookup {
 public:
  virtual ~HostLookup() = default;
  virtual void cancel() = 0;
};

class HostResolver {
 public:
  using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;
  using Handler = std::function<void(boost::system::error_code, Endpoints)>;
  struct Limits {
    unsigned threads = 8;          // getaddrinfo calls running at once (threads start on demand)
    std::size_t max_queued = 256;  // distinct names waiting for a thread
  };

  HostResolver();  // default Limits
  explicit HostResolver(Limits limits);
  // Fails lookups still queued (shut_down) and lets the threads go: a thread inside
  // getaddrinfo cannot be interrupted, so it is detached rather than joined (it exits when
  // the call returns; the state it uses is shared with it). Destruction never blocks.
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  // The process-wide resolver. Never destroyed (deliberately leaked): at exit its threads
  // may be inside getaddrinfo, and the process ending is what stops them.
  static HostResolver& shared();

  // Resolves host:port (numeric port; `flags` are getaddrinfo's ai_flags). `done` runs
  // exactly once, on `ex`: with the addresses, a lookup error (asio's netdb errors),
  // ResolveError::timed_out after `timeout`, operation_aborted after cancel(), or at once
  // with ResolveError::queue_full. Keep the returned handle to cancel; dropping it does not.
  std::shared_ptr<HostLookup> resolve(const boost::asio::any_io_executor& ex, std::string host,
                                      std::uint16_t port,
                                      std::chrono::steady_clock::duration timeout, Handler done,
                                      int flags = kDefaultFlags);

  static const int kDefaultFlags;  // AI_NUMERICSERV

  struct Stats {
    std::size_t threads = 0, running = 0, queued = 0;
  };
  Stats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// The asio form of HostResolver::resolve (e.g. co_await with as_tuple(use_awaitable)):
// completion signature void(error_code, Endpoints), delivered on `ex`. `handle` receives the
// lookup for cancel(); it must outlive the operation (e.g. a member of the connection).
template <class Token>
auto async_resolve_host(HostResolver& resolver, const boost::asio::any_io_executor& ex,
                        std::string host, std::uint16_t port,
                        std::chrono::steady_clock::duration timeout,
                        std::shared_ptr<HostLookup>& handle, Token&& token) {
  return boost::asio::async_initiate<Token,
                                     void(boost::system::error_code, HostResolver::Endpoints)>(
      [&resolver, &handle, ex](auto handler, std::string h, std::uint16_t p,
                               std::chrono::steady_clock::duration t) {
        // Asio completion handlers are move-only and std::function wants a copyable one.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        handle =
            resolver.resolve(ex, std::move(h), p, t,
                             [shared](boost::system::error_code ec, HostResolver::Endpoints eps) {
                               (*shared)(ec, std::move(eps));
                             });
      },
      token, std::move(host), port, timeout);
}

}  // namespace tlsprobe::proxy

template <>
struct boost::system::is_error_code_enum<tlsprobe::proxy::ResolveError> : std::true_type {};
