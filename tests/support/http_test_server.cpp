#include "support/http_test_server.hpp"

#include "certs/ossl.hpp"
#include "support/loopback_client.hpp"

#include <openssl/pkcs7.h>

#include <sys/socket.h>
#include <unistd.h>
#include <stdexcept>

namespace tlsprobe::testsupport {

using namespace std::chrono_literals;

HttpResponse HttpResponse::ok(std::string body, std::string content_type) {
  HttpResponse r;
  r.body = std::move(body);
  r.headers = "Content-Type: " + content_type + "\r\n";
  return r;
}

HttpResponse HttpResponse::redirect(const std::string& location, int status) {
  HttpResponse r;
  r.status = status;
  r.headers = "Location: " + location + "\r\n";
  return r;
}

HttpTestServer::HttpTestServer() : LoopbackServer([this](int fd) { serve(fd); }, 8, Deferred{}) {
  start();
}

void HttpTestServer::route(const std::string& path, HttpResponse response) {
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(response);
}

std::string HttpTestServer::url(const std::string& path) const {
  return "http://" + address() + path;
}

std::size_t HttpTestServer::requests(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

void HttpTestServer::serve(int fd) {
  // The request head, bounded in size and time.
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
    if (!wait_readable(fd, 5s)) return;
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
  const auto sp1 = head.find(' ');
  const auto sp2 = head.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return;
  const std::string path = head.substr(sp1 + 1, sp2 - sp1 - 1);

  HttpResponse r;
  bool found = false;
  {
    std::lock_guard lock(mutex_);
    ++counts_[path];
    if (auto it = routes_.find(path); it != routes_.end()) {
      r = it->second;
      found = true;
    } else {
      std::size_t best = 0;
      for (const auto& [p, resp] : routes_) {
        if (!p.empty() && p.back() == '/' && path.rfind(p, 0) == 0 && p.size() > best) {
          best = p.size();
          r = resp;
          found = true;
        }
      }
    }
  }
  if (!found) r.status = 404;

  switch (r.kind) {
    case HttpResponse::Kind::hang:
      // Hold the connection until the client gives up or the server stops.
      while (!stopping()) {
        if (wait_readable(fd, 100ms) && ::recv(fd, buf, sizeof buf, 0) <= 0) return;
      }
      return;
    case HttpResponse::Kind::redirect_up:
      send_all(fd, "HTTP/1.1 302 Found\r\nLocation: " + path + (path.back() == '/' ? "" : "/") +
                       "n\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    case HttpResponse::Kind::stream_bytes: {
      std::string h = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\n";
      if (!r.no_length) h += "Content-Length: " + std::to_string(r.stream_bytes) + "\r\n";
      h += "Connection: close\r\n\r\n";
      if (!send_all(fd, h)) return;
      const std::string chunk(64 * 1024, 'x');
      for (std::size_t sent = 0; sent < r.stream_bytes && !stopping(); sent += chunk.size())
        if (!send_all(fd, chunk.substr(0, std::min(chunk.size(), r.stream_bytes - sent)))) return;
      return;
    }
    case HttpResponse::Kind::fixed:
      break;
  }
  const char* reason = r.status == 200   ? "OK"
                       : r.status == 404 ? "Not Found"
                       : r.status < 400  ? "Redirect"
                                         : "Error";
  send_all(fd, "HTTP/1.1 " + std::to_string(r.status) + " " + reason + "\r\n" + r.headers +
                   "Content-Length: " + std::to_string(r.body.size()) +
                   "\r\nConnection: close\r\n\r\n" + r.body);
  // Let the client read everything before the close (no RST on unread request bytes).
  ::shutdown(fd, SHUT_WR);
  if (wait_readable(fd, 1s)) ::recv(fd, buf, sizeof buf, 0);
}

std::string pkcs7_certs_only(const certs::Chain& chain) {
  using Pkcs7Ptr = std::unique_ptr<PKCS7, certs::Deleter<&PKCS7_free>>;
  Pkcs7Ptr p7{PKCS7_new()};
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1)
    throw std::runtime_error("PKCS7: " + certs::openssl_errors());
  for (const auto& c : chain)
    if (PKCS7_add_certificate(p7.get(), c.x509()) != 1)
      throw std::runtime_error("PKCS7_add_certificate: " + certs::openssl_errors());
  unsigned char* der = nullptr;
  const int len = i2d_PKCS7(p7.get(), &der);
  if (len <= 0) throw std::runtime_error("i2d_PKCS7: " + certs::openssl_errors());
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace tlsprobe::testsupport
