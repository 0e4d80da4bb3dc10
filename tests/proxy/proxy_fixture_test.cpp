// Implementation of proxy_fixture.hpp (named *_test.cpp so the tests glob builds it).
#include "proxy_fixture.hpp"

#include <openssl/evp.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

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
