#include "logs/follow.hpp"

#include "logs/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ostream>
#include <thread>
#include <vector>

namespace tlsprobe::logs {

namespace {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class Follower {
 public:
  Follower(const FollowOptions& o, std::ostream& out, FollowResult& result)
      : options_(o), out_(out), result_(result) {}

  // Reads everything available now from the open file.
  void drain() {
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      offset_ += n;
      consume(std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }

  bool open(bool at_end) {
    Fd fd(::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return false;
    fd_ = std::move(fd);
    inode_ = st.st_ino;
    device_ = st.st_dev;
    offset_ = 0;
    partial_.clear();
    skipping_ = false;
    if (at_end) offset_ = ::lseek(fd_.get(), 0, SEEK_END);
    return true;
  }

  // After draining: has the path been replaced (rotation) or the file cut (truncation)?
  void check_rotation() {
    struct stat st;
    if (::stat(options_.path.c_str(), &st) != 0) return;  // renamed away, new one not there yet
    if (!fd_ || st.st_ino != inode_ || st.st_dev != device_) {
      // The old file has been read to its end (drain() ran just before): switch.
      if (open(false)) ++result_.rotations;
      return;
    }
    if (st.st_size < offset_) {
      ++result_.truncations;
      ::lseek(fd_.get(), 0, SEEK_SET);
      offset_ = 0;
      partial_.clear();
      skipping_ = false;
    }
  }

 private:
  void consume(std::string_view data) {
    while (!data.empty()) {
      const auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        if (partial_.size() + data.size() > LineReader::max_line) {
          // Bounded memory: an endless line is dropped and counted once its end comes.
          partial_.clear();
          skipping_ = true;
        } else if (!skipping_) {
          partial_.append(data);
        }
        return;
      }
      if (skipping_) {
        skipping_ = false;
        ++result_.corrupt;
      } else if (partial_.empty()) {
        line(data.substr(0, nl));
      } else {
        partial_.append(data.substr(0, nl));
        line(partial_);
        partial_.clear();
      }
      data.remove_prefix(nl + 1);
    }
  }

  void line(std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) return;
    if (!parser_.parse(text, record_)) {
      ++result_.corrupt;
      return;
    }
    ++result_.records;
    if (record_.findings.empty() || !options_.filter.matches(record_)) return;
    ++result_.printed;
    if (options_.json) {
      out_ << text << '\n';
    } else {
      for (const auto& l : finding_lines(record_, options_.colour)) out_ << l << '\n';
    }
    out_.flush();
  }

  const FollowOptions& options_;
  std::ostream& out_;
  FollowResult& result_;
  Fd fd_;
  ino_t inode_ = 0;
  dev_t device_ = 0;
  off_t offset_ = 0;
  std::string partial_;
  bool skipping_ = false;
  RecordParser parser_;
  RecordView record_;
};

}  // namespace

FollowResult follow_file(const FollowOptions& options, std::ostream& out, std::ostream& err) {
  FollowResult result;
  Follower follower(options, out, result);
  if (!follower.open(!options.from_start)) {
    err << "tlsprobe logs follow: " << options.path << ": " << std::strerror(errno) << "\n";
    result.exit_code = 64;
    return result;
  }
  const auto interval = std::chrono::milliseconds(std::clamp(
      options.interval_ms, FollowOptions::min_interval_ms, FollowOptions::max_interval_ms));
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::duration<double>(options.max_seconds);
  for (;;) {
    follower.drain();
    follower.check_rotation();
    follower.drain();
    if (options.max_seconds > 0 && std::chrono::steady_clock::now() - start >= limit) break;
    std::this_thread::sleep_for(interval);
  }
  return result;
}

}  // namespace tlsprobe::logs
