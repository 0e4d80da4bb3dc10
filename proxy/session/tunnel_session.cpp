#include "proxy/session/tunnel_session.hpp"

#include "proxy/http/error_answer.hpp"
#include "proxy/net/byte_relay.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/connection_recorder.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/probe/side_probe.hpp"
#include "proxy/tls/client_hello_tap.hpp"
#include "proxy/tls/tunnel_tls_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <mutex>

namespace tlsprobe::proxy {

namespace http = boost::beast::http;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// The log record of one tunnel, shared by the tunnel and its side probe's callback: the
// line is written once both have finished (tunnel closed, probe answered or never asked).
// The ConnectionRecorder inside opened the connection's metrics at construction and closes
// them when the tunnel closes; the mutex guards it, the probe's answer arriving on the
// prober's thread.
class TunnelRecord {
 public:
  TunnelRecord(std::shared_ptr<ProxyContext> ctx, ConnectionFacts opening)
      : ctx_(std::move(ctx)), recorder_(ctx_->log, ctx_->metrics, std::move(opening)) {
    ctx_->line_pending();
  }
  ~TunnelRecord() {
    // A record whose probe callback never came (prober destroyed first) still leaves
    // its line; the probe part then says pending.
    std::lock_guard lock(mutex_);
    write_locked();
  }

  ConnectionFacts& facts() { return recorder_.facts(); }  // tunnel side, before close()

  void probe_asked() {
    std::lock_guard lock(mutex_);
    probe_asked_ = true;
  }

  void probe_answered(const std::shared_ptr<const SideProbeResult>& r, bool from_cache,
                      const FindingList& client_findings) {
    std::lock_guard lock(mutex_);
    probe_done_ = true;
    auto& facts = recorder_.facts();
    ProbeFacts p = r->probe;
    if (from_cache && p.status == ProbeStatus::ok) p.status = ProbeStatus::cached;
    facts.probe = p;
    // Shared with the cache entry (it stays alive with the record), not copied.
    if (r->direct)
      facts.handshake = SharedValue<inspect::HandshakeObservation>::shared(
          std::shared_ptr<const inspect::HandshakeObservation>(r, &*r->direct));
    recorder_.clear_findings();
    recorder_.add_shared_findings(r->findings);
    recorder_.add_shared_findings(client_findings);
    if (recorder_.closed()) write_locked();
  }

  void tunnel_closed(std::uint64_t up, std::uint64_t down) {
    std::lock_guard lock(mutex_);
    recorder_.close_connection(up, down);
    if (!probe_asked_ || probe_done_) write_locked();
  }

 private:
  void write_locked() {
    if (recorder_.record_written()) return;
    if (probe_asked_ && !probe_done_) {
      ProbeFacts p;
      p.status = ProbeStatus::pending;
      recorder_.facts().probe = p;
    }
    recorder_.write_record();
    ctx_->line_written();
  }

  std::shared_ptr<ProxyContext> ctx_;
  std::mutex mutex_;
  ConnectionRecorder recorder_;
  bool probe_asked_ = false, probe_done_ = false;
};

struct TunnelState {
  std::shared_ptr<SessionConnection> conn;
  std::shared_ptr<TunnelRecord> record;
  HostPort target;
  tcp::endpoint upstream_endpoint;
  ClientHelloTap tap;
  TunnelTlsWatch tls;              // the client's own TLS connection: ServerHello, established
  std::uint64_t up = 0, down = 0;  // client->server, server->client
  explicit TunnelState(std::size_t tap_limit) : tap(tap_limit) {}
};

void ask_side_probe(TunnelState& st) {
  auto& ctx = *st.conn->ctx;
  auto& facts = st.record->facts();
  if (st.tap.state() == TapState::tls) {
    ++ctx.counters.tls_found;
    facts.client_hello = st.tap.hello();
    facts.client_hello->connect_host = config::format_host_port(st.target.host, st.target.port);
  } else {
    ++ctx.counters.tls_not_found;
    facts.reason = st.tap.reason();
  }
  if (st.tap.state() != TapState::tls || !ctx.side_probe) return;

  SideProbeRequest req;
  req.host = st.target.host;
  req.port = st.target.port;
  // Probe the address the client actually reached, not a fresh DNS answer (its text is
  // already in the record: address_text of the endpoint).
  req.dial = config::format_host_port(facts.destination_address, st.upstream_endpoint.port());
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
  // The client findings are shared with the side probe's memo: the capture copies pointers.
  ctx.side_probe->lookup(req,
                         [record = st.record, cf = std::move(client_findings)](
                             std::shared_ptr<const SideProbeResult> r, bool from_cache) mutable {
                           record->probe_answered(r, from_cache, cf);
                         });
}

// tls.* of a tunnel whose client spoke TLS: what its ServerHello chose (nothing when the
// server refused or did not answer) and whether data went both ways.
TunnelTls tunnel_tls_of(const TunnelTlsWatch& watch) {
  TunnelTls t;
  if (watch.server_hello().state() == ServerHelloTap::State::tls) {
    t.version = watch.server_hello().hello().version;
    t.cipher = watch.server_hello().hello().cipher;
  }
  t.established = watch.established();
  return t;
}

}  // namespace

asio::awaitable<void> run_tunnel(std::shared_ptr<SessionConnection> conn, HostPort target,
                                 std::string early) {
  auto& ctx = *conn->ctx;
  ++ctx.counters.tunnels;
  TunnelState st(ctx.settings.limits.client_hello_bytes);
  st.conn = conn;
  st.target = target;
  ConnectionFacts opening;
  opening.mode = LogMode::tunnel;
  opening.start = conn->started;
  opening.client_address = address_text(conn->client_endpoint);
  opening.client_port = conn->client_endpoint.port();
  if (!is_ip_literal(target.host)) opening.destination_domain = target.host;
  opening.destination_port = target.port;
  st.record = std::make_shared<TunnelRecord>(conn->ctx, std::move(opening));
  auto& facts = st.record->facts();

  auto finish = [&](std::string reason) {
    if (!reason.empty()) facts.reason = std::move(reason);
    facts.end = std::chrono::system_clock::now();
    facts.bytes_client_to_server = st.up;
    facts.bytes_server_to_client = st.down;
    st.record->tunnel_closed(st.up, st.down);
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
  conn->upstream->set_option(tcp::no_delay(true), ignored);

  static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
  conn->expires_after(ctx.settings.timeouts.idle);
  if (co_await send_all(conn->client, established)) {
    finish("client gone before 200");
    conn->close();
    co_return;
  }
  if (!early.empty()) {
    if (st.tap.feed(early.data(), early.size())) ask_side_probe(st);
    st.tls.client_bytes(early.data(), early.size());
    if (co_await send_all(*conn->upstream, early)) {
      finish("upstream write failed");
      conn->close();
      co_return;
    }
    st.up += early.size();
  }

  // The ClientHello tap parses a copy of the first client bytes, until it knows; the TLS
  // watch reads record headers both ways until it has decided.
  co_await pump_both_ways(
      *conn, st.up, st.down,
      [&st](const char* data, std::size_t n) {
        if (st.tap.state() == TapState::reading && st.tap.feed(data, n)) ask_side_probe(st);
        const bool watching = st.tls.client_bytes(data, n);
        return watching || st.tap.state() == TapState::reading;
      },
      [&st](const char* data, std::size_t n) { return st.tls.server_bytes(data, n); });
  const bool timed_out = conn->timed_out;
  conn->close();
  if (st.tap.state() == TapState::reading && st.up > 0) {
    st.tap.finish();  // closed mid-ClientHello: log what is known (not TLS or truncated)
    ask_side_probe(st);
  }
  if (st.tap.state() == TapState::tls) facts.tunnel_tls = tunnel_tls_of(st.tls);
  finish(timed_out ? "idle timeout" : "");
}

}  // namespace tlsprobe::proxy
