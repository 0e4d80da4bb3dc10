#include "proxy/http/request_policy.hpp"

#include "proxy/http/http_util.hpp"

namespace tlsprobe::proxy {

namespace http = boost::beast::http;

std::optional<PolicyRefusal> check_request_policy(ProxyContext& ctx, const http::fields& head) {
  if (ctx.settings.basic_auth) {
    const auto it = head.find(http::field::proxy_authorization);
    if (it == head.end() || !basic_auth_matches(it->value(), *ctx.settings.basic_auth)) {
      ++ctx.counters.auth_failures;
      return PolicyRefusal{
          http::status::proxy_authentication_required,
          it == head.end() ? "proxy authentication required" : "proxy authentication failed"};
    }
  }
  for (auto it = head.find(http::field::via); it != head.end() && it->name() == http::field::via;
       ++it) {
    if (via_names_us(it->value(), ctx.via_token)) {
      ++ctx.counters.loops;
      return PolicyRefusal{http::status::forbidden,
                           "request loop: this request already passed through this proxy"};
    }
  }
  return std::nullopt;
}

}  // namespace tlsprobe::proxy
