// One HTTP request/response pair as the proxy saw it (intercept, reverse, or plain HTTP
// forward): what the HTTP checks (inspect/check_http.hpp) read. Plain data, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlsprobe::inspect {

struct HttpExchange {
  bool https = false;  // the request arrived over TLS
  std::string method = "GET";
  std::string host;        // Host header (or CONNECT host), may carry ":port"
  std::string path = "/";  // request target in origin form ("/a?b")
  // The request's Sec-Fetch-Dest header ("document", "image", "script"…), empty when the
  // client sent none: tells a subresource from a page (issue 15 item 4).
  std::string fetch_dest;
  int status = 0;  // response status code; 0 = no response
  std::vector<std::pair<std::string, std::string>> response_headers;  // in order, as received
  std::string body;             // as collected, still Content-Encoded (gzip/deflate) if it was
  bool body_truncated = false;  // the proxy stopped collecting at its body bound

  // The first response header with this name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [k, v] : response_headers) {
      if (k.size() != name.size()) continue;
      bool eq = true;
      for (std::size_t i = 0; i < k.size() && eq; ++i) {
        auto a = static_cast<unsigned char>(k[i]), b = static_cast<unsigned char>(name[i]);
        if (a >= 'A' && a <= 'Z') a = static_cast<unsigned char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<unsigned char>(b - 'A' + 'a');
        eq = a == b;
      }
      if (eq) return std::string_view(v);
    }
    return std::nullopt;
  }
};

}  // namespace tlsprobe::inspect
