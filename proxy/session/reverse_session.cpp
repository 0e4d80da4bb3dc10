#include "proxy/session/reverse_session.hpp"

#include "inspect/client_hello.hpp"
#include "proxy/http/error_answer.hpp"
#include "proxy/http/exchange_loop.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_recorder.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/session/reverse_service.hpp"
#include "proxy/session/reverse_upstream.hpp"
#include "proxy/tls/client_hello_peek.hpp"
#include "proxy/tls/upstream_judge.hpp"

#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

namespace tlsprobe::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

using ClientStream = ssl::stream<tcp::socket&>;
using HeadParser = http::request_parser<http::empty_body>;

template <class Fields>
void append_header(Fields& f, std::string_view name, const std::string& value) {
  const auto it = f.find(name);
  if (it == f.end()) {
    f.set(name, value);
    return;
  }
  f.set(name, std::string(it->value()) + ", " + value);
}

// The open origin connection of a session.
struct OriginLink {
  std::string route_key;
  std::unique_ptr<OriginStream> tls;
  beast::flat_buffer buf;
  inspect::HandshakeObservation handshake;
  std::shared_ptr<const UpstreamVerdict> verdict;

  // An idle origin connection may carry another request when nothing is waiting on it:
  // no buffered bytes, nothing pending in TLS, no FIN or stray bytes on the socket.
  bool reusable(const std::string& key, std::optional<tcp::socket>& sock) const {
    if (!tls || key != route_key || !sock || !sock->is_open() || buf.size() > 0) return false;
    if (SSL_pending(tls->native_handle()) > 0) return false;
    char c;
    const auto r = ::recv(sock->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

class Session {
 public:
  // Made at accept: the recorder counts the connection from now on, while it is open.
  Session(std::shared_ptr<SessionConnection> conn, std::shared_ptr<ReverseService> svc)
      : conn_(std::move(conn)),
        svc_(std::move(svc)),
        ctx_(*conn_->ctx),
        recorder_(ctx_.log, ctx_.metrics, opening(*conn_)) {}

  asio::awaitable<void> run();

 private:
  // The exchange loop with reverse's hooks; true when the client left (nothing to answer).
  asio::awaitable<bool> serve_requests(ClientStream& cs);
  // Connects, handshakes and verifies the origin for `route`; on failure sets error_.
  asio::awaitable<bool> open_origin(const ReverseRoute& route, std::string_view accept);
  // The facts known at accept.
  static ConnectionFacts opening(const SessionConnection& conn);
  // The origin's findings replace the previous origin's in the record.
  void set_origin_findings(inspect::Findings findings);
  void client_findings(const std::string& host_header);
  void close_origin();
  void write_log();
  asio::awaitable<void> end_connection(ClientStream* cs, bool quiet);

  std::shared_ptr<SessionConnection> conn_;
  std::shared_ptr<ReverseService> svc_;
  ProxyContext& ctx_;
  ConnectionRecorder recorder_;
  ConnectionFacts& facts_ = recorder_.facts();
  inspect::ClientHelloObservation hello_;
  inspect::Findings client_findings_;
  OriginLink origin_;
  std::uint64_t up_ = 0, down_ = 0;
  std::optional<ErrorAnswer> error_;  // the proxy's own answer, sent before closing
};

asio::awaitable<void> Session::run() {
  conn_->expires_after(ctx_.settings.timeouts.header);
  const auto peek = co_await peek_client_hello(*conn_, ctx_.settings.limits.client_hello_bytes);
  if (!peek.ok()) {
    ++ctx_.counters.tls_not_found;
    facts_.failed = true;  // no request was made: event.outcome failure, with the reason
    facts_.reason = peek.reason();
    if (peek.http) {
      facts_.reason = "not_tls: plain HTTP on the TLS port";
      // The request is still unread in the socket (it was only peeked): the answer goes out
      // with a FIN and what the client sent is read and dropped before the close, never a
      // reset that could destroy the answer (proxy/http/error_answer.hpp).
      error_ = ErrorAnswer{
          http::status::bad_request, "this port speaks TLS (reverse mode): use https://", {}};
    }
    write_log();
    co_await end_connection(nullptr, false);
    co_return;
  }
  ++ctx_.counters.tls_found;
  hello_ = inspect::to_observation(peek.result.hello);
  if (hello_.sni && hello_.sni->empty()) hello_.sni.reset();
  facts_.client_hello = hello_;

  ClientStream cs(conn_->client, svc_->server_context());
  std::string detail;
  if (!svc_->present(cs.native_handle(), hello_.sni, detail)) {
    facts_.reason = detail;
    write_log();
    conn_->close();
    co_return;
  }
  conn_->expires_after(ctx_.settings.timeouts.handshake);
  auto [hec] = co_await cs.async_handshake(ssl::stream_base::server, as_tuple(use_awaitable));
  if (hec) {
    facts_.failed = true;
    facts_.reason = conn_->timed_out ? "client TLS handshake timed out"
                                     : "client TLS handshake failed: " + hec.message();
    write_log();
    conn_->close();
    co_return;
  }
  const bool quiet = co_await serve_requests(cs);

  write_log();
  co_await end_connection(&cs, quiet);
}

void Session::client_findings(const std::string& host_header) {
  hello_.http_host = host_header;
  facts_.client_hello = hello_;
  const auto& diagnose = svc_->options().diagnose;
  if (!diagnose) return;
  inspect::Observations obs;
  const auto route = svc_->route(host_header);
  obs.host = route.request_host;
  obs.port = ctx_.listen_endpoint().port();
  obs.target = config::format_host_port(obs.host, obs.port);
  obs.client = hello_;
  for (auto& f : diagnose(obs)) {
    if (f.role != inspect::Role::client) continue;
    if (ctx_.log) ctx_.log->announce(f);
    client_findings_.push_back(std::move(f));
  }
}

void Session::close_origin() {
  if (origin_.tls) origin_.tls.reset();
  if (conn_->upstream) {
    boost::system::error_code ignored;
    conn_->upstream->close(ignored);
    conn_->upstream.reset();
  }
  origin_.buf.clear();
  origin_.route_key.clear();
  origin_.verdict.reset();
}

ConnectionFacts Session::opening(const SessionConnection& conn) {
  ConnectionFacts f;
  f.mode = LogMode::reverse;
  f.role = inspect::Role::origin;
  f.start = conn.started;
  f.client_address = address_text(conn.client_endpoint);
  f.client_port = conn.client_endpoint.port();
  return f;
}

void Session::set_origin_findings(inspect::Findings findings) {
  recorder_.clear_findings();
  recorder_.add_findings(std::move(findings));
}

asio::awaitable<bool> Session::open_origin(const ReverseRoute& route, std::string_view accept) {
  close_origin();
  const auto& opt = svc_->options();
  facts_.destination_domain = is_ip_literal(route.name) ? "" : route.name;
  facts_.destination_port = route.connect.port;
  facts_.destination_address.clear();
  facts_.handshake.reset();
  facts_.verify.reset();
  const auto up =
      co_await connect_upstream(conn_, route.connect, DestinationChooser::operator_config);
  if (up.failure != UpstreamFailure::none) {
    facts_.reason = up.reason;
    // Unreachable origins are findings too (probe.unreachable), so the log says so by code.
    inspect::HandshakeObservation h;
    h.role = inspect::Role::origin;
    h.host = route.name;
    h.port = route.connect.port;
    h.sni = route.sni;
    h.outcome = inspect::HandshakeOutcome::unreachable;
    h.failure = up.failure == UpstreamFailure::timeout   ? inspect::FailureKind::connect_timeout
                : up.failure == UpstreamFailure::refused ? inspect::FailureKind::refused
                : up.failure == UpstreamFailure::resolve ? inspect::FailureKind::dns
                                                         : inspect::FailureKind::network;
    h.failure_detail = up.reason;
    facts_.handshake = h;
    if (opt.diagnose && up.failure != UpstreamFailure::loop) {
      inspect::Observations obs;
      obs.host = route.name;
      obs.port = route.connect.port;
      obs.target = config::format_host_port(route.name, route.connect.port);
      obs.handshakes.push_back(h);
      set_origin_findings(opt.diagnose(obs));
    }
    error_ = ErrorAnswer{status_for(up.failure), up.reason, {}};
    co_return false;
  }
  facts_.destination_address = address_text(up.endpoint);
  boost::system::error_code ignored;
  conn_->upstream->set_option(tcp::no_delay(true), ignored);

  origin_.tls = std::make_unique<OriginStream>(*conn_->upstream, svc_->origin_tls().context());
  OriginHandshakeSpec spec;
  spec.name = route.name;
  spec.port = route.connect.port;
  spec.address = observation_address(up.endpoint);
  spec.sni = route.sni;
  spec.timeout = ctx_.settings.timeouts.handshake;
  auto hs = co_await origin_handshake(*conn_, svc_->origin_tls(), *origin_.tls, spec);
  facts_.handshake = hs;
  if (hs.outcome != inspect::HandshakeOutcome::ok) {
    ++ctx_.counters.upstream_failures;
    facts_.reason = hs.failure_detail;
    set_origin_findings(svc_->origin_tls().diagnose_failure(hs));
    const bool timeout = hs.failure == inspect::FailureKind::handshake_timeout;
    error_ = ErrorAnswer{timeout ? http::status::gateway_timeout : http::status::bad_gateway,
                         hs.failure_detail, ""};
    if (!timeout)
      error_->response = render_origin_refusal(
          facts_.findings.copy(), accept, config::format_host_port(route.name, route.connect.port));
    close_origin();
    co_return false;
  }
  // Same origin name, same chain: same verdict (cached); a name the leaf does not cover is
  // checked against the side probe's no-SNI / unknown-SNI handshakes (sni.default_cert).
  SideProbeRequest proof;
  proof.host = route.name;
  proof.port = route.connect.port;
  proof.dial = hs.address;
  proof.sni = route.sni;
  proof.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.settings.timeouts.probe);
  auto verdict =
      co_await judge_upstream(*conn_, svc_->origin_tls(), hs, ctx_.side_probe.get(), proof);
  facts_.verify =
      VerifyFacts{verdict->verify.ok, verdict->verify.openssl_code, verdict->verify.openssl_text};
  set_origin_findings(verdict->findings);
  if (verdict->failed) {
    facts_.reason =
        "origin failed verification: " +
        (verdict->verify.ok ? std::string("an error finding") : verdict->verify.openssl_text);
    error_ =
        ErrorAnswer{http::status::bad_gateway, facts_.reason,
                    render_origin_refusal(verdict->findings, accept,
                                          config::format_host_port(route.name, route.connect.port),
                                          hs.chain.empty() ? nullptr : &hs.chain.front())};
    close_origin();
    co_return false;
  }
  origin_.route_key = route.key();
  origin_.handshake = std::move(hs);
  origin_.verdict = std::move(verdict);
  co_return true;
}

asio::awaitable<bool> Session::serve_requests(ClientStream& cs) {
  beast::flat_buffer buffer;
  const std::string client_ip = address_text(conn_->client_endpoint);
  std::optional<ReverseRoute> route;  // the current request's
  std::string accept;

  ExchangeHooks<TlsStream> hooks;
  // Only the sites this proxy serves are diagnosed: a client-chosen Host is never sent
  // upstream as SNI, probed, announced or made a metrics series.
  hooks.admit = [&](Exchange& ex, const http::request_header<>& h) -> std::optional<ErrorAnswer> {
    const std::string host_header(h[http::field::host]);
    facts_.http = HttpFacts{};
    facts_.http->method = std::string(h.method_string());
    note_request(*facts_.http, h.version(), h[http::field::user_agent]);
    if ((host_header.empty() && h.version() >= 11) || !valid_host_header(host_header)) {
      facts_.reason = "bad Host header";
      return ErrorAnswer{
          http::status::bad_request, "bad request: the Host header is not a host name", {}};
    }
    route = svc_->route(host_header);
    if (!svc_->serves_host(route->request_host)) {
      facts_.reason = "misdirected request: Host " + route->request_host + " is not served";
      return ErrorAnswer{http::status::misdirected_request,
                         "misdirected request: this proxy does not serve " + route->request_host,
                         {}};
    }
    if (ex.first) client_findings(host_header);
    for (auto it = h.find(http::field::via); it != h.end() && it->name() == http::field::via;
         ++it) {
      if (via_names_us(it->value(), ctx_.via_token)) {
        ++ctx_.counters.loops;
        facts_.reason = "request loop";
        return ErrorAnswer{http::status::forbidden,
                           "request loop: this request already passed through this proxy",
                           {}};
      }
    }
    accept = std::string(h[http::field::accept]);
    facts_.http->url =
        "https://" + (host_header.empty() ? route->name : host_header) + std::string(h.target());
    return std::nullopt;
  };
  hooks.upstream =
      [&](Exchange&, const http::request_header<>&) -> asio::awaitable<UpstreamChoice<TlsStream>> {
    UpstreamChoice<TlsStream> out;
    if (!origin_.reusable(route->key(), conn_->upstream)) {
      const bool opened = co_await open_origin(*route, accept);
      if (!opened) {
        out.refusal = std::exchange(error_, std::nullopt);
        co_return out;
      }
    }
    out.stream = origin_.tls.get();
    out.buffer = &origin_.buf;
    co_return out;
  };
  hooks.edit_request = [&](Exchange&, http::request_header<>& req) {
    append_header(req, "X-Forwarded-For", client_ip);
    req.set("X-Forwarded-Proto", "https");
  };
  hooks.response = [&](Exchange& ex, const http::response_header<>&) {
    facts_.http->status = ex.status;
  };
  hooks.release_upstream = [this] { close_origin(); };

  auto end = co_await serve_exchanges(*conn_, cs, buffer, hooks, nullptr, up_, down_);
  if (end.error) {
    if (facts_.reason.empty()) facts_.reason = end.error->reason;
    error_ = std::move(end.error);
  } else if (!end.reason.empty() && facts_.reason.empty()) {
    facts_.reason = end.reason;
  }
  co_return end.quiet;
}

void Session::write_log() {
  // The status the client got from us when the exchange failed before a response.
  if (error_ && facts_.http && facts_.http->status == 0)
    facts_.http->status = static_cast<int>(error_->status);
  facts_.bytes_client_to_server = up_;
  facts_.bytes_server_to_client = down_;
  // What the client itself did stays in the record whichever origin it reached.
  recorder_.add_findings(client_findings_);
  // One line, its findings announced, metrics counted and the connection closed in them:
  // once (proxy/observe/connection_recorder.hpp).
  recorder_.close(up_, down_);
}

asio::awaitable<void> Session::end_connection(ClientStream* cs, bool quiet) {
  if (error_) {
    if (cs)
      co_await answer_and_close(*conn_, *cs, *error_, &down_);
    else
      co_await answer_and_close(*conn_, conn_->client, *error_);
  } else if (cs && !quiet && !conn_->timed_out) {
    co_await end_gracefully(*conn_, *cs);  // close_notify: the client knows the response ended
  }
  close_origin();
  conn_->close();
}

}  // namespace

void start_reverse_session(std::shared_ptr<SessionConnection> conn,
                           std::shared_ptr<ReverseService> service) {
  auto ex = conn->strand;
  auto session = std::make_shared<Session>(conn, std::move(service));
  asio::co_spawn(ex, session->run(), [conn, session](std::exception_ptr e) {
    // Sessions take every result as a value; an exception here is a bug (bad_alloc at
    // worst). Report it and drop this connection only.
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "tlsprobe: reverse session error: %s\n", x.what());
      }
    }
    conn->close();
  });
}

std::function<void(std::shared_ptr<SessionConnection>)> reverse_session_starter(
    std::shared_ptr<ReverseService> service) {
  return [service = std::move(service)](std::shared_ptr<SessionConnection> conn) {
    start_reverse_session(std::move(conn), service);
  };
}

}  // namespace tlsprobe::proxy
