// JSON text of log-record parts that come back line after line. A tunnel's side probe is
// cached, so every tunnel to a host logs the same certificates: their JSON is built and
// serialized once, then written into each line as text (connection_record_line). The key
// must fix the text completely (a certificate's SHA-256). Findings keep their text
// themselves (logged_finding.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tlsprobe::proxy {

// Appends one part of a memo key with its length in front, so that no text can forge the
// boundary between two parts ("ab"+"c" and "a"+"bc" stay apart).
void append_key_part(std::string& key, std::string_view part);

class FragmentMemo {
 public:
  using Text = std::shared_ptr<const std::string>;

  // Bounded by the bytes of its keys and texts: a put past `max_bytes` starts the memo over
  // (the proxy's side-probe cache holds a few hosts' worth; a churn of hosts only costs
  // rebuilding, never memory).
  explicit FragmentMemo(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The text put under `key`, or null. Thread-safe, as is put: records are written on the
  // io threads and on the prober's.
  Text find(std::string_view key) const;
  void put(std::string key, Text text);

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Text, Hash, std::equal_to<>> texts_;
  std::size_t bytes_ = 0;
};

}  // namespace tlsprobe::proxy
