#include "proxy/probe/side_probe.hpp"

#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/fragment_memo.hpp"
#include "proxy/observe/metrics.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

SideProbe::SideProbe(ProbeFunction probe, DiagnoseFunction diagnose, std::chrono::seconds ttl,
                     ConnectionLog* announce_to)
    : probe_(std::move(probe)),
      diagnose_(std::move(diagnose)),
      announce_(announce_to),
      cache_(ttl) {}

std::string SideProbe::cache_key(const SideProbeRequest& r) {
  // The SNI is part of the key: a client without SNI and one with it may get different
  // certificates from the same address. '\x01' marks "no SNI" apart from an empty name.
  return config::format_host_port(r.host, r.port) + "|" + (r.sni ? *r.sni : std::string("\x01"));
}

void SideProbe::lookup(
    const SideProbeRequest& request,
    std::function<void(std::shared_ptr<const SideProbeResult>, bool from_cache)> done) {
  const auto key = cache_key(request);
  const auto answer = cache_.get_or_join(
      key, [done = std::move(done)](std::shared_ptr<const SideProbeResult> r, bool from_cache) {
        done(std::move(r), from_cache);
      });
  if (answer != CacheAnswer::started) {
    // A hit or a join on a running probe: no handshake of its own.
    if (metrics_) metrics_->probe_finished(ProbeOutcome::cached);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  probe_(request, [this, key, started](inspect::Observations obs) {
    auto result = std::make_shared<SideProbeResult>();
    result->probe.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    bool any_ok = false;
    for (const auto& h : obs.handshakes) {
      if (h.outcome == inspect::HandshakeOutcome::ok) any_ok = true;
      if (!result->direct && (h.role == inspect::Role::direct || h.role == inspect::Role::edge))
        result->direct = h;
    }
    result->probe.status = any_ok ? ProbeStatus::ok : ProbeStatus::failed;
    if (metrics_)
      metrics_->probe_finished(any_ok ? ProbeOutcome::ok : ProbeOutcome::failed,
                               std::chrono::steady_clock::now() - started);
    if (!any_ok && result->direct) result->probe.failure = result->direct->failure_detail;
    if (!any_ok && obs.handshakes.empty()) result->probe.failure = "no handshake observed";
    result->findings = FindingList(diagnose_(obs));
    result->observations = std::move(obs);
    if (announce_) {
      for (const auto& f : result->findings) announce_->announce(f);
    }
    cache_.complete(key, std::move(result));
  });
}

namespace {

// Everything client_findings reads, each part with its length in front.
std::string client_key(const inspect::ClientHelloObservation& hello, const std::string& host,
                       std::uint16_t port) {
  std::string key;
  const auto part = [&key](std::string_view s) { append_key_part(key, s); };
  const auto list = [&](const std::vector<std::string>& items) {
    part(std::to_string(items.size()));
    for (const auto& item : items) part(item);
  };
  part(host);
  part(std::to_string(port));
  part(hello.sni ? "1" + *hello.sni : "0");
  list(hello.alpn);
  list(hello.versions);
  part(hello.connect_host);
  part(hello.http_host);
  return key;
}

}  // namespace

FindingList SideProbe::client_findings(const inspect::ClientHelloObservation& hello,
                                       const std::string& host, std::uint16_t port) const {
  // Every tunnel asks, and clients send the same few hellos: the answer is memoised (the
  // diagnosis is pure, and a ClientHello's random, session id and key shares are not in it).
  auto key = client_key(hello, host, port);
  {
    std::lock_guard lock(client_mutex_);
    if (const auto it = client_memo_.find(key); it != client_memo_.end()) return it->second;
  }
  inspect::Observations obs;
  obs.host = host;
  obs.port = port;
  obs.target = config::format_host_port(host, port);
  obs.client = hello;
  auto findings = diagnose_(obs);
  // Only the client's own findings: the upstream ones come from the cached probe.
  findings.erase(
      std::remove_if(findings.begin(), findings.end(),
                     [](const inspect::Finding& f) { return f.role != inspect::Role::client; }),
      findings.end());
  FindingList shared(std::move(findings));
  std::lock_guard lock(client_mutex_);
  if (client_memo_.size() >= kClientMemoEntries) client_memo_.clear();
  client_memo_.emplace(std::move(key), shared);
  return shared;
}

}  // namespace tlsprobe::proxy
