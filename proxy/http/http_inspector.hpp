// HttpInspector: runs inspect::check_http on one exchange while its response streams
// through the proxy. The relay never waits for it and never buffers a whole response:
// only text/html (and xhtml) bodies are copied, up to a bound (the mixed-content scan needs
// the start of a page; a cut-off page is scanned as far as it came), everything else is
// inspected from its head alone.
#pragma once

#include "inspect/check_http.hpp"
#include "inspect/finding.hpp"
#include "inspect/http_exchange.hpp"

#include <boost/beast/http/fields.hpp>

#include <cstddef>
#include <string_view>

namespace tlsprobe::proxy {

inline constexpr std::size_t kInspectBodyBytes = 1024 * 1024;  // per html response

// What the client's request came over: https:// (intercept) or plain http:// (forward).
enum class Scheme { http, https };

class HttpInspector {
 public:
  explicit HttpInspector(Scheme scheme, std::size_t max_body = kInspectBodyBytes)
      : max_body_(max_body) {
    exchange_.https = scheme == Scheme::https;
  }

  // The request as sent upstream: method, Host header and origin-form target.
  void request(std::string_view method, std::string_view host, std::string_view target);
  // The final response head (after 1xx); headers in order as received.
  void response(int status, const boost::beast::http::fields& headers);
  // True when body bytes are still wanted (an html response below the bound).
  bool wants_body() const { return keep_body_ && !exchange_.body_truncated; }
  void body(const char* data, std::size_t n);
  // Whether findings show URLs with their query ([log] keep_query; default: without).
  void keep_query(bool keep) { keep_query_ = keep; }
  // The request's Sec-Fetch-Dest header (after request()): tells a subresource from a page.
  void fetch_dest(std::string_view dest) { exchange_.fetch_dest = std::string(dest); }
  // HSTS policies shared across connections (the interceptor's): every HTTPS response's
  // header is noted there, and mixed content skips hosts it covers. Must outlive this.
  void hsts_memory(inspect::HstsMemory* memory) { hsts_ = memory; }
  // Findings of the exchange (check_http); the inspector may then be reused with request().
  inspect::Findings finish();

  const inspect::HttpExchange& exchange() const { return exchange_; }

 private:
  std::size_t max_body_;
  bool keep_body_ = false;
  bool keep_query_ = false;
  inspect::HstsMemory* hsts_ = nullptr;
  inspect::HttpExchange exchange_;
};

}  // namespace tlsprobe::proxy
