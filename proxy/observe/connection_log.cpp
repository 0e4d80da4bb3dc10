#include "proxy/observe/connection_log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/rotating_file_sink.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace tlsprobe::proxy {

namespace {

namespace fs = std::filesystem;

// mkdir -p where every directory made is kLogDirMode (less what the umask removes); existing
// ones are left alone. Errors surface when the file is opened.
void make_log_dirs(const fs::path& dir) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return;
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) make_log_dirs(parent);
  ::mkdir(dir.c_str(), kLogDirMode);
}

// spdlog opens its files with fopen ("ab": 0666 less the umask, world-readable under the
// usual 022). Called before each open (the first one and every rotation): the file is made
// here first with kLogFileMode, O_EXCL so an existing file (or a planted link) is never
// touched; fopen then appends to it.
void precreate_log_file(const spdlog::filename_t& name) {
  const int fd =
      ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kLogFileMode);
  if (fd >= 0) ::close(fd);
}

// One warning line when the log file is readable by everyone (written before this version,
// or made by hand). Not changed: that may be what the user chose.
void warn_if_world_readable(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & S_IROTH) == 0) return;
  std::fprintf(stderr,
               "tlsprobe: warning: log file %s is readable by everyone (mode %04o): it holds the "
               "hosts and URLs your clients visit; run `chmod o-r %s`\n",
               file.c_str(), static_cast<unsigned>(st.st_mode & 07777), file.c_str());
}

}  // namespace

ConnectionLog::ConnectionLog(ConnectionLogOptions options) : options_(std::move(options)) {
  const fs::path p(options_.path);
  if (p.has_parent_path()) make_log_dirs(p.parent_path());
  precreate_log_file(options_.path);
  warn_if_world_readable(p);
  try {
    spdlog::file_event_handlers handlers;
    handlers.before_open = &precreate_log_file;
    // A batch is written with one flush: a stdio buffer larger than a batch of typical
    // lines (a tunnel line with its chain is 4-8 KB) makes that one write(2), not one per
    // 4 KiB. setvbuf must come before any I/O on the stream, which is right after fopen.
    stdio_buffer_ = std::make_unique_for_overwrite<char[]>(kStdioBufferBytes);
    handlers.after_open = [buffer = stdio_buffer_.get()](const spdlog::filename_t&,
                                                         std::FILE* file) {
      std::setvbuf(file, buffer, _IOFBF, kStdioBufferBytes);
    };
    sink_ = std::make_shared<Sink>(options_.path, options_.max_file_bytes, options_.max_files,
                                   false, handlers);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open log file " + options_.path + ": " + e.what());
  }
  sink_->set_pattern("%v");
  queue_.reserve(64);
  writer_ = std::thread([this] { writer_loop(); });
}

ConnectionLog::~ConnectionLog() { stop(); }

void ConnectionLog::write(std::string json_line) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      ++after_stop_;
      return;
    }
    ++submitted_;
    if (queue_.size() >= std::max<std::size_t>(options_.queue_lines, 1)) {
      // Full: the disk is not keeping up. Drop the oldest line, never wait.
      queue_.erase(queue_.begin());
      ++overruns_;
    }
    queue_.push_back(std::move(json_line));
    wake = queue_.size() == 1;  // the writer sleeps only on an empty queue
  }
  if (wake) wake_.notify_one();
}

void ConnectionLog::writer_loop() {
  std::vector<std::string> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    // Let more lines gather (stop() cuts the wait short).
    if (!stopping_) wake_.wait_for(lock, kBatchDelay, [this] { return stopping_; });
    batch.swap(queue_);
    const bool last = stopping_;
    lock.unlock();
    write_batch(batch);
    batch.clear();
    lock.lock();
    if (last && queue_.empty()) return;
  }
}

void ConnectionLog::write_batch(std::vector<std::string>& lines) {
  if (lines.empty()) return;
  // stdio drops its buffer when a write fails, so after any failure (disk full, I/O error)
  // it is unknown which of the batch's lines reached the file: the whole batch is counted
  // as lost (at most one batch over-counted, never a lost line missed). The proxy goes on.
  bool failed = false;
  for (const auto& line : lines) {
    try {
      sink_->log(spdlog::details::log_msg("tlsprobe.connections", spdlog::level::info, line));
    } catch (const std::exception&) {
      failed = true;
    }
  }
  try {
    sink_->flush();
  } catch (const std::exception&) {
    failed = true;
  }
  if (failed) write_errors_ += lines.size();
}

void ConnectionLog::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  wake_.notify_one();
  // The writer writes everything queued before it returns; the file is closed with the sink.
  if (writer_.joinable()) writer_.join();
  sink_.reset();
}

std::uint64_t ConnectionLog::lines_dropped() const {
  return overruns_.load() + write_errors_.load() + after_stop_.load();
}

void ConnectionLog::announce(const inspect::Finding& f) {
  if (f.severity == inspect::Severity::info || !options_.announce_findings) return;
  // Asked for every finding of every connection: the line is built only the first time.
  if (!first_announcement(f.subject + "|" + f.code)) return;
  std::string severity(to_string(f.severity));
  if (options_.colour)
    severity =
        (f.severity == inspect::Severity::error ? "\x1b[31m" : "\x1b[33m") + severity + "\x1b[0m";
  std::fprintf(stderr, "tlsprobe: %s %s %s: %s\n", severity.c_str(), f.code.c_str(),
               f.subject.c_str(), f.message.c_str());
}

void ConnectionLog::announce_once(const std::string& key, const std::string& human_line) {
  if (!options_.announce_findings || !first_announcement(key)) return;
  std::fprintf(stderr, "%s\n", human_line.c_str());
}

bool ConnectionLog::first_announcement(std::string key) {
  std::lock_guard lock(announce_mutex_);
  return announced_.size() < 100'000 && announced_.insert(std::move(key)).second;
}

}  // namespace tlsprobe::proxy
