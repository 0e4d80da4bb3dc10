// scan_files: the one loop every `tlsprobe logs` command runs: open each file (all of them
// first, so that an unreadable file is reported before any output), read it line by line
// and hand each parsed record to a callback. Corrupt lines are counted, never fatal.
#pragma once

#include "logs/line_reader.hpp"
#include "logs/record.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::logs {

struct ScanStats {
  std::uint64_t lines = 0;         // non-empty lines read
  std::uint64_t records = 0;       // lines that were JSON objects
  std::uint64_t corrupt = 0;       // lines skipped: not JSON, not an object, too long
  std::uint64_t unterminated = 0;  // last lines without a newline (counted in corrupt if bad)
};

// "N corrupt lines skipped" for stderr; empty when there were none.
std::string corrupt_note(const ScanStats& stats);

// Opens every path; false with `error` ("PATH: reason") when one cannot be opened.
bool open_all(const std::vector<std::string>& paths,
              std::vector<std::unique_ptr<LineReader>>& readers, std::string& error);

// Calls fn(const RecordView&, std::string_view line) for each record of each reader, in
// order. Returns false with `error` set on a read error (the records before it were seen).
template <class Fn>
bool scan_readers(std::vector<std::unique_ptr<LineReader>>& readers, ScanStats& stats,
                  std::string& error, Fn&& fn) {
  RecordParser parser;
  RecordView record;
  for (auto& reader : readers) {
    std::string_view line;
    for (;;) {
      const auto status = reader->next(line);
      if (status == LineReader::Status::end) break;
      if (status == LineReader::Status::error) {
        error = reader->error();
        return false;
      }
      if (status == LineReader::Status::oversized) {
        ++stats.lines;
        ++stats.corrupt;
        continue;
      }
      if (status == LineReader::Status::unterminated) ++stats.unterminated;
      // Blank lines are not records and not corruption (hand-edited files end with them).
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ++stats.lines;
      if (!parser.parse(line, record)) {
        ++stats.corrupt;
        continue;
      }
      ++stats.records;
      fn(static_cast<const RecordView&>(record), line);
    }
  }
  return true;
}

}  // namespace tlsprobe::logs
