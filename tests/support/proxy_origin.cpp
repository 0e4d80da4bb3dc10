#include "support/proxy_origin.hpp"

#include "certs/ascii.hpp"
#include "support/loopback_client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tlsprobe::testsupport {

namespace {

// Reads into `buf` until it holds `want` bytes past `from`, or fails. Bounded by the server's
// 5 s readability wait per read.
bool fill(const LoopbackServer& srv, int fd, std::string& buf, std::size_t want) {
  char tmp[65536];
  while (buf.size() < want) {
    if (!srv.wait_readable(fd, std::chrono::seconds(5))) return false;
    const auto r = ::recv(fd, tmp, sizeof tmp, 0);
    if (r <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(r));
  }
  return true;
}

}  // namespace

std::string pattern_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xFF);
  return s;
}

ProxyOrigin::ProxyOrigin() : LoopbackServer([this](int fd) { serve(fd); }, 8, Deferred{}) {
  start();
}

std::vector<std::map<std::string, std::string>> ProxyOrigin::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<std::string> ProxyOrigin::request_lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

void ProxyOrigin::serve(int fd) {
  std::string buf;
  for (int requests = 0; requests < 10'000 && !stopping(); ++requests) {
    // Head.
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > 1 << 20 || !fill(*this, fd, buf, buf.size() + 1)) return;
    }
    const std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);
    std::map<std::string, std::string> headers;
    const auto first_eol = head.find("\r\n");
    const std::string request_line = head.substr(0, first_eol);
    for (std::size_t pos = first_eol; pos != std::string::npos && pos < head.size();) {
      const auto next = head.find("\r\n", pos + 2);
      const auto line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        auto& slot = headers[certs::ascii_lower(line.substr(0, colon))];
        slot = slot.empty() ? v : slot + ", " + v;
      }
      pos = next;
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(headers);
      lines_.push_back(request_line);
    }
    // Body.
    std::string body;
    if (auto it = headers.find("content-length"); it != headers.end()) {
      const auto n = std::stoull(it->second);
      if (!fill(*this, fd, buf, n)) return;
      body = buf.substr(0, n);
      buf.erase(0, n);
    } else if (auto te = headers.find("transfer-encoding");
               te != headers.end() &&
               certs::ascii_lower(te->second).find("chunked") != std::string::npos) {
      for (;;) {
        std::size_t eol;
        while ((eol = buf.find("\r\n")) == std::string::npos)
          if (!fill(*this, fd, buf, buf.size() + 1)) return;
        const auto size = std::stoull(buf.substr(0, eol), nullptr, 16);
        buf.erase(0, eol + 2);
        if (!fill(*this, fd, buf, size + 2)) return;
        body.append(buf, 0, size);
        buf.erase(0, size + 2);
        if (size == 0) break;
      }
    }
    // Answer.
    std::string reply_body = "hello\n";
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.find(' ', sp1 + 1);
    const auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (target.rfind("/bytes/", 0) == 0)
      reply_body = pattern_bytes(std::stoull(target.substr(7)));
    else if (target == "/echo")
      reply_body = body;
    const bool close = certs::ascii_lower(headers["connection"]).find("close") != std::string::npos;
    std::string reply =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: " +
        std::to_string(reply_body.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") +
        "\r\n";
    if (!send_all(fd, reply)) return;
    if (request_line.rfind("HEAD ", 0) != 0 && !send_all(fd, reply_body)) return;
    if (close) return;
  }
}

EchoServer::EchoServer()
    : LoopbackServer(
          [this](int fd) {
            char buf[65536];
            for (;;) {
              if (!wait_readable(fd, std::chrono::seconds(10))) return;
              const auto r = ::recv(fd, buf, sizeof buf, 0);
              if (r == 0) {
                ::shutdown(fd, SHUT_WR);  // pass the half-close back
                return;
              }
              if (r < 0) return;
              if (!send_all(fd, std::string_view(buf, static_cast<std::size_t>(r)))) return;
            }
          },
          8, Deferred{}) {
  start();
}

}  // namespace tlsprobe::testsupport
