#include "proxy/observe/connection_log.hpp"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/rotating_file_sink.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        options_.path, options_.max_file_bytes, options_.max_files, false, handlers);
    pool_ = std::make_shared<spdlog::details::thread_pool>(options_.queue_lines, 1);
    logger_ = std::make_shared<spdlog::async_logger>("tlsprobe.connections", std::move(sink), pool_,
                                                     spdlog::async_overflow_policy::overrun_oldest);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open log file " + options_.path + ": " + e.what());
  }
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
  // Every line is flushed by the worker thread (one write per line, never on a connection's
  // thread): a failed write then fails exactly that line, so lines_dropped() counts every
  // lost line (with stdio buffering one failed flush lost several lines but counted one),
  // and readers (`tlsprobe logs follow`) see a line as soon as its connection closes.
  logger_->flush_on(spdlog::level::info);
  // A failed write (disk full, /dev/full) must not end the proxy: count it as dropped.
  logger_->set_error_handler([this](const std::string&) { ++write_errors_; });
}

ConnectionLog::~ConnectionLog() { stop(); }

void ConnectionLog::write(const std::string& json_line) {
  std::lock_guard lock(mutex_);
  if (!logger_) {
    ++after_stop_;
    return;
  }
  ++submitted_;
  logger_->info("{}", json_line);
}

void ConnectionLog::stop() {
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<spdlog::async_logger> logger;
  {
    std::lock_guard lock(mutex_);
    if (!logger_) return;
    logger_->flush();
    logger = std::move(logger_);
    pool = std::move(pool_);
  }
  overruns_at_stop_ = pool->overrun_counter();
  // The pool's destructor queues its terminate messages behind every pending line and joins
  // the worker, so all lines are written when it returns. Only then is the logger (and the
  // sink's file) released, here: released first, its last reference could be dropped on the
  // worker, inside libspdlog, with nothing ordering that against the sink's own locking
  // (ThreadSanitizer reported it as a race on the sink).
  pool.reset();
  logger.reset();
}

std::uint64_t ConnectionLog::lines_dropped() const {
  std::uint64_t overruns = overruns_at_stop_;
  if (pool_) overruns = pool_->overrun_counter();
  return overruns + write_errors_.load() + after_stop_.load();
}

void ConnectionLog::announce(const inspect::Finding& f) {
  if (f.severity == inspect::Severity::info) return;
  std::string severity(to_string(f.severity));
  if (options_.colour)
    severity =
        (f.severity == inspect::Severity::error ? "\x1b[31m" : "\x1b[33m") + severity + "\x1b[0m";
  announce_once(f.subject + "|" + f.code,
                "tlsprobe: " + severity + " " + f.code + " " + f.subject + ": " + f.message);
}

void ConnectionLog::announce_once(const std::string& key, const std::string& human_line) {
  if (!options_.announce_findings) return;
  {
    std::lock_guard lock(announce_mutex_);
    if (announced_.size() >= 100'000 || !announced_.insert(key).second) return;
  }
  std::fprintf(stderr, "%s\n", human_line.c_str());
}

}  // namespace tlsprobe::proxy
