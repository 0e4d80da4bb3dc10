#include "proxy/session/intercept_session.hpp"

#include "proxy/http/error_answer.hpp"
#include "proxy/http/exchange_loop.hpp"

#include "certs/pem.hpp"
#include "inspect/client_hello.hpp"
#include "inspect/codes.hpp"
#include "inspect/compare_paths.hpp"
#include "proxy/http/ca_page.hpp"
#include "proxy/http/error_page.hpp"
#include "proxy/http/http_inspector.hpp"
#include "proxy/net/byte_relay.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_recorder.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/session/intercept_service.hpp"
#include "proxy/session/tunnel_session.hpp"
#include "proxy/tls/client_hello_peek.hpp"
#include "proxy/tls/upstream_judge.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <map>
#include <set>
#include <span>

namespace tlsprobe::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

constexpr int kMaxExplainRequests = 100;  // 502 answers on one keep-alive connection

// ALPN for intercepted clients: http/1.1 when offered, otherwise no ALPN at all (an h2-only
// client then fails cleanly instead of speaking h2 at an HTTP/1.1 relay).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void*) {
  static constexpr unsigned char ours[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, ours, sizeof ours, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

bool client_rejected_certificate(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_AD_REASON_OFFSET + SSL_AD_UNKNOWN_CA ||
         reason == SSL_AD_REASON_OFFSET + SSL_AD_BAD_CERTIFICATE;
}

std::string url_host(const std::string& host, std::uint16_t port) {
  return config::format_url_authority(host, port, 443);
}

// Per-connection state of one intercepted CONNECT.
struct Intercepted {
  // The recorder opens the connection's metrics now (proxy/observe/connection_recorder.hpp).
  Intercepted(std::shared_ptr<SessionConnection> c, Interceptor& interceptor, HostPort t,
              ConnectionFacts opening)
      : conn(std::move(c)),
        ix(&interceptor),
        target(std::move(t)),
        recorder(conn->ctx->log, conn->ctx->metrics, std::move(opening)) {}

  std::shared_ptr<SessionConnection> conn;
  Interceptor* ix = nullptr;
  HostPort target;
  ConnectionRecorder recorder;
  ConnectionFacts& facts = recorder.facts();
  std::string requested;  // name minted for: SNI, else the CONNECT host
  std::uint64_t up = 0, down = 0;
  // The side probe's key for this connection's upstream (address and SNI): when a probe of
  // it is cached as the line is written (a tunnel of another client, the default-certificate
  // check), its chain is compared with this connection's, so that interception upstream of
  // tlsprobe shows up (issue 15 item 2). No probe is started for it.
  std::optional<SideProbeRequest> side_key;

  // The connection's findings, under the recorder's one rule: once per (code, subject,
  // evidence), http.hsts_missing once per host and header value, capped per code.
  void add_findings(inspect::Findings fs) { recorder.add_findings(std::move(fs)); }

  // client.sni_host_mismatch for one request (and client.no_sni once).
  void check_client(const std::string& http_host) {
    if (!facts.client_hello) return;
    inspect::Observations obs;
    obs.host = target.host;
    obs.port = target.port;
    obs.target = config::format_host_port(target.host, target.port);
    obs.client = *facts.client_hello;
    obs.client->http_host = http_host;
    inspect::DiagnoseOptions o;
    o.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    o.trust = &ix->upstream().trust();
    inspect::Findings out;
    for (auto& f : inspect::diagnose(obs, o))
      if (f.role == inspect::Role::client) out.push_back(std::move(f));
    add_findings(std::move(out));
  }

  // The connection's end: its one log line, announced and counted (exactly once).
  void write_log(std::string reason) {
    if (recorder.closed()) return;
    if (!reason.empty() && facts.reason.empty()) facts.reason = std::move(reason);
    facts.end = std::chrono::system_clock::now();
    facts.bytes_client_to_server = up;
    facts.bytes_server_to_client = down;
    if (side_key && facts.handshake && conn->ctx->side_probe)
      if (const auto side = conn->ctx->side_probe->cached(*side_key); side && side->direct)
        add_findings(inspect::compare_paths(*facts.handshake, *side->direct));
    recorder.close(up, down);
  }
};

// Answers every request on the connection with the 502 page; never reads the upstream. The
// heads are read as the exchange loop reads them (proxy/http/exchange_loop.hpp): the same
// limits, and the same answer to a head that cannot be read (408, 431, 400, or a quiet end).
asio::awaitable<void> serve_explain(Intercepted& st, TlsStream& client,
                                    const inspect::Findings& findings,
                                    const certs::Certificate* leaf) {
  auto& conn = *st.conn;
  const auto& s = conn.ctx->settings;
  beast::flat_buffer buffer;
  for (int i = 0; i < kMaxExplainRequests; ++i) {
    // No body limit: the body is never read, and a large upload still gets the page.
    const auto head = make_request_head_parser(s);
    conn.expires_after(i == 0 ? s.timeouts.header : s.timeouts.idle);
    auto [ec, n] = co_await read_request_head(client, buffer, *head, s.limits.max_header_bytes);
    if (ec) {
      if (auto answer = head_read_answer(ec, buffer.size(), conn.timed_out && !conn.closed, i == 0,
                                         s.limits.max_header_bytes)) {
        st.facts.reason = answer->reason;
        co_await answer_and_close(conn, client, *answer, &st.down);
      }
      break;
    }
    ++st.ix->counters.requests;
    const auto& req = head->get();
    const std::string host(req[http::field::host]);
    st.check_client(host);
    const auto page =
        render_error_page(findings, accepts_html(req[http::field::accept]), st.requested, leaf);
    // A request body is not read: the connection closes after the answer.
    const bool body =
        req.chunked() || (req.has_content_length() && req[http::field::content_length] != "0");
    const bool keep =
        req.keep_alive() && !body && !conn.ctx->draining.load() && i + 1 < kMaxExplainRequests;
    http::response<http::string_body> res{http::status::bad_gateway, req.version()};
    res.set(http::field::server, "tlsprobe");
    res.set(http::field::content_type, page.content_type);
    for (const auto& [name, value] : page.headers) res.set(name, value);
    res.body() = page.body;
    res.keep_alive(keep);
    res.prepare_payload();
    st.facts.http = HttpFacts{};
    st.facts.http->method = std::string(req.method_string());
    st.facts.http->url =
        "https://" + url_host(st.target.host, st.target.port) + std::string(req.target());
    st.facts.http->status = 502;
    note_request(*st.facts.http, req.version(), req[http::field::user_agent]);
    conn.expires_after(s.timeouts.idle);
    auto [wec, wn] = co_await http::async_write(client, res, as_tuple(use_awaitable));
    if (wec) break;
    st.down += wn;
    if (!keep) break;
  }
}

// HTTP/1.1 relay between the intercepted client and the verified (or passed) upstream: the
// exchange loop of every mode (proxy/http/exchange_loop.hpp) with the intercept's hooks. The
// one verified upstream cannot be replaced, so the client's connection ends with it.
asio::awaitable<void> serve_relay(Intercepted& st, TlsStream& client, TlsStream& upstream) {
  auto& conn = *st.conn;
  auto& ctx = *conn.ctx;
  beast::flat_buffer client_buf, upstream_buf;
  HttpInspector inspector(Scheme::https);
  if (ctx.log) inspector.keep_query(ctx.log->record_options().keep_query);  // [log] keep_query
  inspector.hsts_memory(&st.ix->hsts_seen);
  ExchangeHooks<TlsStream> hooks;
  hooks.admit = [&](Exchange&, const http::request_header<>&) -> std::optional<ErrorAnswer> {
    ++st.ix->counters.requests;
    return std::nullopt;
  };
  hooks.upstream =
      [&](Exchange& ex,
          const http::request_header<>& h) -> asio::awaitable<UpstreamChoice<TlsStream>> {
    const std::string host(h[http::field::host]);
    st.check_client(host);
    inspector.request(h.method_string(), host, h.target());
    inspector.fetch_dest(h["Sec-Fetch-Dest"]);
    const std::string_view path =
        ex.framing.origin_form.empty() ? std::string_view(h.target()) : ex.framing.origin_form;
    st.facts.http = HttpFacts{};
    st.facts.http->method = std::string(h.method_string());
    st.facts.http->url = "https://" + url_host(st.target.host, st.target.port) + std::string(path);
    note_request(*st.facts.http, h.version(), h[http::field::user_agent]);
    co_return UpstreamChoice<TlsStream>{&upstream, &upstream_buf, std::nullopt};
  };
  hooks.response = [&](Exchange& ex, const http::response_header<>& res) {
    st.facts.http->status = ex.status;
    inspector.response(ex.status, res);
  };
  hooks.finished = [&](Exchange&) { st.add_findings(inspector.finish()); };
  hooks.inspector = &inspector;
  hooks.upstream_replaceable = false;

  auto end = co_await serve_exchanges(conn, client, client_buf, hooks, nullptr, st.up, st.down);
  if (!end.reason.empty()) st.facts.reason = end.reason;
  if (end.error) {
    st.facts.reason = end.error->reason;
    if (st.facts.http) st.facts.http->status = static_cast<int>(end.error->status);
    co_await answer_and_close(conn, client, *end.error, &st.down);
  } else if (!end.quiet) {
    co_await end_gracefully(conn, client);
  }
}

// Not TLS at all (plain HTTP over CONNECT, ws://, SSH through the proxy): nothing to
// intercept, so the bytes pass unchanged both ways as in tunnel mode. The peeked bytes are
// still unread in the socket: they are the first to go upstream.
asio::awaitable<void> pass_through(Intercepted& st) {
  auto& conn = *st.conn;
  st.facts.reason = "not_tls";
  conn.expires_after(conn.ctx->settings.timeouts.idle);
  co_await pump_both_ways(conn, st.up, st.down);
  conn.close();
  st.write_log("");
}

}  // namespace

Interceptor::Interceptor(InterceptOptions options)
    : options_(std::move(options)),
      policy_(options_.no_intercept, InterceptPolicy::kMaxPinnedHosts, options_.pin_ttl),
      upstream_(UpstreamTls::Options{options_.trust, options_.warn_days, options_.verdict_ttl,
                                     10'000, 10'000}),
      server_ctx_(asio::ssl::context::tls_server) {
  minter_ = std::make_unique<certs::LeafMinter>(options_.ca);
  mints_ = std::make_unique<certs::MintCache>(*minter_);
  throwaway_minter_ = std::make_unique<certs::LeafMinter>(certs::Authority::make_throwaway());
  throwaway_mints_ = std::make_unique<certs::MintCache>(*throwaway_minter_);
  SSL_CTX* c = server_ctx_.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(c, &select_alpn, nullptr);
  // Session resumption for returning clients: tickets are per SSL_CTX, fine for one CA.
  static constexpr unsigned char sid[] = "tlsprobe-intercept";
  SSL_CTX_set_session_id_context(c, sid, sizeof sid - 1);
}

Interceptor::~Interceptor() = default;

InterceptorSetup make_interceptor(const std::filesystem::path& state_dir, certs::TrustStore trust,
                                  int warn_days, config::UpstreamErrorPolicy policy,
                                  std::vector<std::string> no_intercept,
                                  std::chrono::seconds pin_ttl) {
  auto loaded = certs::Authority::load_or_create(state_dir);
  InterceptOptions o{loaded.authority,        std::move(trust),          warn_days, policy,
                     std::move(no_intercept), std::chrono::seconds(600), pin_ttl};
  InterceptorSetup out;
  out.interceptor = std::make_shared<Interceptor>(std::move(o));
  out.ca_created = loaded.created;
  return out;
}

bool is_ca_page_host(std::string_view host) { return certs::normalize_host(host) == kCaPageHost; }

asio::awaitable<void> serve_ca_page(std::shared_ptr<SessionConnection> conn, std::string path) {
  auto& ix = *conn->ctx->settings.intercept;
  http::response<http::string_body> res;
  res.version(11);
  res.set(http::field::server, "tlsprobe");
  res.set(http::field::cache_control, "no-store");
  const auto q = path.find('?');
  if (q != std::string::npos) path.resize(q);
  if (path == "/" || path.empty()) {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.body() = render_ca_install_page(ix.ca().certificate());
  } else if (path == kCaPemPath) {
    res.result(http::status::ok);
    res.set(http::field::content_type, "application/x-pem-file");
    res.set(http::field::content_disposition, "attachment; filename=\"tlsprobe-ca.pem\"");
    res.body() = certs::write_pem(ix.ca().certificate());
  } else if (path == kCaDerPath) {
    res.result(http::status::ok);
    res.set(http::field::content_type, "application/x-x509-ca-cert");
    res.body() = ix.ca().certificate().der();
  } else {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "not found: the tlsprobe CA is at / , " + std::string(kCaPemPath) + " and " +
                 std::string(kCaDerPath) + "\n";
  }
  res.keep_alive(false);
  res.prepare_payload();
  conn->expires_after(conn->ctx->settings.timeouts.answer);
  co_await http::async_write(conn->client, res, as_tuple(use_awaitable));
  boost::system::error_code ignored;
  conn->client.shutdown(tcp::socket::shutdown_send, ignored);
  conn->close();
}

asio::awaitable<void> run_intercept(std::shared_ptr<SessionConnection> conn, HostPort target,
                                    std::string early) {
  auto& ctx = *conn->ctx;
  auto& ix = *ctx.settings.intercept;
  const std::string client_address = address_text(conn->client_endpoint);
  const auto decision = ix.policy().decide(client_address, target.host);
  // Bytes sent before our 200 cannot be peeked again: such a client is tunnelled.
  if (decision != InterceptDecision::intercept || !early.empty()) {
    ++ix.counters.tunnelled;
    co_await run_tunnel(conn, std::move(target), std::move(early));
    co_return;
  }
  ++ix.counters.intercepted;
  ConnectionFacts opening;
  opening.mode = LogMode::intercept;
  opening.start = conn->started;
  opening.client_address = client_address;
  opening.client_port = conn->client_endpoint.port();
  if (!is_ip_literal(target.host)) opening.destination_domain = target.host;
  opening.destination_port = target.port;
  Intercepted st(conn, ix, target, std::move(opening));
  auto& facts = st.facts;

  const auto up = co_await connect_upstream(conn, target);
  if (up.failure != UpstreamFailure::none) {
    if (up.endpoint.port() != 0) facts.destination_address = address_text(up.endpoint);
    facts.failed = true;  // the upstream refused or was unreachable: event.outcome failure
    st.write_log(up.reason);
    co_await send_error_and_close(conn, status_for(up.failure), up.reason);
    co_return;
  }
  facts.destination_address = address_text(up.endpoint);
  boost::system::error_code ignored;
  conn->upstream->set_option(tcp::no_delay(true), ignored);

  static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
  conn->expires_after(ctx.settings.timeouts.header);
  auto [wec, wn] =
      co_await asio::async_write(conn->client, asio::buffer(established), as_tuple(use_awaitable));
  if (wec) {
    st.write_log("client gone before 200");
    conn->close();
    co_return;
  }

  // 2. The ClientHello, peeked.
  conn->expires_after(ctx.settings.timeouts.header);
  const auto peek = co_await peek_client_hello(*conn, ctx.settings.limits.client_hello_bytes);
  if (peek.status == HelloStatus::not_tls) {
    ++ctx.counters.tls_not_found;
    co_await pass_through(st);
    co_return;
  }
  if (!peek.ok()) {
    ++ctx.counters.tls_not_found;
    facts.failed = true;  // no request was ever made: event.outcome failure, not success
    st.write_log(peek.reason());
    conn->close();
    co_return;
  }
  ++ctx.counters.tls_found;
  facts.client_hello = inspect::to_observation(peek.result.hello);
  facts.client_hello->connect_host = config::format_host_port(target.host, target.port);
  const auto& hello = *facts.client_hello;
  const bool sni_usable =
      hello.sni && !hello.sni->empty() && !is_ip_literal(certs::normalize_host(*hello.sni));
  st.requested =
      sni_usable ? certs::normalize_host(*hello.sni) : certs::normalize_host(target.host);
  bool offers_old = hello.versions.empty();
  for (const auto& v : hello.versions)
    if (v != "1.3") offers_old = true;

  // 3. Upstream TLS, exactly the client's SNI, verified for the SNI (the CONNECT host only
  //    without SNI): a client asking for bank.example through CONNECT good.example gets
  //    bank.example verified, never a bank.example leaf over good.example's bytes.
  const auto ep = up.endpoint;
  UpstreamSpec spec;
  spec.host = target.host;
  spec.port = target.port;
  spec.address = config::format_host_port(ep.address().to_string(), ep.port());
  if (sni_usable) spec.sni = hello.sni;
  spec.tls13_only = !offers_old;
  TlsStream upstream(*conn->upstream, ix.upstream().context());
  conn->expires_after(ctx.settings.timeouts.handshake);
  auto obs = co_await ix.upstream().handshake(upstream, spec);
  facts.handshake = obs;

  inspect::Findings upstream_findings;
  std::shared_ptr<const UpstreamVerdict> verdict;
  if (obs.outcome != inspect::HandshakeOutcome::ok) {
    upstream_findings = ix.upstream().diagnose_failure(obs);
  } else {
    // The side probe's key for this upstream: its no-SNI/other-SNI handshakes decide
    // sni.default_cert when the name is wrong (proxy/tls/upstream_judge.hpp), and a cached
    // probe of it is compared with this chain when the line is written.
    SideProbeRequest side;
    side.host = target.host;
    side.port = target.port;
    side.dial = spec.address;
    side.sni = spec.sni;
    side.timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.timeouts.probe);
    verdict = co_await judge_upstream(*conn, ix.upstream(), obs, ctx.side_probe.get(), side);
    upstream_findings = verdict->findings;
    st.side_key = side;
    facts.verify =
        VerifyFacts{verdict->verify.ok, verdict->verify.openssl_code, verdict->verify.openssl_text};
  }
  st.add_findings(upstream_findings);
  // client.no_sni (the per-request Host check comes with each request).
  st.check_client("");

  // 4. What the client gets: relay, explain, mirror or pass (a pure decision).
  const auto serve = choose_intercept_service(verdict.get(), ix.on_upstream_error());
  const certs::Certificate* upstream_leaf = obs.chain.empty() ? nullptr : &obs.chain.front();
  // The leaf claims exactly the name the upstream was verified for on this connection (the
  // SNI; the CONNECT host without SNI). Only a failed handshake has no verdict: its leaf
  // carries the requested name and serves nothing but our 502 page.
  const std::string& mint_name = verdict ? verdict->name : st.requested;
  if (mint_name != st.requested) {  // cannot happen: both come from the same SNI
    st.write_log("internal: verified name " + mint_name + " differs from " + st.requested);
    conn->close();
    co_return;
  }
  certs::MintResult minted;
  if (serve == InterceptService::explain) {
    // Never launder: the upstream connection ends now, before any of its bytes is read,
    // and the leaf carries only the requested name.
    ++ix.counters.explained;
    upstream.next_layer().close(ignored);
    minted = ix.mints().get(nullptr, mint_name);
  } else if (serve == InterceptService::mirror) {
    ++ix.counters.mirrored;
    minted = ix.throwaway_mints().get(upstream_leaf, mint_name);
  } else {
    ++(serve == InterceptService::pass ? ix.counters.passed : ix.counters.relayed);
    minted = ix.mints().get(upstream_leaf, mint_name);
  }
  if (!minted) {
    st.write_log("mint failed: " + minted.detail);
    conn->close();
    co_return;
  }

  // 5. TLS to the client with the minted leaf.
  TlsStream client(conn->client, ix.server_context());
  if (!certs::use_minted_leaf(client.native_handle(), *minted.leaf)) {
    st.write_log("minted leaf refused by OpenSSL: " + certs::openssl_errors());
    conn->close();
    co_return;
  }
  conn->expires_after(ctx.settings.timeouts.handshake);
  ERR_clear_error();
  auto [hec] =
      co_await client.async_handshake(asio::ssl::stream_base::server, as_tuple(use_awaitable));
  if (hec) {
    std::string reason = "client handshake failed: " + hec.message();
    if (client_rejected_certificate(hec)) {
      ++ix.counters.client_rejected;
      if (serve == InterceptService::mirror) {
        reason = "client rejected the mirrored (untrusted) certificate, as intended";
      } else {
        const auto seconds = ix.policy().pin_ttl().count();
        const std::string ttl = seconds % 60 == 0 ? std::to_string(seconds / 60) + " min"
                                                  : std::to_string(seconds) + " s";
        reason = "client rejected the minted certificate (" + hec.message() +
                 "): pinned or without the tlsprobe CA; " + target.host +
                 " is tunnelled for this client (" + client_address + ") for " + ttl;
        if (ix.policy().mark_pinned(client_address, target.host)) {
          ++ix.counters.pinned;
          if (ctx.log)
            ctx.log->announce_once("pinned|" + client_address + "|" + target.host,
                                   "tlsprobe: " + client_address +
                                       " rejected the tlsprobe certificate for " + target.host +
                                       "; tunnelling it for that client for " + ttl +
                                       " (pinned app, or the CA is not installed)");
        }
      }
    }
    st.write_log(reason);
    conn->close();
    co_return;
  }

  // 6. HTTP inside.
  if (serve == InterceptService::explain) {
    co_await serve_explain(st, client, upstream_findings, upstream_leaf);
  } else {
    co_await serve_relay(st, client, upstream);
  }
  const bool timed_out = conn->timed_out;
  conn->close();
  st.write_log(timed_out ? "idle timeout" : "");
}

}  // namespace tlsprobe::proxy
