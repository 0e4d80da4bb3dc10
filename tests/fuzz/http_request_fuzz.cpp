// libFuzzer target for the forward proxy's request path. The proxy reads the first request
// head of every client with Beast's request_parser<empty_body> and a header limit
// (proxy/session/client_session.cpp), then parses the CONNECT authority or the absolute-form URL
// and checks Proxy-Authorization and Via (proxy/http/http_util.hpp). That parsing is only reachable
// through a socket in the proxy, so this target runs the same parser with the same limit on
// the input, fed in two pieces (the first byte picks the split, as TCP segments would),
// followed by every helper the session calls on the head. Links tlsprobe_cli (tests/fuzz).
// Built only with TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "proxy/http/http_util.hpp"
#include "proxy/net/proxy_settings.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace http = boost::beast::http;
using namespace tlsprobe::proxy;

namespace {

// Feeds `in` to the parser until the head is complete, an error, or the input runs out.
bool feed(http::request_parser<http::empty_body>& parser, std::string_view in) {
  boost::beast::error_code ec;
  while (!in.empty() && !parser.is_header_done()) {
    const auto n = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
    if (ec == http::error::need_more) return true;
    if (ec) return false;
    if (n == 0) return true;  // needs more than we have
    in.remove_prefix(n);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);

  // The helpers see raw client text directly too (a CONNECT target is the whole token).
  (void)parse_authority(all);
  (void)parse_authority(all, 443);
  (void)parse_absolute_target(all);
  (void)is_ip_literal(all);
  (void)via_names_us(all, "tlsprobe-1a2b3c4d");
  (void)basic_auth_matches(all, "user:secret");

  http::request_parser<http::empty_body> parser;
  parser.header_limit(ProxySettings{}.limits.max_header_bytes);
  const std::size_t split = all.empty() ? 0 : data[0] % (all.size() + 1);
  if (!feed(parser, all.substr(0, split)) || !feed(parser, all.substr(split))) return 0;
  if (!parser.is_header_done()) return 0;

  auto req = parser.release();
  if (req.method() == http::verb::connect) {
    if (auto a = parse_authority(req.target())) (void)is_ip_literal(a->host);
  } else if (auto t = parse_absolute_target(req.target())) {
    (void)is_ip_literal(t->authority.host);
  }
  if (auto it = req.find(http::field::proxy_authorization); it != req.end())
    (void)basic_auth_matches(it->value(), "user:secret");
  for (auto it = req.find(http::field::via); it != req.end() && it->name() == http::field::via;
       ++it)
    (void)via_names_us(it->value(), "tlsprobe-1a2b3c4d");
  http::fields copy = req.base();
  strip_hop_by_hop(copy);
  (void)error_response(http::status::bad_request, req.target());
  return 0;
}
