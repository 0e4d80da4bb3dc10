#include "logs/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tlsprobe::logs {

namespace {
constexpr std::size_t initial_buffer = 1u << 20;  // one read syscall per MiB
constexpr unsigned gz_buffer = 1u << 18;
}  // namespace

std::unique_ptr<LineReader> LineReader::open(const std::string& path, std::string& error) {
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = path + ": " + std::strerror(errno);
      return nullptr;
    }
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      error = path + ": is a directory";
      return nullptr;
    }
  } else {
    // gzclose would close our stdin; give zlib its own descriptor.
    fd = ::dup(0);
    if (fd < 0) {
      error = std::string("stdin: ") + std::strerror(errno);
      return nullptr;
    }
  }
  // zlib reads gzip when it sees the magic bytes and passes anything else through as is.
  gzFile file = gzdopen(fd, "rb");
  if (file == nullptr) {
    ::close(fd);
    error = path + ": cannot open";
    return nullptr;
  }
  gzbuffer(file, gz_buffer);
  return std::make_unique<LineReader>(file, path);
}

LineReader::LineReader(gzFile file, std::string path)
    : file_(file), path_(std::move(path)), buf_(initial_buffer) {}

LineReader::~LineReader() { gzclose(file_); }

bool LineReader::fill() {
  if (eof_) return false;
  // Keep the unfinished line at the front; grow only when one line fills the buffer.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) {
    if (buf_.size() >= max_line) {
      // Drop the oversized line's bytes read so far; next() reports it once its end is found.
      skipping_ = true;
      end_ = 0;
    } else {
      buf_.resize(std::min(buf_.size() * 2, max_line));
    }
  }
  const int n = gzread(file_, buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
  if (n < 0) {
    int code = 0;
    const char* message = gzerror(file_, &code);
    error_ = path_ + ": " + (code == Z_ERRNO ? std::strerror(errno) : message);
    eof_ = true;
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

LineReader::Status LineReader::next(std::string_view& line) {
  for (;;) {
    if (begin_ < end_) {
      const char* start = buf_.data() + begin_;
      const void* nl = std::memchr(start, '\n', end_ - begin_);
      if (nl != nullptr) {
        const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
        begin_ += len + 1;
        if (skipping_) {
          skipping_ = false;
          return Status::oversized;
        }
        line = std::string_view(start, len);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return Status::line;
      }
    }
    if (!fill()) {
      if (!error_.empty()) return Status::error;
      if (skipping_) {
        skipping_ = false;
        begin_ = end_ = 0;
        return Status::oversized;
      }
      if (begin_ < end_) {
        line = std::string_view(buf_.data() + begin_, end_ - begin_);
        begin_ = end_;
        return Status::unterminated;
      }
      return Status::end;
    }
  }
}

}  // namespace tlsprobe::logs
