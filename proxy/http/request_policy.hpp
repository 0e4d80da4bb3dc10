// The checks every proxied request head passes before it goes anywhere, whatever the mode
// that carries it: Basic proxy authentication (407) and loops (403, our own Via).
#pragma once

#include "proxy/net/proxy_context.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>

#include <optional>
#include <string>

namespace tlsprobe::proxy {

// What the checks need to know: the settings' credentials and this process's Via token.
struct RequestPolicy {
  std::optional<std::string> basic_auth;  // "user:password" when Basic auth is required
  std::string via_token;                  // ours: "tlsprobe-<8 hex>"
};

enum class RefusalKind { auth, loop };

struct PolicyRefusal {
  boost::beast::http::status status;
  std::string reason;
  RefusalKind kind = RefusalKind::auth;
};

// Pure: 407 when Basic auth is required and Proxy-Authorization is missing or wrong (the
// auth check first: an unauthenticated client learns nothing else), 403 when a Via field
// names our token (the request already passed through this proxy).
std::optional<PolicyRefusal> check_request_policy(const RequestPolicy& policy,
                                                  const boost::beast::http::fields& head);

// The same for a running proxy: its settings and token, each refusal counted
// (counters.auth_failures, counters.loops).
std::optional<PolicyRefusal> check_request_policy(ProxyContext& ctx,
                                                  const boost::beast::http::fields& head);

}  // namespace tlsprobe::proxy
