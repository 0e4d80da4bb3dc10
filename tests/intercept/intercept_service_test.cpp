// choose_intercept_service: relay, explain, mirror or pass, from the verdict and the policy.
// Pure: never launder (a failed upstream is never relayed unless the policy says pass).
#include "proxy/session/intercept_service.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using proxy::InterceptService;
using OnUpstreamError = config::UpstreamErrorPolicy;

namespace {

proxy::UpstreamVerdict verdict(bool failed) {
  proxy::UpstreamVerdict v;
  v.name = "shop.test";
  v.failed = failed;
  return v;
}

}  // namespace

TEST_CASE("intercept service: a verified upstream is relayed whatever the policy",
          "[intercept_service]") {
  const auto ok = verdict(false);
  for (auto p : {OnUpstreamError::explain, OnUpstreamError::mirror, OnUpstreamError::pass})
    CHECK(proxy::choose_intercept_service(&ok, p) == InterceptService::relay);
}

TEST_CASE("intercept service: a failed verdict follows the policy", "[intercept_service]") {
  const auto bad = verdict(true);
  CHECK(proxy::choose_intercept_service(&bad, OnUpstreamError::explain) ==
        InterceptService::explain);
  CHECK(proxy::choose_intercept_service(&bad, OnUpstreamError::mirror) == InterceptService::mirror);
  CHECK(proxy::choose_intercept_service(&bad, OnUpstreamError::pass) == InterceptService::pass);
}

TEST_CASE("intercept service: a failed handshake is explained, even under mirror or pass",
          "[intercept_service]") {
  for (auto p : {OnUpstreamError::explain, OnUpstreamError::mirror, OnUpstreamError::pass})
    CHECK(proxy::choose_intercept_service(nullptr, p) == InterceptService::explain);
  CHECK(proxy::to_string(InterceptService::mirror) == "mirror");
}
