#include "proxy/observe/admin_listener.hpp"

#include "config/address.hpp"
#include "proxy/observe/metrics.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class AdminSession;

}  // namespace

struct AdminListener::Impl : std::enable_shared_from_this<AdminListener::Impl> {
  Impl(asio::io_context& io_, const Metrics& metrics_, AdminLimits limits_)
      : io(io_),
        metrics(metrics_),
        limits(limits_),
        strand(asio::make_strand(io_)),
        acceptor(strand),
        backoff(strand) {}

  void do_accept();
  void on_accept(boost::system::error_code ec, tcp::socket socket);

  asio::io_context& io;
  const Metrics& metrics;
  const AdminLimits limits;
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;  // after an accept error (EMFILE), wait instead of spinning
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> stopped{false};
  std::function<bool(std::string_view)> client_filter;  // set before start()
  // Open sessions, so stop() can close them. A session removes itself when it ends (each
  // of its waits has a deadline), which breaks the session <-> listener reference cycle.
  std::mutex sessions_mutex;
  std::set<std::shared_ptr<AdminSession>> sessions;
  std::map<std::string, AdminRoute, std::less<>> routes;  // set before start(), then read-only
};

namespace {

// One admin connection: read a request (deadline, header limit), answer, repeat while the
// client keeps the connection alive, up to max_requests_per_connection.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(std::shared_ptr<AdminListener::Impl> owner, tcp::socket socket)
      : owner_(std::move(owner)), stream_(std::move(socket)) {}

  void run() {
    // The accepted socket already runs on its own strand (make_strand in async_accept).
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&AdminSession::do_read, shared_from_this()));
  }

  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(owner_->limits.max_header_bytes));
    parser_->body_limit(owner_->limits.max_body_bytes);
    stream_.expires_after(owner_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&AdminSession::on_read, shared_from_this()));
  }

  void on_read(boost::system::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return finish();
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      // Say why before closing: a client that sent too much gets a status, not a reset.
      respond(http::status::request_header_fields_too_large, "request too large\n", false);
      return;
    }
    if (ec) return finish();  // timeout, reset, garbage: nothing to answer
    const auto& req = parser_->get();
    ++requests_;
    const bool keep = req.keep_alive() && requests_ < owner_->limits.max_requests_per_connection;
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (const auto route = owner_->routes.find(path); route != owner_->routes.end()) {
      const bool head = req.method() == http::verb::head;
      AdminReply r = route->second(req.method_string(), target);
      return respond(static_cast<http::status>(r.status), std::move(r.body), keep, req.version(),
                     r.content_type, head, r.allow);
    }
    const bool known = path == "/metrics" || path == "/healthz";
    if (!known) return respond(http::status::not_found, "not found\n", keep, req.version());
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return respond(http::status::method_not_allowed, "method not allowed\n", keep, req.version());
    const bool head = req.method() == http::verb::head;
    if (path == "/healthz") return respond(http::status::ok, "ok\n", keep, req.version(), {}, head);
    respond(http::status::ok, owner_->metrics.render(), keep, req.version(), metrics_content_type,
            head);
  }

  void respond(http::status status, std::string body, bool keep, unsigned version = 11,
               std::string_view content_type = {}, bool head = false, std::string_view allow = {}) {
    auto res = std::make_shared<http::response<http::string_body>>(status, version);
    res->set(http::field::server, "tlsprobe");
    if (!allow.empty()) res->set(http::field::allow, allow);
    res->set(http::field::content_type,
             content_type.empty() ? std::string_view("text/plain; charset=utf-8") : content_type);
    res->keep_alive(keep);
    const auto size = body.size();
    if (!head) res->body() = std::move(body);
    res->prepare_payload();
    if (head) res->content_length(size);
    stream_.expires_after(owner_->limits.write_timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep](boost::system::error_code ec, std::size_t) {
          if (ec || !keep) return self->finish();
          self->do_read();
        });
  }

  void finish() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);  // ignore: peer may be gone
    stream_.close();
    std::lock_guard lock(owner_->sessions_mutex);
    owner_->sessions.erase(shared_from_this());
  }

  std::shared_ptr<AdminListener::Impl> owner_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::size_t requests_ = 0;
};

}  // namespace

void AdminListener::Impl::do_accept() {
  if (stopped) return;
  acceptor.async_accept(asio::make_strand(io),
                        beast::bind_front_handler(&Impl::on_accept, shared_from_this()));
}

void AdminListener::Impl::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: Asio would report the same error at once again and spin; back off.
    backoff.expires_after(std::chrono::milliseconds(100));
    backoff.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  if (client_filter) {
    boost::system::error_code rec;
    const auto remote = socket.remote_endpoint(rec);
    if (rec || !client_filter(remote.address().to_string())) {
      boost::system::error_code ignored;  // not on the admin allow-list: closed unanswered
      socket.close(ignored);
      return do_accept();
    }
  }
  std::shared_ptr<AdminSession> session;
  {
    std::lock_guard lock(sessions_mutex);
    if (sessions.size() < limits.max_connections) {
      session = std::make_shared<AdminSession>(shared_from_this(), std::move(socket));
      sessions.insert(session);
    }
  }
  if (session) {
    session->run();
  } else {
    boost::system::error_code ignored;  // over the bound: refuse cleanly, keep accepting
    socket.close(ignored);
  }
  do_accept();
}

AdminListener::AdminListener(asio::io_context& io, const Metrics& metrics, AdminLimits limits)
    : impl_(std::make_shared<Impl>(io, metrics, limits)) {}

AdminListener::~AdminListener() { stop(); }

boost::system::error_code AdminListener::start(const std::string& address) {
  boost::system::error_code ec;
  // "ADDR:PORT" or "[v6]:PORT", the port required; port 0 (an ephemeral port, for tests) is
  // allowed here, as for any address to listen on.
  const auto parsed = config::parse_listen_address(address, 0);
  if (!parsed) return asio::error::invalid_argument;
  const auto ip = asio::ip::make_address(parsed->host, ec);
  if (ec) return ec;
  const tcp::endpoint ep(ip, parsed->port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return ec;
  }
  impl_->port = acceptor.local_endpoint(ec).port();
  asio::post(impl_->strand, [impl = impl_] { impl->do_accept(); });
  return {};
}

void AdminListener::add_route(std::string path, AdminRoute route) {
  impl_->routes[std::move(path)] = std::move(route);
}

std::uint16_t AdminListener::port() const { return impl_->port; }

void AdminListener::set_client_filter(std::function<bool(std::string_view)> allowed) {
  impl_->client_filter = std::move(allowed);
}

void AdminListener::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->strand, [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->backoff.cancel();
  });
  std::set<std::shared_ptr<AdminSession>> open;
  {
    std::lock_guard lock(impl_->sessions_mutex);
    open.swap(impl_->sessions);
  }
  for (auto& s : open) s->close();
}

bool start_admin_or_warn(AdminListener& listener, const std::string& address) {
  if (address == "off") return true;
  if (auto ec = listener.start(address)) {
    std::fprintf(stderr,
                 "tlsprobe: warning: admin listener %s not started: %s; continuing without "
                 "metrics\n",
                 address.c_str(), ec.message().c_str());
    return false;
  }
  return true;
}

}  // namespace tlsprobe::proxy
