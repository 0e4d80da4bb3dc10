#include "proxy/http/page_load.hpp"

#include "certs/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace tlsprobe::proxy {

bool is_html_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  std::erase_if(t, [](unsigned char c) { return std::isspace(c); });
  t = certs::ascii_lower(t);
  return t == "text/html" || t == "application/xhtml+xml";
}

bool is_page_load(const inspect::HttpExchange& ex) {
  if (ex.method != "GET") return false;
  if (ex.status >= 200 && ex.status < 300) {
    const auto type = ex.header("Content-Type");
    return type && is_html_type(*type);
  }
  if (ex.status >= 300 && ex.status < 400) return ex.header("Location").has_value();
  return false;
}

}  // namespace tlsprobe::proxy
