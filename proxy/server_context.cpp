#include "proxy/server_context.hpp"

#include "proxy/side_probe.hpp"

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
}

void ProxyContext::set_listen_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
  std::lock_guard lock(mutex_);
  listen_ = ep;
}

boost::asio::ip::tcp::endpoint ProxyContext::listen_endpoint() const {
  std::lock_guard lock(mutex_);
  return listen_;
}

bool ProxyContext::is_self(const boost::asio::ip::tcp::endpoint& ep) const {
  const auto me = listen_endpoint();
  if (ep.port() != me.port()) return false;
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
  if (addr == me.address()) return true;
  // Listening on 0.0.0.0 / :: accepts on every local address; loopback is the one we can
  // name without enumerating interfaces (and the one a loop through "localhost" uses).
  return me.address().is_unspecified() && (addr.is_loopback() || addr.is_unspecified());
}

std::optional<std::uint64_t> ProxyContext::admit(std::function<void()> close) {
  std::lock_guard lock(mutex_);
  if (open_.size() >= settings.limits.max_connections) return std::nullopt;
  const auto id = next_id_++;
  open_.emplace(id, std::move(close));
  return id;
}

void ProxyContext::release(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  open_.erase(id);
}

std::size_t ProxyContext::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

void ProxyContext::close_all() {
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : open_) closers.push_back(c);
  }
  for (auto& c : closers) c();
}

}  // namespace tlsprobe::proxy
