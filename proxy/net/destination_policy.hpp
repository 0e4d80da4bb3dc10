// Which destinations a client may make the proxy connect to, and how many connections one
// client address may hold: pure functions (no sockets), so every rule is unit-tested and
// the sessions only ask. DESIGN.md section 8, "A loop is…", and docs/security.md.
//
// - Own listener (a loop): a destination whose port is one of the proxy's own listeners
//   (proxy or admin) on an address of this host: unspecified (0.0.0.0 and :: connect to
//   the host itself), loopback (127.0.0.0/8, ::1) or an address of one of its interfaces.
//   Never allowed: `CONNECT 0.0.0.0:PORT` fed itself thousands of nested connections.
// - Host-local: when any listener accepts clients beyond loopback, a loopback, link-local
//   (169.254.0.0/16, fe80::/10) or unspecified destination would hand the network the
//   host's loopback-only services; it needs `allow_destinations`. While the proxy listens
//   on loopback only, its clients are already on this host: local ports are ordinary
//   destinations (development servers).
// The address judged is the resolved one, after IPv4-mapped IPv6 is unwrapped, so names,
// decimal and short forms ("2130706433", "127.1") and ::ffff:127.0.0.1 are all caught.
#pragma once

#include "proxy/net/proxy_settings.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::proxy {

struct DestinationRules {
  std::vector<std::uint16_t> own_ports;  // ports of the proxy's and the admin listener
  bool beyond_loopback = false;          // a listener accepts on a non-loopback address
  std::vector<Cidr> allow_destinations;  // loopback/link-local networks allowed anyway
  // Addresses of this host's interfaces (interface_addresses()); loopback and unspecified
  // addresses count as the host's own without being listed.
  std::vector<boost::asio::ip::address> host_addresses;
};

enum class DestinationVerdict {
  allowed,
  own_listener,  // a loop to the proxy itself: refused (403)
  host_local,    // loopback / link-local while serving beyond loopback: refused (403)
};
std::string_view to_string(DestinationVerdict v);

DestinationVerdict judge_destination(const DestinationRules& rules,
                                     const boost::asio::ip::tcp::endpoint& destination);

// ::ffff:a.b.c.d -> a.b.c.d; every other address unchanged.
boost::asio::ip::address unmapped(const boost::asio::ip::address& a);
// 127.0.0.0/8, ::1, 169.254.0.0/16, fe80::/10, 0.0.0.0, :: (after unmapping).
bool is_loopback_or_link_local(const boost::asio::ip::address& a);
// Unspecified, loopback, or one of `host_addresses` (after unmapping).
bool is_host_address(const boost::asio::ip::address& a,
                     const std::vector<boost::asio::ip::address>& host_addresses);

// The addresses of this host's interfaces now (getifaddrs), unmapped; empty on error.
std::vector<boost::asio::ip::address> interface_addresses();

// The key one client is counted under for max_connections_per_client: its IPv4 address,
// or its IPv6 /64 (one host usually owns a whole /64, and could otherwise open each
// connection from a fresh address of it, whose network address is the key). An address,
// not its text: every connection is counted, and formatting one cost an inet_ntop and an
// allocation each.
boost::asio::ip::address client_key(const boost::asio::ip::address& client);

}  // namespace tlsprobe::proxy
