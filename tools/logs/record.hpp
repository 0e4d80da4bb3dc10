// RecordView: the facts the log reader uses from one connection-log line (schema in
// docs/log-format.md), as views into the parsed JSON. Every field is optional: records
// from older tlsprobe versions, or written by hand, may lack any of them.
#pragma once

#include "logs/text.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::logs {

// 0 info, 1 warning, 2 error; -1 none/unknown (so "worse" is "greater").
int severity_rank(std::string_view severity);
std::string_view severity_name(int rank);

struct CertView {
  std::string_view subject, issuer, serial, not_before, not_after, key, signature_algorithm, sha256;
  Millis not_after_ms = no_time;
  const boost::json::array* names = nullptr;  // may be null
};

struct FindingView {
  std::string_view code, severity, role, subject, message, remedy;
  int rank = -1;
};

struct RecordView {
  std::string_view timestamp;  // as written
  Millis time = no_time;       // parsed "@timestamp"
  std::string_view domain, address, outcome, mode, role, sni, error_code;
  std::int64_t port = 0;
  std::string host;  // domain, else address; ":port" appended when not 443
  CertView leaf;     // tls.server.*, else the first chain element
  bool has_leaf = false;
  std::vector<CertView> chain;
  std::vector<FindingView> findings;
  int worst = -1;  // worst finding severity rank
  std::string_view probe_status, probe_failure;

  void clear();
};

// Parses lines into RecordViews, reusing one parser and one arena, so that a line costs no
// heap allocation once the buffers have grown to the size of the largest line seen.
class RecordParser {
 public:
  RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // False when the line is not one JSON object. `out` is valid until the next call.
  bool parse(std::string_view line, RecordView& out);
  // The parsed object of the last successful parse().
  const boost::json::value& value() const { return root_; }

 private:
  static constexpr std::size_t arena_size = 64 * 1024;  // holds a typical record's DOM
  std::array<unsigned char, 4096> temp_{};              // parser's stack for nesting
  // The arena's first block is ours, so that release() between lines frees nothing and
  // the next line reuses it; only records larger than it cost an allocation.
  std::unique_ptr<unsigned char[]> arena_buffer_;
  boost::json::monotonic_resource arena_;
  boost::json::parser parser_;
  boost::json::value root_;
};

}  // namespace tlsprobe::logs
