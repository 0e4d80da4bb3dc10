#include "proxy/session/intercept_service.hpp"

namespace tlsprobe::proxy {

std::string_view to_string(InterceptService s) {
  switch (s) {
    case InterceptService::relay:
      return "relay";
    case InterceptService::explain:
      return "explain";
    case InterceptService::mirror:
      return "mirror";
    case InterceptService::pass:
      return "pass";
  }
  return "explain";
}

InterceptService choose_intercept_service(const UpstreamVerdict* verdict,
                                          config::UpstreamErrorPolicy policy) {
  if (!verdict) return InterceptService::explain;
  if (!verdict->failed) return InterceptService::relay;
  switch (policy) {
    case config::UpstreamErrorPolicy::explain:
      return InterceptService::explain;
    case config::UpstreamErrorPolicy::mirror:
      return InterceptService::mirror;
    case config::UpstreamErrorPolicy::pass:
      return InterceptService::pass;
  }
  return InterceptService::explain;
}

}  // namespace tlsprobe::proxy
