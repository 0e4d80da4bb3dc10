// The checks every proxied request head passes before it goes anywhere, whatever the mode
// that carries it: Basic proxy authentication (407) and loops (403, our own Via).
#pragma once

#include "proxy/net/proxy_context.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>

#include <optional>
#include <string>

namespace tlsprobe::proxy {

struct PolicyRefusal {
  boost::beast::http::status status;
  std::string reason;
};

// Proxy authentication (407) and loop (403, our own Via) checks for one request head.
std::optional<PolicyRefusal> check_request_policy(ProxyContext& ctx,
                                                  const boost::beast::http::fields& head);

}  // namespace tlsprobe::proxy
