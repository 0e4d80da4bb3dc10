#include "proxy/http/http_inspector.hpp"

#include "proxy/http/page_load.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

void HttpInspector::request(std::string_view method, std::string_view host,
                            std::string_view target) {
  const bool https = exchange_.https;
  exchange_ = inspect::HttpExchange{};
  exchange_.https = https;
  exchange_.method = std::string(method);
  exchange_.host = std::string(host);
  exchange_.path = target.empty() ? "/" : std::string(target);
  keep_body_ = false;
}

void HttpInspector::response(int status, const boost::beast::http::fields& headers) {
  exchange_.status = status;
  exchange_.response_headers.clear();
  for (const auto& f : headers)
    exchange_.response_headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  // Only pages the mixed-content scan reads are copied (check_http looks at https html only).
  keep_body_ = false;
  if (exchange_.https) {
    if (auto ct = exchange_.header("Content-Type")) keep_body_ = is_html_type(*ct);
  }
}

void HttpInspector::body(const char* data, std::size_t n) {
  if (!wants_body()) return;
  const std::size_t room = max_body_ - exchange_.body.size();
  exchange_.body.append(data, std::min(n, room));
  if (n > room) exchange_.body_truncated = true;
}

inspect::Findings HttpInspector::finish() {
  inspect::Findings out;
  inspect::HttpCheckOptions options;
  options.keep_query = keep_query_;
  options.hsts_memory = hsts_;
  if (exchange_.status != 0) out = inspect::check_http(exchange_, options);
  // Learnt after the check: a page's own header is read by check_http directly.
  if (hsts_ && exchange_.https && exchange_.status >= 200)
    if (auto sts = exchange_.header("Strict-Transport-Security")) hsts_->note(exchange_.host, *sts);
  exchange_.body.clear();
  exchange_.body.shrink_to_fit();  // an idle keep-alive connection holds no page copy
  keep_body_ = false;
  return out;
}

}  // namespace tlsprobe::proxy
