#include "proxy/net/proxy_context.hpp"

#include "proxy/probe/side_probe.hpp"

#include <cstdio>
#include <random>
#include <vector>

namespace tlsprobe::proxy {

namespace {
std::string make_via_token() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "tlsprobe-%08x", static_cast<unsigned>(rd()));
  return buf;
}
}  // namespace

ProxyContext::ProxyContext(ProxySettings s, ConnectionLog* l, std::shared_ptr<SideProbe> p)
    : settings(std::move(s)), log(l), side_probe(std::move(p)), via_token(make_via_token()) {
  listen_ = settings.listen;
  rules_.allow_destinations = settings.allow_destinations;
  update_rules_locked();
}

void ProxyContext::update_rules_locked() {
  rules_.own_ports.assign(1, listen_.port());
  rules_.own_ports.insert(rules_.own_ports.end(), other_ports_.begin(), other_ports_.end());
  // Proxy clients come only through the proxy's listener (0.0.0.0 and :: accept on every
  // interface: beyond loopback too); the admin listener serves no proxy client.
  rules_.beyond_loopback = !unmapped(listen_.address()).is_loopback();
}

void ProxyContext::set_listen_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
  std::lock_guard lock(mutex_);
  listen_ = ep;
  update_rules_locked();
}

boost::asio::ip::tcp::endpoint ProxyContext::listen_endpoint() const {
  std::lock_guard lock(mutex_);
  return listen_;
}

void ProxyContext::add_own_port(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  other_ports_.push_back(port);
  update_rules_locked();
}

DestinationVerdict ProxyContext::judge_destination(const boost::asio::ip::tcp::endpoint& ep) const {
  std::lock_guard lock(mutex_);
  // Interfaces come and go (DHCP, VPN): the list is read again when a few seconds old,
  // cheap enough next to the connect it guards.
  const auto now = std::chrono::steady_clock::now();
  if (now - host_addresses_read_ > std::chrono::seconds(5)) {
    rules_.host_addresses = interface_addresses();
    host_addresses_read_ = now;
  }
  return proxy::judge_destination(rules_, ep);
}

bool ProxyContext::is_self(const boost::asio::ip::tcp::endpoint& ep) const {
  return judge_destination(ep) == DestinationVerdict::own_listener;
}

ProxyContext::Admission ProxyContext::admit(std::function<void()> close,
                                            const boost::asio::ip::address& client) {
  Admission out;
  const auto key = client_key(client);
  std::lock_guard lock(mutex_);
  if (open_.size() >= settings.limits.max_connections) {
    out.refusal = Refusal::total_limit;
    return out;
  }
  auto& mine = per_client_[key];
  if (mine >= settings.limits.max_connections_per_client) {
    if (mine == 0) per_client_.erase(key);
    out.refusal = Refusal::client_limit;
    return out;
  }
  ++mine;
  const auto id = next_id_++;
  open_.emplace(id, OpenConnection{std::move(close), key});
  out.id = id;
  return out;
}

std::optional<std::uint64_t> ProxyContext::admit(std::function<void()> close) {
  std::lock_guard lock(mutex_);
  if (open_.size() >= settings.limits.max_connections) return std::nullopt;
  const auto id = next_id_++;
  open_.emplace(id, OpenConnection{std::move(close), std::nullopt});
  return id;
}

void ProxyContext::release(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(id);
  if (it == open_.end()) return;
  if (it->second.client) {
    const auto c = per_client_.find(*it->second.client);
    if (c != per_client_.end() && --c->second == 0) per_client_.erase(c);
  }
  open_.erase(it);
}

std::size_t ProxyContext::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

void ProxyContext::close_all() {
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : open_) closers.push_back(c.close);
  }
  for (auto& c : closers) c();
}

}  // namespace tlsprobe::proxy
