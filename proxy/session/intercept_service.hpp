// InterceptService: what an intercepted client is served once the upstream was judged
// (step 4 of proxy/session/intercept_session.hpp), decided by one pure function.
#pragma once

#include "config/config.hpp"
#include "proxy/session/intercept_policy.hpp"
#include "proxy/tls/upstream_tls.hpp"

#include <string_view>

namespace tlsprobe::proxy {

enum class InterceptService {
  relay,    // verified upstream: a minted leaf, HTTP relayed
  explain,  // a minted leaf over which only tlsprobe's 502 page is served; upstream closed
  mirror,   // a leaf from a throwaway untrusted CA: the client shows its own error
  pass,     // failed upstream relayed anyway (policy pass), findings logged
};
std::string_view to_string(InterceptService s);

// `verdict`: null when the upstream handshake failed (there is nothing to mirror or pass:
// always explained); an acceptable verdict is relayed; a failed one follows `policy`.
InterceptService choose_intercept_service(const UpstreamVerdict* verdict,
                                          config::UpstreamErrorPolicy policy);

}  // namespace tlsprobe::proxy
