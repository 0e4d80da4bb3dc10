#include "proxy/session/reverse_session.hpp"

#include "inspect/client_hello.hpp"
#include "proxy/http/http_relay.hpp"
#include "proxy/http/request_framing.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_recorder.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/session/reverse_service.hpp"
#include "proxy/session/reverse_upstream.hpp"
#include "proxy/tls/client_hello_peek.hpp"
#include "proxy/tls/upstream_judge.hpp"

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

constexpr auto kErrorWriteTimeout = std::chrono::seconds(2);

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
  asio::awaitable<void> serve_requests(ClientStream& cs);
  // Connects, handshakes and verifies the origin for `route`; on failure sets error_.
  asio::awaitable<bool> open_origin(const ReverseRoute& route, std::string_view accept);
  // The facts known at accept.
  static ConnectionFacts opening(const SessionConnection& conn);
  // The origin's findings replace the previous origin's in the record.
  void set_origin_findings(inspect::Findings findings);
  void client_findings(const std::string& host_header);
  void close_origin();
  void write_log();
  asio::awaitable<void> answer_and_close(ClientStream* cs, std::string response);

  std::shared_ptr<SessionConnection> conn_;
  std::shared_ptr<ReverseService> svc_;
  ProxyContext& ctx_;
  ConnectionRecorder recorder_;
  ConnectionFacts& facts_ = recorder_.facts();
  inspect::ClientHelloObservation hello_;
  inspect::Findings client_findings_;
  OriginLink origin_;
  std::uint64_t up_ = 0, down_ = 0;
  std::optional<std::string> error_;  // full HTTP response to send before closing
};

asio::awaitable<void> Session::run() {
  const auto& opt = svc_->options();
  conn_->expires_after(opt.timeouts.client_hello);
  const auto peek = co_await peek_client_hello(*conn_, ctx_.settings.limits.client_hello_bytes);
  if (!peek.ok()) {
    ++ctx_.counters.tls_not_found;
    facts_.failed = true;  // no request was made: event.outcome failure, with the reason
    facts_.reason = peek.reason();
    if (peek.http) {
      facts_.reason = "not_tls: plain HTTP on the TLS port";
      write_log();
      // The request is still unread in the socket (it was only peeked): the answer goes out
      // with a FIN and what the client sent is read and dropped before the close, never a
      // reset that could destroy the answer (proxy/net/session_connection.hpp).
      co_await send_error_and_close(conn_, http::status::bad_request,
                                    "this port speaks TLS (reverse mode): use https://");
      co_return;
    }
    write_log();
    conn_->close();
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
  conn_->expires_after(opt.timeouts.handshake);
  auto [hec] = co_await cs.async_handshake(ssl::stream_base::server, as_tuple(use_awaitable));
  if (hec) {
    facts_.failed = true;
    facts_.reason = conn_->timed_out ? "client TLS handshake timed out"
                                     : "client TLS handshake failed: " + hec.message();
    write_log();
    conn_->close();
    co_return;
  }
  boost::system::error_code ignored;
  conn_->client.set_option(tcp::no_delay(true), ignored);

  co_await serve_requests(cs);

  write_log();
  co_await answer_and_close(&cs, error_.value_or(""));
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
  obs.target = obs.host + ":" + std::to_string(obs.port);
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
      obs.target = route.name + ":" + std::to_string(route.connect.port);
      obs.handshakes.push_back(h);
      set_origin_findings(opt.diagnose(obs));
    }
    error_ = error_response(status_for(up.failure), up.reason);
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
  spec.timeout = opt.timeouts.handshake;
  auto hs = co_await origin_handshake(*conn_, svc_->origin_tls(), *origin_.tls, spec);
  facts_.handshake = hs;
  if (hs.outcome != inspect::HandshakeOutcome::ok) {
    ++ctx_.counters.upstream_failures;
    facts_.reason = hs.failure_detail;
    set_origin_findings(svc_->origin_tls().diagnose_failure(hs));
    const bool timeout = hs.failure == inspect::FailureKind::handshake_timeout;
    error_ = timeout ? error_response(http::status::gateway_timeout, hs.failure_detail)
                     : render_origin_refusal(facts_.findings, accept,
                                             route.name + ":" + std::to_string(route.connect.port));
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
    error_ = render_origin_refusal(verdict->findings, accept,
                                   route.name + ":" + std::to_string(route.connect.port),
                                   hs.chain.empty() ? nullptr : &hs.chain.front());
    close_origin();
    co_return false;
  }
  origin_.route_key = route.key();
  origin_.handshake = std::move(hs);
  origin_.verdict = std::move(verdict);
  co_return true;
}

asio::awaitable<void> Session::serve_requests(ClientStream& cs) {
  const auto& s = ctx_.settings;
  const auto& opt = svc_->options();
  beast::flat_buffer buffer;
  std::vector<char> chunk(kRelayChunkBytes);
  const std::string client_ip = address_text(conn_->client_endpoint);

  for (bool first = true;; first = false) {
    auto head = std::make_unique<HeadParser>();
    head->header_limit(s.limits.max_header_bytes);
    // The body streams later under its own limit: the head parser must not refuse a large
    // Content-Length (Beast's default for requests is 1 MB: such an upload got a 400).
    head->body_limit(boost::none);
    conn_->expires_after(first ? s.timeouts.header : s.timeouts.idle);
    auto [ec, n] = co_await read_request_head(cs, buffer, *head, s.limits.max_header_bytes);
    if (ec) {
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        error_ = error_response(http::status::request_header_fields_too_large,
                                "request header too large");
      } else if (first && conn_->timed_out) {
        error_ = error_response(http::status::request_timeout, "request head not received in time");
      } else if (buffer.size() > 0 && !conn_->timed_out && ec != http::error::end_of_stream) {
        error_ = error_response(http::status::bad_request, "bad request: " + ec.message());
      }
      if (error_) facts_.reason = "client request: " + ec.message();
      co_return;
    }
    // One way to read where this request ends, or none at all (RFC 9112, request_framing.hpp).
    const auto framing = check_request_framing(head->get());
    if (!framing) {
      error_ = error_response(framing.status, framing.reason);
      facts_.reason = framing.reason;
      co_return;
    }
    const auto& h = head->get();
    const std::string host_header(h[http::field::host]);
    facts_.http = HttpFacts{};
    facts_.http->method = std::string(h.method_string());
    // Only the sites this proxy serves are diagnosed: a client-chosen Host is never sent
    // upstream as SNI, probed, announced or made a metrics series.
    if ((host_header.empty() && h.version() >= 11) || !valid_host_header(host_header)) {
      error_ = error_response(http::status::bad_request,
                              "bad request: the Host header is not a host name");
      facts_.reason = "bad Host header";
      co_return;
    }
    const auto route = svc_->route(host_header);
    if (!svc_->serves_host(route.request_host)) {
      error_ =
          error_response(http::status::misdirected_request,
                         "misdirected request: this proxy does not serve " + route.request_host);
      facts_.reason = "misdirected request: Host " + route.request_host + " is not served";
      co_return;
    }
    if (first) client_findings(host_header);
    for (auto it = h.find(http::field::via); it != h.end() && it->name() == http::field::via;
         ++it) {
      if (via_names_us(it->value(), ctx_.via_token)) {
        ++ctx_.counters.loops;
        error_ = error_response(http::status::forbidden,
                                "request loop: this request already passed through this proxy");
        facts_.reason = "request loop";
        co_return;
      }
    }
    const std::string accept(h[http::field::accept]);
    facts_.http->url =
        "https://" + (host_header.empty() ? route.name : host_header) + std::string(h.target());

    if (!origin_.reusable(route.key(), conn_->upstream)) {
      if (!co_await open_origin(route, accept)) co_return;
    }

    // From here the request streams: a parser whose body goes through our chunk.
    http::request_parser<http::buffer_body> req_p{std::move(*head)};
    req_p.body_limit(body_limit_of(s));
    auto& req = req_p.get();
    const bool client_keep = req.keep_alive() && !framing.close_after;
    const unsigned client_version = req.version();
    const bool is_head = req.method() == http::verb::head;
    strip_hop_by_hop(req);
    // Transfer-Encoding is hop-by-hop, but the framing is re-applied on our side: the
    // parser de-chunks and the serializer chunks again.
    restore_transfer_codings(req, framing);
    if (framing.close_after) req.version(11);  // read as HTTP/1.1 chunked, sent as such
    // The origin gets origin-form, as from a client that connected to it directly.
    if (!framing.origin_form.empty()) req.target(framing.origin_form);
    // The 100 comes from us; the body then streams straight through.
    if (!co_await answer_expect_continue(*conn_, cs, req_p, down_)) co_return;
    append_header(req, "X-Forwarded-For", client_ip);
    req.set("X-Forwarded-Proto", "https");
    append_header(req, "Via", std::string(client_version >= 11 ? "1.1 " : "1.0 ") + ctx_.via_token);
    req.keep_alive(true);

    const auto sent = co_await relay_message(*conn_, cs, buffer, req_p, *origin_.tls, chunk, up_);
    if (!sent) {
      // A body the client framed wrongly is its own 400 (413 over the limit).
      if (sent.malformed())
        error_ = error_response(http::status::bad_request,
                                "bad request body: " + sent.read_error.message());
      else if (sent.too_large())
        error_ = error_response(http::status::payload_too_large, "request body too large");
      else if (!conn_->closed && !conn_->timed_out)
        error_ =
            error_response(http::status::bad_gateway, "sending the request to the origin failed");
      facts_.reason = "relay of the request failed";
      co_return;
    }

    std::optional<BodyParser<false>> res_parser;
    auto res_head = co_await read_response_head(
        *conn_, *origin_.tls, origin_.buf, res_parser, is_head, s.limits.max_header_bytes * 2,
        s.limits.max_body_bytes, opt.timeouts.upstream_response);
    if (res_head.too_many_interim) {
      error_ = error_response(http::status::bad_gateway, "too many interim responses");
      co_return;
    }
    if (!res_head) {
      if (conn_->timed_out) {
        error_ = error_response(http::status::gateway_timeout, "the origin did not answer in time");
        facts_.reason = "origin response timeout";
      } else {
        error_ = error_response(http::status::bad_gateway,
                                "bad or no response from the origin: " + res_head.error.message());
        facts_.reason = "origin response: " + res_head.error.message();
      }
      co_return;
    }
    auto& res_p = *res_parser;
    auto& res = res_p.get();
    facts_.http->status = static_cast<int>(res.result_int());
    const auto reuse =
        reframe_response(res_p, is_head, client_version, client_keep && !ctx_.draining.load());
    const bool upstream_keep = reuse.upstream, keep = reuse.client;
    append_header(res, "Via", std::string(res.version() >= 11 ? "1.1 " : "1.0 ") + ctx_.via_token);
    res.keep_alive(keep);
    const auto relayed =
        co_await relay_message(*conn_, *origin_.tls, origin_.buf, res_p, cs, chunk, down_);
    if (!relayed) {
      facts_.reason = "relay of the response failed";
      // Nothing reached the client yet (a chunk size that overflows right behind the head):
      // a 502 rather than an empty reply.
      if (!relayed.wrote && relayed.malformed())
        error_ = error_response(http::status::bad_gateway,
                                "bad response from the origin: " + relayed.read_error.message());
      co_return;
    }
    if (!upstream_keep) close_origin();
    if (!keep) co_return;
  }
}

void Session::write_log() {
  // The status the client got from us when the exchange failed before a response.
  if (error_ && facts_.http && facts_.http->status == 0 && error_->size() > 12)
    facts_.http->status = std::atoi(error_->c_str() + 9);  // "HTTP/1.1 502 ..."
  facts_.bytes_client_to_server = up_;
  facts_.bytes_server_to_client = down_;
  // What the client itself did stays in the record whichever origin it reached.
  recorder_.add_findings(client_findings_);
  // One line, its findings announced, metrics counted and the connection closed in them:
  // once (proxy/observe/connection_recorder.hpp).
  recorder_.close(up_, down_);
}

asio::awaitable<void> Session::answer_and_close(ClientStream* cs, std::string response) {
  if (!conn_->closed) {
    conn_->expires_after(kErrorWriteTimeout);
    boost::system::error_code ec;
    if (!response.empty()) {
      if (cs) {
        auto [wec, wn] =
            co_await asio::async_write(*cs, asio::buffer(response), as_tuple(use_awaitable));
        ec = wec;
      } else {
        auto [wec, wn] = co_await asio::async_write(conn_->client, asio::buffer(response),
                                                    as_tuple(use_awaitable));
        ec = wec;
      }
    }
    // close_notify, so the client knows the response is complete (bounded by the deadline;
    // a client that does not answer it is not waited for beyond that).
    if (cs && !ec && !conn_->timed_out) co_await cs->async_shutdown(as_tuple(use_awaitable));
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
