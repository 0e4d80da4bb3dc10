// The admin listener's /pins resource (issue 12 item 9): the (client, host) pairs whose
// intercepted connections fall back to a tunnel because that client rejected the minted
// certificate (proxy/session/intercept_policy.hpp).
//
//   GET /pins     200 application/json:
//                 {"ttl_seconds":600,"count":1,"pins":[{"client":"127.0.0.1","host":"app.example",
//                  "since":"2026-12-03T18:00:00Z","expires_in_seconds":412}]}
//   DELETE /pins  200 application/json {"cleared":N}: every entry removed, those clients are
//                 intercepted again on their next connection
//   other methods 405 (Allow: GET, HEAD, DELETE)
//
// Clearing is DELETE, not POST, on purpose: a web page cannot send a cross-origin DELETE
// without a CORS preflight the admin listener never answers, while a plain form POST to
// 127.0.0.1:9464 would go through from any site the user visits.
#pragma once

#include "proxy/observe/admin_listener.hpp"

namespace tlsprobe::proxy {

class InterceptPolicy;

inline constexpr std::string_view kPinsPath = "/pins";

// The route for kPinsPath; `policy` must outlive the admin listener.
AdminRoute pins_admin_route(InterceptPolicy& policy);

}  // namespace tlsprobe::proxy
