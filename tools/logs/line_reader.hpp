// LineReader: reads a connection log line by line with large buffered reads, from a plain
// file, a gzip file (detected by its magic bytes, not its name) or stdin ("-"). Memory is
// bounded: a line longer than max_line is skipped and reported as oversized.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::logs {

class LineReader {
 public:
  static constexpr std::size_t max_line = 16u << 20;  // longer lines are corrupt by definition

  enum class Status {
    line,          // `line` holds one complete line, without its newline
    unterminated,  // the last line of the input had no newline (often: truncated by a crash)
    oversized,     // a line longer than max_line was skipped
    end,           // no more input
    error,         // read error (message in error())
  };

  // Opens `path` ("-" = stdin). nullptr with `error` set when it cannot be opened.
  static std::unique_ptr<LineReader> open(const std::string& path, std::string& error);
  // Takes ownership of `file`. Prefer open().
  LineReader(gzFile file, std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line; `line` is valid until the next call.
  Status next(std::string_view& line);
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  bool fill();  // reads more input after the data kept; false at end or error

  gzFile file_;
  std::string path_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool skipping_ = false;  // inside an oversized line, dropping bytes up to its newline
  std::string error_;
};

}  // namespace tlsprobe::logs
