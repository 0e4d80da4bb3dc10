// The pure parts of issue 12: check_request_framing (items 3 and 11), obs-fold detection, the
// strict Basic credentials (item 11), and reverse mode's Host admission (item 7).
#include "proxy/http/http_util.hpp"
#include "proxy/http/request_framing.hpp"
#include "proxy/session/reverse_service.hpp"
#include "reverse/reverse_fixture.hpp"

#include <boost/beast/http/field.hpp>

#include <catch2/catch.hpp>

using namespace tlsprobe;
using proxy::check_request_framing;
namespace http = boost::beast::http;

namespace {

http::request_header<> head(std::vector<std::pair<std::string, std::string>> fields,
                            std::string target = "/a", unsigned version = 11) {
  http::request_header<> h;
  h.method(http::verb::post);
  h.target(target);
  h.version(version);
  for (const auto& [name, value] : fields) h.insert(name, value);
  return h;
}

}  // namespace

TEST_CASE("framing: plain, Content-Length and chunked requests pass unchanged", "[framing]") {
  auto plain = head({{"Host", "a.test"}});
  CHECK(check_request_framing(plain));
  auto cl = head({{"Host", "a.test"}, {"Content-Length", "5"}});
  const auto v = check_request_framing(cl);
  CHECK(v);
  CHECK_FALSE(v.close_after);
  CHECK(cl[http::field::content_length] == "5");
  auto te = head({{"Host", "a.test"}, {"Transfer-Encoding", "gzip, chunked"}});
  const auto t = check_request_framing(te);
  CHECK(t);
  CHECK(t.transfer_codings == "gzip, chunked");
}

TEST_CASE("framing: Transfer-Encoding must end in chunked, once, with known codings", "[framing]") {
  for (const char* bad :
       {"gzip", "xchunked", "chunked, gzip", "chunked, chunked", "", " , ", "chunked;", ";q=1"}) {
    INFO(bad);
    auto h = head({{"Host", "a.test"}, {"Transfer-Encoding", bad}});
    const auto v = check_request_framing(h);
    CHECK(v.status == http::status::bad_request);
  }
  auto split =
      head({{"Host", "a.test"}, {"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}});
  CHECK(check_request_framing(split).transfer_codings == "gzip, chunked");
  auto unknown = head({{"Host", "a.test"}, {"Transfer-Encoding", "identity, chunked"}});
  CHECK(check_request_framing(unknown).status == http::status::not_implemented);
}

TEST_CASE("framing: Transfer-Encoding with Content-Length is refused", "[framing]") {
  auto h =
      head({{"Host", "a.test"}, {"Transfer-Encoding", "chunked, gzip"}, {"Content-Length", "5"}});
  const auto v = check_request_framing(h);
  CHECK(v.status == http::status::bad_request);
  CHECK(v.reason.find("Content-Length") != std::string::npos);
}

TEST_CASE("framing: HTTP/1.0 with Transfer-Encoding closes after the response", "[framing]") {
  auto h = head({{"Host", "a.test"}, {"Transfer-Encoding", "chunked"}}, "/a", 10);
  const auto v = check_request_framing(h);
  CHECK(v);
  CHECK(v.close_after);
  auto h11 = head({{"Host", "a.test"}, {"Transfer-Encoding", "chunked"}});
  CHECK_FALSE(check_request_framing(h11).close_after);
}

TEST_CASE("framing: equal Content-Lengths become one field", "[framing]") {
  auto twice = head({{"Host", "a.test"}, {"Content-Length", "5"}, {"Content-Length", "5"}});
  REQUIRE(check_request_framing(twice));
  CHECK(twice.count(http::field::content_length) == 1);
  CHECK(twice[http::field::content_length] == "5");
  auto list = head({{"Host", "a.test"}, {"Content-Length", "5, 5"}});
  REQUIRE(check_request_framing(list));
  CHECK(list[http::field::content_length] == "5");
}

TEST_CASE("framing: several Host fields are refused", "[framing]") {
  auto h = head({{"Host", "a.test"}, {"Host", "b.test"}});
  CHECK(check_request_framing(h).status == http::status::bad_request);
}

TEST_CASE("framing: an absolute-form target must name the Host's origin", "[framing]") {
  auto same = head({{"Host", "A.test"}}, "http://a.test/x");
  CHECK(check_request_framing(same));
  auto same_port = head({{"Host", "a.test:80"}}, "http://a.test/x");
  CHECK(check_request_framing(same_port));
  auto https = head({{"Host", "a.test"}}, "https://a.test:443/x");
  CHECK(check_request_framing(https));
  auto other = head({{"Host", "a.test"}}, "http://b.test/x");
  CHECK(check_request_framing(other).status == http::status::bad_request);
  auto other_port = head({{"Host", "a.test"}}, "http://a.test:8080/x");
  CHECK(check_request_framing(other_port).status == http::status::bad_request);
  auto scheme_port = head({{"Host", "a.test"}}, "http://a.test:443/x");  // 443 is not http's
  CHECK(check_request_framing(scheme_port).status == http::status::bad_request);
  auto no_host = head({}, "http://b.test/x");  // HTTP/1.0 style: the target alone decides
  CHECK(check_request_framing(no_host));
  auto userinfo = head({{"Host", "b.test"}}, "http://a.test@b.test/x");
  CHECK(check_request_framing(userinfo).status == http::status::bad_request);
}

TEST_CASE("framing: obs-fold is found in the raw head, only at line starts", "[framing]") {
  CHECK(proxy::has_obs_fold("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"));
  CHECK(proxy::has_obs_fold("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"));
  CHECK(proxy::has_obs_fold("GET / HTTP/1.1\r\n Host: a\r\n\r\n"));
  CHECK_FALSE(proxy::has_obs_fold("GET / HTTP/1.1\r\nHost: a\r\nX: a b\t c\r\n\r\n"));
  CHECK(proxy::find_head_end("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody") == 27);
  CHECK(proxy::find_head_end("\r\nGET / HTTP/1.1\r\n\r\n") == 20);
  CHECK(proxy::find_head_end("GET / HTTP/1.1\r\nHost: a\r\n") == std::string_view::npos);
}

TEST_CASE("Basic proxy credentials: only canonical base64, nothing trailing", "[framing][auth]") {
  // "user:secret" is dXNlcjpzZWNyZXQ=.
  CHECK(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ=", "user:secret"));
  CHECK(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ= ", "user:secret"));
  // Before: the decoder dropped every trailing '=' and any leftover bits, so these matched.
  CHECK_FALSE(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ====", "user:secret"));
  CHECK_FALSE(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXR=", "user:secret"));  // stray bits
  CHECK_FALSE(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ", "user:secret"));   // unpadded
  CHECK_FALSE(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ=x", "user:secret"));
  CHECK_FALSE(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ= x", "user:secret"));
  CHECK_FALSE(proxy::basic_auth_matches("Basic dXNlcjpzZWNyZXQ=AAAA", "user:secret"));
}

TEST_CASE("reverse: Host header values that are not host names", "[framing][reverse]") {
  for (const char* ok : {"", "www.example.test", "www.example.test:8443", "WWW.Example.TEST.",
                         "127.0.0.1", "127.0.0.1:443", "[::1]", "[::1]:8443", "a_b.test"})
    CHECK(proxy::valid_host_header(ok));
  for (const char* bad : {"<img src=x onerror=alert(9)>", "a b.test", "a..b", ".a.test",
                          "user@a.test", "a.test:", "a.test:99999", "::1", "a.test/x", "a\"b"})
    CHECK_FALSE(proxy::valid_host_header(bad));
}

TEST_CASE("reverse: served hosts are the sites, the upstream, its SNI and the allowed names",
          "[framing][reverse]") {
  auto o = reverse_test::service_options("origin.internal:443");
  o.upstream.sni = "www.example.test";
  o.sites["api.example.test"].address = *proxy::parse_authority("10.0.0.7:443");
  o.sites["api.example.test"].sni = "api-origin.example.test";
  o.allowed_hosts = {"static.example.test", "*.cdn.example.test"};
  proxy::ReverseService svc(std::move(o));
  for (const char* yes :
       {"", "origin.internal", "www.example.test", "api.example.test", "api-origin.example.test",
        "static.example.test", "a.cdn.example.test", "b.a.cdn.example.test"})
    CHECK(svc.serves_host(yes));
  for (const char* no : {"attacker-1.example", "cdn.example.test", "example.test",
                         "xstatic.example.test", "10.0.0.7"})
    CHECK_FALSE(svc.serves_host(no));
}
