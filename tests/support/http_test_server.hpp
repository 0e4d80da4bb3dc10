// HttpTestServer: a tiny HTTP/1.1 server on 127.0.0.1 for the AIA fetch tests. Each path
// gets a canned response, or a misbehaviour: never answer, redirect forever, stream
// megabytes. One request per connection (Connection: close). See tests/support/README.md.
#pragma once

#include "certs/certificate.hpp"
#include "support/loopback_server.hpp"

#include <map>
#include <mutex>
#include <string>

namespace tlsprobe::testsupport {

struct HttpResponse {
  enum class Kind {
    fixed,         // `status`, `headers`, `body` (Content-Length set)
    hang,          // read the request, never answer (until the client or the server goes)
    redirect_up,   // 302 to the same path with "/n" appended: an endless chain of new URLs
    stream_bytes,  // 200 with `stream_bytes` bytes of 'x' (Content-Length unless `chunked`)
  };
  Kind kind = Kind::fixed;
  int status = 200;
  std::string headers;  // extra header lines, each ending in "\r\n"
  std::string body;
  std::size_t stream_bytes = 0;
  bool no_length = false;  // stream_bytes: no Content-Length, the end is the close

  static HttpResponse ok(std::string body, std::string content_type);
  static HttpResponse redirect(const std::string& location, int status = 302);
};

class HttpTestServer : public LoopbackServer {
 public:
  HttpTestServer();
  ~HttpTestServer() override { stop(); }

  // `path` is matched exactly, then by the longest route that is a prefix of it ending in
  // '/'; anything else gets 404.
  void route(const std::string& path, HttpResponse response);
  // "http://127.0.0.1:PORT" + path.
  std::string url(const std::string& path) const;
  // Requests received for exactly `path` so far.
  std::size_t requests(const std::string& path) const;

 private:
  void serve(int fd);
  mutable std::mutex mutex_;
  std::map<std::string, HttpResponse> routes_;
  std::map<std::string, std::size_t> counts_;
};

// A PKCS#7 certs-only bundle (what ".p7c" caIssuers URLs serve), DER.
std::string pkcs7_certs_only(const certs::Chain& chain);

}  // namespace tlsprobe::testsupport
