// Implementation of proxy_fixture.hpp (named *_test.cpp so the tests glob builds it).
#include "proxy_fixture.hpp"

#include <openssl/evp.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tlsprobe::proxytest {

config::Config test_config() {
  auto cfg = testsupport::hermetic_config();
  cfg.timeouts.connect = std::chrono::seconds(3);
  cfg.timeouts.header = std::chrono::seconds(5);
  cfg.timeouts.idle = std::chrono::seconds(10);
  cfg.timeouts.probe = std::chrono::seconds(5);
  cfg.timeouts.drain = std::chrono::seconds(2);
  return cfg;
}

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const auto w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

std::string read_all(int fd, std::size_t limit) {
  std::string out;
  char buf[65536];
  while (out.size() < limit) {
    const auto r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

std::string read_head(int fd) {
  std::string out;
  char c;
  while (out.size() < 65536 && out.find("\r\n\r\n") == std::string::npos) {
    if (::recv(fd, &c, 1, 0) != 1) break;
    out.push_back(c);
  }
  return out;
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

testsupport::ProcessResult curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testsupport::run_process(argv, std::chrono::seconds(30));
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02X", md[i]);
    out += b;
  }
  return out;
}

const boost::json::value* find_path(const boost::json::object& o, const std::string& dotted) {
  const boost::json::object* cur = &o;
  std::stringstream ss(dotted);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    // ECS keys may be nested objects or dotted names; accept both.
    const auto* v = cur->if_contains(parts[i]);
    if (!v) {
      std::string rest = parts[i];
      for (std::size_t j = i + 1; j < parts.size(); ++j) {
        rest += "." + parts[j];
        if (const auto* w = cur->if_contains(rest)) return w;
      }
      return nullptr;
    }
    if (i + 1 == parts.size()) return v;
    if (!v->is_object()) return nullptr;
    cur = &v->as_object();
  }
  return nullptr;
}

std::vector<std::string> finding_codes(const boost::json::object& record) {
  std::vector<std::string> out;
  const auto* f = find_path(record, "tlsprobe.findings");
  if (!f || !f->is_array()) return out;
  for (const auto& x : f->as_array())
    if (x.is_object())
      if (const auto* c = x.as_object().if_contains("code"); c && c->is_string())
        out.emplace_back(c->as_string());
  return out;
}

}  // namespace tlsprobe::proxytest
