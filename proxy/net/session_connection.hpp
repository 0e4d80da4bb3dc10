// What the client, tunnel and forward sessions share: the per-connection state object
// (sockets, strand, one deadline), upstream connection with a timeout and loop check, and
// the proxy's own error answers.
//
// Sessions are C++20 coroutines (asio::awaitable) spawned on the connection's strand; every
// completion is taken as a tuple (asio::as_tuple), so no exception crosses a handler.
#pragma once

#include "proxy/http/http_util.hpp"
#include "proxy/net/host_resolver.hpp"
#include "proxy/net/proxy_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/status.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// The connection's strand (the listener accepts each socket onto a fresh one).
using Strand = asio::any_io_executor;

// One client connection and, once connected, its upstream. All members are used only on
// `strand`. One deadline covers whatever the session waits for now (header, connect,
// idle): when it passes, the watchdog cancels both sockets and sets timed_out, so the
// pending operation completes with operation_aborted and the session answers (408/504) or
// closes. Moving the deadline is an assignment, cheap enough to do on every read.
class SessionConnection : public std::enable_shared_from_this<SessionConnection> {
 public:
  // `peer` is the client's address as accept(2) returned it (no getpeername per connection).
  SessionConnection(tcp::socket client, tcp::endpoint peer, std::shared_ptr<ProxyContext> ctx);
  ~SessionConnection();

  // Registers with the context (connection limits, in all and per client address) and
  // starts the watchdog. Refusal::none when admitted; otherwise the limit that was reached
  // (the caller answers 503 or 429 and drops the connection).
  ProxyContext::Refusal admit();

  void expires_after(std::chrono::steady_clock::duration d);
  void expires_never();
  // Cancels pending operations on both sockets (deadline passed or shutdown).
  void cancel();
  // Closes both sockets; later operations fail at once. Idempotent.
  void close();

  Strand strand;
  tcp::socket client;
  std::optional<tcp::socket> upstream;
  // The name lookup in progress (HostResolver), cancelled with the sockets.
  std::shared_ptr<HostLookup> lookup;
  std::shared_ptr<ProxyContext> ctx;
  bool timed_out = false;
  bool closed = false;
  tcp::endpoint client_endpoint;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

 private:
  void arm_watchdog();
  void on_watchdog();
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point armed_ = std::chrono::steady_clock::time_point::max();
  std::optional<std::uint64_t> id_;
};

// Why an upstream connection failed; each maps to one HTTP status.
// `forbidden`: a destination on this host refused by proxy/net/destination_policy.hpp (403).
enum class UpstreamFailure { none, bad_target, resolve, refused, timeout, loop, forbidden, other };
boost::beast::http::status status_for(UpstreamFailure f);

struct UpstreamResult {
  UpstreamFailure failure = UpstreamFailure::none;
  std::string reason;      // one line for the error answer and the log
  tcp::endpoint endpoint;  // connected endpoint
};

// Resolves `target` ([resolve] first, IP literals directly, else HostResolver::shared(), so
// a name whose DNS hangs delays nobody else), refuses loops to the proxy itself and
// host-local destinations (ProxyContext::judge_destination, on every resolved address), connects
// conn.upstream; lookup and connect together within settings.timeouts.connect.
// Who chose the destination: a client (CONNECT, absolute-form URL: every rule applies) or
// the operator (reverse mode's configured origins: only loops to ourselves are refused, an
// origin on this host's loopback is the common setup).
enum class DestinationChooser { client, operator_config };
asio::awaitable<UpstreamResult> connect_upstream(
    std::shared_ptr<SessionConnection> conn, const HostPort& target,
    DestinationChooser chooser = DestinationChooser::client);

// "127.0.0.1", "::1": an address without brackets or port.
std::string address_text(const tcp::endpoint& ep);

}  // namespace tlsprobe::proxy
