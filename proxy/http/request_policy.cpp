#include "proxy/http/request_policy.hpp"

#include "proxy/http/http_util.hpp"

namespace tlsprobe::proxy {

namespace http = boost::beast::http;

std::optional<PolicyRefusal> check_request_policy(const RequestPolicy& policy,
                                                  const http::fields& head) {
  if (policy.basic_auth) {
    const auto it = head.find(http::field::proxy_authorization);
    if (it == head.end() || !basic_auth_matches(it->value(), *policy.basic_auth))
      return PolicyRefusal{
          http::status::proxy_authentication_required,
          it == head.end() ? "proxy authentication required" : "proxy authentication failed",
          RefusalKind::auth};
  }
  for (auto it = head.find(http::field::via); it != head.end() && it->name() == http::field::via;
       ++it)
    if (via_names_us(it->value(), policy.via_token))
      return PolicyRefusal{http::status::forbidden,
                           "request loop: this request already passed through this proxy",
                           RefusalKind::loop};
  return std::nullopt;
}

std::optional<PolicyRefusal> check_request_policy(ProxyContext& ctx, const http::fields& head) {
  auto refusal = check_request_policy(RequestPolicy{ctx.settings.basic_auth, ctx.via_token}, head);
  if (refusal)
    ++(refusal->kind == RefusalKind::auth ? ctx.counters.auth_failures : ctx.counters.loops);
  return refusal;
}

}  // namespace tlsprobe::proxy
