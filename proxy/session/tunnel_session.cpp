#include "proxy/session/tunnel_session.hpp"

#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_metrics.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/tls/client_hello_tap.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <mutex>

namespace tlsprobe::proxy {

namespace http = boost::beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// The log record of one tunnel, shared by the tunnel and its side probe's callback: the
// line is written once both have finished (tunnel closed, probe answered or never asked).
class TunnelRecord {
 public:
  explicit TunnelRecord(std::shared_ptr<ProxyContext> ctx)
      : ctx_(std::move(ctx)), metrics_(ctx_->metrics, "tunnel") {
    ctx_->line_pending();
  }
  ~TunnelRecord() {
    // A record whose probe callback never came (prober destroyed first) still leaves
    // its line; the probe part then says pending.
    if (!written_) write_locked();
  }

  ConnectionFacts& facts() { return facts_; }  // tunnel side, before close()

  void probe_asked() {
    std::lock_guard lock(mutex_);
    probe_asked_ = true;
  }

  void probe_answered(const std::shared_ptr<const SideProbeResult>& r, bool from_cache,
                      inspect::Findings client_findings) {
    std::lock_guard lock(mutex_);
    probe_done_ = true;
    ProbeFacts p = r->probe;
    if (from_cache && p.status == ProbeStatus::ok) p.status = ProbeStatus::cached;
    facts_.probe = p;
    if (r->direct) facts_.handshake = r->direct;
    facts_.findings = r->findings;
    for (auto& f : client_findings) facts_.findings.push_back(std::move(f));
    inspect::sort_by_severity(facts_.findings);
    if (closed_) write_locked();
  }

  void tunnel_closed() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    metrics_.close(facts_);
    if (!probe_asked_ || probe_done_) write_locked();
  }

 private:
  void write_locked() {
    if (written_) return;
    written_ = true;
    if (probe_asked_ && !probe_done_) {
      ProbeFacts p;
      p.status = ProbeStatus::pending;
      facts_.probe = p;
    }
    if (ctx_->log) ctx_->log->write(to_json_line(make_connection_record(facts_)));
    count_record(ctx_->metrics, facts_);
    ctx_->line_written();
  }

  std::shared_ptr<ProxyContext> ctx_;
  ConnectionMetrics metrics_;
  std::mutex mutex_;
  ConnectionFacts facts_;
  bool probe_asked_ = false, probe_done_ = false, closed_ = false, written_ = false;
};

struct TunnelState {
  std::shared_ptr<SessionConnection> conn;
  std::shared_ptr<TunnelRecord> record;
  Authority target;
  tcp::endpoint upstream_endpoint;
  ClientHelloTap tap;
  std::uint64_t up = 0, down = 0;  // client->server, server->client
  explicit TunnelState(std::size_t tap_limit) : tap(tap_limit) {}
};

void ask_side_probe(TunnelState& st) {
  auto& ctx = *st.conn->ctx;
  auto& facts = st.record->facts();
  if (st.tap.state() == TapState::tls) {
    ++ctx.counters.tls_found;
    auto hello = st.tap.hello();
    hello.connect_host = st.target.host + ":" + std::to_string(st.target.port);
    facts.client_hello = hello;
  } else {
    ++ctx.counters.tls_not_found;
    switch (st.tap.state()) {
      case TapState::too_large:
        facts.reason = "client_hello_too_large";
        break;
      case TapState::invalid:
        facts.reason = "client_hello_invalid: " + st.tap.detail();
        break;
      case TapState::truncated:
        facts.reason = "client_hello_truncated";
        break;
      default:
        facts.reason = "not_tls";
        break;
    }
  }
  if (st.tap.state() != TapState::tls || !ctx.side_probe) return;

  SideProbeRequest req;
  req.host = st.target.host;
  req.port = st.target.port;
  // Probe the address the client actually reached, not a fresh DNS answer.
  const auto& ep = st.upstream_endpoint;
  req.dial = ep.address().is_v6()
                 ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                 : ep.address().to_string() + ":" + std::to_string(ep.port());
  req.sni = facts.client_hello->sni;
  if (req.sni && req.sni->empty()) req.sni.reset();
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.timeouts.probe);
  for (const auto& site : ctx.settings.sites)
    if (site.host == st.target.host && !site.origin.empty()) req.site = site;

  auto client_findings =
      ctx.side_probe->client_findings(*facts.client_hello, st.target.host, st.target.port);
  for (const auto& f : client_findings)
    if (ctx.log) ctx.log->announce(f);
  st.record->probe_asked();
  ctx.side_probe->lookup(req, [record = st.record, cf = std::move(client_findings)](
                                  std::shared_ptr<const SideProbeResult> r, bool from_cache) {
    record->probe_answered(r, from_cache, cf);
  });
}

// Copies `from` -> `to` until EOF or error. Waits for readability without holding a buffer,
// so an idle tunnel costs no buffer memory; the buffer lives only while bytes flow.
asio::awaitable<void> pump(SessionConnection& conn, tcp::socket& from, tcp::socket& to,
                           std::uint64_t& count, const ByteTap& tap) {
  const auto idle = conn.ctx->settings.timeouts.idle;
  const std::size_t size = conn.ctx->settings.limits.tunnel_buffer_bytes;
  std::unique_ptr<char[]> buf;
  boost::system::error_code ec;
  for (;;) {
    if (!buf) buf = std::make_unique_for_overwrite<char[]>(size);
    const std::size_t n = from.read_some(asio::buffer(buf.get(), size), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      buf.reset();
      auto [wec] = co_await from.async_wait(tcp::socket::wait_read, as_tuple(use_awaitable));
      if (wec) break;
      continue;
    }
    if (ec == asio::error::eof) {
      // Half-close: pass the FIN on and keep the other direction running.
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (ec) break;
    conn.expires_after(idle);
    if (tap) tap(buf.get(), n);  // a copy to look at; the bytes go on below unchanged
    // Both sockets are non-blocking: a send that fits the socket buffer (nearly every
    // piece) completes here, without a trip through the scheduler; only the rest, when the
    // receiver is slow, waits in async_write.
    std::size_t sent = to.write_some(asio::buffer(buf.get(), n), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      sent = 0;
      ec.clear();
    }
    if (ec) break;
    if (sent < n) {
      auto [wec, written] = co_await asio::async_write(to, asio::buffer(buf.get() + sent, n - sent),
                                                       as_tuple(use_awaitable));
      if (wec) break;
      sent += written;
    }
    count += sent;
  }
  // Reset, timeout or shutdown: end both directions.
  conn.close();
}

}  // namespace

asio::awaitable<void> pump_both_ways(SessionConnection& conn, std::uint64_t& up,
                                     std::uint64_t& down, ByteTap client_tap) {
  using namespace asio::experimental::awaitable_operators;
  const ByteTap no_tap;  // a named object: no temporary may live across the co_await
  // Each pump reads and writes without blocking (see pump); set before either starts, as
  // the first pump may write to the other's socket before that one runs.
  boost::system::error_code ignored;
  conn.client.non_blocking(true, ignored);
  conn.upstream->non_blocking(true, ignored);
  co_await (pump(conn, conn.client, *conn.upstream, up, client_tap) &&
            pump(conn, *conn.upstream, conn.client, down, no_tap));
}

asio::awaitable<void> run_tunnel(std::shared_ptr<SessionConnection> conn, Authority target,
                                 std::string early) {
  auto& ctx = *conn->ctx;
  ++ctx.counters.tunnels;
  TunnelState st(ctx.settings.limits.client_hello_bytes);
  st.conn = conn;
  st.target = target;
  st.record = std::make_shared<TunnelRecord>(conn->ctx);
  auto& facts = st.record->facts();
  facts.mode = LogMode::tunnel;
  facts.start = conn->started;
  facts.client_address = address_text(conn->client_endpoint);
  facts.client_port = conn->client_endpoint.port();
  if (!is_ip_literal(target.host)) facts.destination_domain = target.host;
  facts.destination_port = target.port;

  auto finish = [&](std::string reason) {
    if (!reason.empty()) facts.reason = std::move(reason);
    facts.end = std::chrono::system_clock::now();
    facts.bytes_client_to_server = st.up;
    facts.bytes_server_to_client = st.down;
    st.record->tunnel_closed();
  };

  const auto up = co_await connect_upstream(conn, target);
  if (up.failure != UpstreamFailure::none) {
    if (up.endpoint.port() != 0) facts.destination_address = address_text(up.endpoint);
    facts.failed = true;
    finish(up.reason);
    co_await send_error_and_close(conn, status_for(up.failure), up.reason);
    co_return;
  }
  st.upstream_endpoint = up.endpoint;
  facts.destination_address = address_text(up.endpoint);
  boost::system::error_code ignored;
  conn->client.set_option(tcp::no_delay(true), ignored);
  conn->upstream->set_option(tcp::no_delay(true), ignored);

  static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
  conn->expires_after(ctx.settings.timeouts.idle);
  auto [wec, wn] =
      co_await asio::async_write(conn->client, asio::buffer(established), as_tuple(use_awaitable));
  if (wec) {
    finish("client gone before 200");
    conn->close();
    co_return;
  }
  if (!early.empty()) {
    if (st.tap.feed(early.data(), early.size())) ask_side_probe(st);
    auto [eec, en] =
        co_await asio::async_write(*conn->upstream, asio::buffer(early), as_tuple(use_awaitable));
    if (eec) {
      finish("upstream write failed");
      conn->close();
      co_return;
    }
    st.up += en;
  }

  // The ClientHello tap parses a copy of the first client bytes, until it knows.
  co_await pump_both_ways(*conn, st.up, st.down, [&st](const char* data, std::size_t n) {
    if (st.tap.state() == TapState::reading && st.tap.feed(data, n)) ask_side_probe(st);
  });
  const bool timed_out = conn->timed_out;
  conn->close();
  if (st.tap.state() == TapState::reading && st.up > 0) {
    st.tap.finish();  // closed mid-ClientHello: log what is known (not TLS or truncated)
    ask_side_probe(st);
  }
  finish(timed_out ? "idle timeout" : "");
}

}  // namespace tlsprobe::proxy
