// Listener: accepts clients, gives each its own strand (with several io threads) and session.
// Refuses, with a short HTTP answer and a close, clients outside the allow-list (403) and clients
// over the connection limit (503). When the process runs out of descriptors (EMFILE), Asio's accept
// would fail at once, again and again: the listener keeps one reserve descriptor, frees it
// to accept and close the waiting client cleanly, re-takes it and backs off briefly.
#pragma once

#include "proxy/net/proxy_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <functional>
#include <memory>

namespace tlsprobe::proxy {

class SessionConnection;

// How many threads run the io_context. With one, handlers never run concurrently and a
// connection needs no strand of its own: each strand costs an allocation, a mutex and an
// indirection on every completion of every connection.
enum class IoThreads { one, several };

// Serves one admitted connection (default: start_client_session, the forward proxy).
using SessionStarter = std::function<void(std::shared_ptr<SessionConnection>)>;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, std::shared_ptr<ProxyContext> ctx,
           IoThreads threads = IoThreads::several);
  ~Listener();

  // Binds and listens (SO_REUSEADDR). Error: address in use, not a local address…
  boost::system::error_code open(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  // Stops accepting (thread-safe). Open connections are not touched.
  void stop();
  // Reverse mode: accepted connections go to `starter` instead of the forward proxy. Set
  // before start().
  void set_session_starter(SessionStarter starter) { starter_ = std::move(starter); }
  // A configuration reload: connections accepted from now on get `ctx` (thread-safe; open
  // connections keep theirs).
  void set_context(std::shared_ptr<ProxyContext> ctx);

 private:
  boost::asio::awaitable<void> accept_loop();
  void refuse(boost::asio::ip::tcp::socket& s, unsigned status, const char* reason);

  boost::asio::io_context& ioc_;
  std::shared_ptr<ProxyContext> ctx_;
  IoThreads threads_;
  // The accept loop's executor: a strand with several io threads (stop() and set_context()
  // post to it from other threads), the io_context's own with one.
  boost::asio::any_io_executor strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int reserve_fd_ = -1;
  SessionStarter starter_;
};

}  // namespace tlsprobe::proxy
