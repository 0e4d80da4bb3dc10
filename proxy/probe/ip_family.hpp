// Which address family a probe may dial (`probe -4` / `-6`, like curl and openssl s_client).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <string_view>
#include <vector>

namespace tlsprobe::proxy {

enum class IpFamily { any, v4, v6 };

inline bool family_allows(IpFamily family, const boost::asio::ip::address& address) {
  return family == IpFamily::any || (family == IpFamily::v4 ? address.is_v4() : address.is_v6());
}

// "IPv4" / "IPv6", for messages ("no IPv6 address for example.com (-6)").
inline std::string_view family_name(IpFamily family) {
  return family == IpFamily::v6 ? "IPv6" : "IPv4";
}

}  // namespace tlsprobe::proxy
