#include "proxy/tls/upstream_judge.hpp"

#include "inspect/codes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace tlsprobe::proxy {

using asio::as_tuple;
using asio::use_awaitable;

asio::awaitable<std::shared_ptr<const SideProbeResult>> await_side_probe(
    SessionConnection& conn, SideProbe& side, const SideProbeRequest& req) {
  struct Wait {
    explicit Wait(const Strand& s) : timer(s) {}
    asio::steady_timer timer;
    std::shared_ptr<const SideProbeResult> result;
    bool done = false;
  };
  auto w = std::make_shared<Wait>(conn.strand);
  const auto limit = req.timeout + kSideProbeSlack;
  w->timer.expires_after(limit);
  // The connection's own deadline must not cut the wait short.
  conn.expires_after(limit + kSideProbeSlack);
  side.lookup(req, [w, ex = conn.strand](std::shared_ptr<const SideProbeResult> r, bool) {
    // Any thread (inline for a cache hit): hand the result to the waiting strand. The
    // coroutine runs on that strand, so this runs only once it waits on the timer.
    asio::post(ex, [w, r = std::move(r)] {
      w->result = r;
      w->done = true;
      w->timer.cancel();
    });
  });
  if (!w->done) co_await w->timer.async_wait(as_tuple(use_awaitable));
  co_return w->result;
}

bool names_mismatch(const UpstreamVerdict& verdict) {
  return std::any_of(verdict.findings.begin(), verdict.findings.end(),
                     [](const auto& f) { return f.code == inspect::codes::name_mismatch; });
}

asio::awaitable<std::shared_ptr<const UpstreamVerdict>> judge_upstream(
    SessionConnection& conn, UpstreamTls& tls, const inspect::HandshakeObservation& handshake,
    SideProbe* side, const SideProbeRequest& proof) {
  if (auto cached = tls.cached_verdict(handshake)) co_return cached;
  auto verdict = tls.verdict(handshake);
  if (side && names_mismatch(*verdict))
    if (auto pr = co_await await_side_probe(conn, *side, proof))
      verdict = tls.verdict(handshake, pr->observations.handshakes);
  co_return verdict;
}

}  // namespace tlsprobe::proxy
