#include "proxy/net/proxy_settings.hpp"

namespace tlsprobe::proxy {

config::IpBytes ip_bytes(const boost::asio::ip::address& a) {
  if (a.is_v6()) return a.to_v6().to_bytes();
  return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, a.to_v4()).to_bytes();
}

bool client_allowed(const ProxySettings& s, const boost::asio::ip::address& client) {
  return config::client_allowed(s.allow, ip_bytes(client));
}

}  // namespace tlsprobe::proxy
