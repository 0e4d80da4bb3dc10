#include "proxy/net/destination_policy.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace tlsprobe::proxy {

namespace ip = boost::asio::ip;

std::string_view to_string(DestinationVerdict v) {
  switch (v) {
    case DestinationVerdict::allowed:
      return "allowed";
    case DestinationVerdict::own_listener:
      return "own_listener";
    case DestinationVerdict::host_local:
      return "host_local";
  }
  return "allowed";
}

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

bool is_loopback_or_link_local(const ip::address& raw) {
  const auto a = unmapped(raw);
  if (a.is_unspecified() || a.is_loopback()) return true;
  // (Asio's is_loopback covers all of 127.0.0.0/8.)
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return b[0] == 169 && b[1] == 254;
  }
  return a.to_v6().is_link_local();
}

bool is_host_address(const ip::address& raw, const std::vector<ip::address>& host_addresses) {
  const auto a = unmapped(raw);
  if (a.is_unspecified() || a.is_loopback()) return true;  // is_loopback: all of 127/8
  return std::find(host_addresses.begin(), host_addresses.end(), a) != host_addresses.end();
}

DestinationVerdict judge_destination(const DestinationRules& rules,
                                     const ip::tcp::endpoint& destination) {
  const auto a = unmapped(destination.address());
  const bool own_port = std::find(rules.own_ports.begin(), rules.own_ports.end(),
                                  destination.port()) != rules.own_ports.end();
  if (own_port && is_host_address(a, rules.host_addresses)) return DestinationVerdict::own_listener;
  if (rules.beyond_loopback && is_loopback_or_link_local(a)) {
    const bool allowed =
        std::any_of(rules.allow_destinations.begin(), rules.allow_destinations.end(),
                    [&, ip = ip_bytes(a)](const Cidr& c) { return config::cidr_contains(c, ip); });
    if (!allowed) return DestinationVerdict::host_local;
  }
  return DestinationVerdict::allowed;
}

std::vector<ip::address> interface_addresses() {
  std::vector<ip::address> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* s = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back(ip::address_v4(ntohl(s->sin_addr.s_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* s = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      ip::address_v6::bytes_type b;
      std::copy(std::begin(s->sin6_addr.s6_addr), std::end(s->sin6_addr.s6_addr), b.begin());
      // The scope id is left out: a destination is compared by address only.
      out.push_back(unmapped(ip::address_v6(b)));
    }
  }
  return out;
}

ip::address client_key(const ip::address& client) {
  const auto a = unmapped(client);
  if (a.is_v4()) return a;
  auto b = a.to_v6().to_bytes();
  std::fill(b.begin() + 8, b.end(), 0);
  return ip::address_v6(b);
}

}  // namespace tlsprobe::proxy
