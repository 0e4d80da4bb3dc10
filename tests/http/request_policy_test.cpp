// check_request_policy: proxy authentication and loop refusal, pure (no context, no socket).
#include "proxy/http/request_policy.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
namespace http = boost::beast::http;
using proxy::RefusalKind;
using proxy::RequestPolicy;

namespace {

const RequestPolicy open_proxy{std::nullopt, "tlsprobe-1a2b3c4d"};
const RequestPolicy with_auth{std::string("alice:s3cret"), "tlsprobe-1a2b3c4d"};

http::fields head(std::initializer_list<std::pair<http::field, std::string>> fields) {
  http::fields f;
  for (const auto& [name, value] : fields) f.insert(name, value);
  return f;
}

}  // namespace

TEST_CASE("request policy: an ordinary request passes", "[request_policy]") {
  CHECK_FALSE(proxy::check_request_policy(open_proxy, head({{http::field::host, "a.test"}})));
  CHECK_FALSE(proxy::check_request_policy(
      open_proxy, head({{http::field::via, "1.1 squid-7, 1.1 tlsprobe-99999999"}})));
}

TEST_CASE("request policy: Basic proxy authentication, 407 when missing or wrong",
          "[request_policy]") {
  const auto missing = proxy::check_request_policy(with_auth, head({}));
  REQUIRE(missing);
  CHECK(missing->status == http::status::proxy_authentication_required);
  CHECK(missing->kind == RefusalKind::auth);
  CHECK(missing->reason == "proxy authentication required");

  // "alice:wrong" and "alice:s3cret" in base64.
  const auto wrong = proxy::check_request_policy(
      with_auth, head({{http::field::proxy_authorization, "Basic YWxpY2U6d3Jvbmc="}}));
  REQUIRE(wrong);
  CHECK(wrong->reason == "proxy authentication failed");
  CHECK_FALSE(proxy::check_request_policy(
      with_auth, head({{http::field::proxy_authorization, "Basic YWxpY2U6czNjcmV0"}})));
}

TEST_CASE("request policy: our own Via is a loop, 403, in any Via field", "[request_policy]") {
  const auto loop = proxy::check_request_policy(
      open_proxy,
      head({{http::field::via, "1.1 cdn-edge"}, {http::field::via, "1.1 tlsprobe-1a2b3c4d"}}));
  REQUIRE(loop);
  CHECK(loop->status == http::status::forbidden);
  CHECK(loop->kind == RefusalKind::loop);
}

TEST_CASE("request policy: authentication is checked before the loop", "[request_policy]") {
  const auto r =
      proxy::check_request_policy(with_auth, head({{http::field::via, "1.1 tlsprobe-1a2b3c4d"}}));
  REQUIRE(r);
  CHECK(r->kind == RefusalKind::auth);
}
