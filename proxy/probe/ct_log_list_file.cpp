#include "proxy/probe/ct_log_list_file.hpp"

#include <boost/json.hpp>

#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tlsprobe::proxy {

namespace {

std::string base64_decode(const std::string& b64) {
  std::string out(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return {};
  for (auto it = b64.rbegin(); it != b64.rend() && *it == '='; ++it) --n;
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string string_at(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

certs::CtLogList from_chrome_json(const std::string& text, const std::string& path) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object()) throw std::runtime_error(path + ": not JSON (" + ec.message() + ")");
  const auto* ops = doc.as_object().if_contains("operators");
  if (!ops || !ops->is_array())
    throw std::runtime_error(path + ": no \"operators\" array (Chrome's log list v3 format)");
  std::vector<certs::CtLog> logs;
  for (const auto& op : ops->as_array()) {
    if (!op.is_object()) continue;
    const std::string operator_name = string_at(op.as_object(), "name");
    for (const char* field : {"logs", "tiled_logs"}) {
      const auto* list = op.as_object().if_contains(field);
      if (!list || !list->is_array()) continue;
      for (const auto& l : list->as_array()) {
        if (!l.is_object()) continue;
        const auto& lo = l.as_object();
        if (const auto* state = lo.if_contains("state"); state && state->is_object()) {
          const auto& so = state->as_object();
          if (so.contains("pending") || so.contains("rejected")) continue;
        }
        certs::CtLog log;
        log.operator_name = operator_name;
        log.description = string_at(lo, "description");
        log.key_der = base64_decode(string_at(lo, "key"));
        if (log.key_der.empty())
          throw std::runtime_error(path + ": log \"" + log.description + "\" has no base64 key");
        logs.push_back(std::move(log));
      }
    }
  }
  try {
    return certs::CtLogList::from_logs(std::move(logs));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace

certs::CtLogList load_ct_log_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') return from_chrome_json(text, path);
  return certs::CtLogList::from_openssl_cnf(path);
}

}  // namespace tlsprobe::proxy
