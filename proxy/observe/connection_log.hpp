// ConnectionLog: the JSON-lines connection log (DESIGN.md section 6). A session only queues
// its line (a mutex and a move), so it never waits for the disk; one writer thread of the
// log's own takes the queue in batches and writes them through spdlog's size-rotating file
// sink (pattern "%v"), one flush per batch. When the queue is full the oldest queued line is
// dropped and counted. stop() writes everything queued and closes the file; it is called on
// shutdown.
//
// Why batches and not spdlog's async logger: that one wakes its worker for every line (a
// futex wake, a context switch and a write per line), which was a tenth of the proxy's CPU
// per new tunnel (issue 14 item 8). Here the writer is woken only when the queue goes from
// empty to non-empty, then waits kBatchDelay for more lines, so a busy proxy pays one wake
// and one write per batch; a line reaches the file at most about kBatchDelay after its
// connection closed.
//
// The log holds what clients asked for: files are created 0640 and missing directories 0750
// (group-readable for a log shipper, never world-readable), both further narrowed by a
// stricter umask (077 gives 0600/0700). Rotated files are created the same way. An existing
// file or directory keeps its mode: a world-readable one gets a warning on stderr at start.
#pragma once

#include "inspect/finding.hpp"
#include "proxy/observe/log_record.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace spdlog::sinks {
template <typename Mutex>
class rotating_file_sink;
}  // namespace spdlog::sinks

namespace tlsprobe::proxy {

struct ConnectionLogOptions {
  std::string path = "tlsprobe-logs/connections.jsonl";
  std::size_t max_file_bytes = 100 * 1024 * 1024;  // rotate at this size
  std::size_t max_files = 5;                       // rotated files kept
  std::size_t queue_lines = 8192;                  // async queue bound
  bool announce_findings = true;                   // [log] stderr_findings
  bool keep_query = false;                         // [log] keep_query (RecordOptions)
  bool colour = false;  // ANSI colour on the severity of announced findings (--color)
};

inline constexpr unsigned kLogFileMode = 0640;  // before the umask
inline constexpr unsigned kLogDirMode = 0750;

class ConnectionLog {
 public:
  // Opens (creates) the file and its directory. Throws std::runtime_error naming the path
  // when it cannot be opened: a startup error, reported by tools/.
  explicit ConnectionLog(ConnectionLogOptions options);
  ~ConnectionLog();
  ConnectionLog(const ConnectionLog&) = delete;
  ConnectionLog& operator=(const ConnectionLog&) = delete;

  // Queues one line (no trailing newline). Never blocks on I/O. Safe from any thread.
  void write(std::string json_line);
  // Writes every queued line, flushes and closes. Later writes are counted as dropped.
  void stop();

  // One short human line on stderr, once per distinct `key` (e.g. subject + code) for the
  // life of the process: "new finding" lines that do not repeat for every connection.
  void announce_once(const std::string& key, const std::string& human_line);
  // A finding as one such line ("tlsprobe: error chain.incomplete host:443 (CN=…): …"),
  // once per subject and code; info findings and everything under stderr_findings = false
  // stay in the log only.
  void announce(const inspect::Finding& f);

  std::uint64_t lines_submitted() const { return submitted_.load(); }
  // Lines lost: queue overruns, write errors (disk full), writes after stop().
  std::uint64_t lines_dropped() const;
  const std::string& path() const { return options_.path; }
  // What records written here keep (url query or not): pass to make_connection_record().
  RecordOptions record_options() const { return RecordOptions{options_.keep_query}; }

 private:
  // How long the writer waits, once woken, for more lines before it writes the batch.
  static constexpr std::chrono::milliseconds kBatchDelay{20};
  using Sink = spdlog::sinks::rotating_file_sink<std::mutex>;

  void writer_loop();
  void write_batch(std::vector<std::string>& lines);

  ConnectionLogOptions options_;
  // The stdio buffer of the log file (each file the sink opens, one at a time). glibc's
  // setvbuf ignores the size it is given without a buffer and keeps st_blksize (4 KiB), so
  // the buffer is ours; declared before sink_, it outlives every FILE that uses it.
  static constexpr std::size_t kStdioBufferBytes = 256 * 1024;
  std::unique_ptr<char[]> stdio_buffer_;
  std::shared_ptr<Sink> sink_;  // used by the writer thread only (and stop(), after join)
  std::mutex mutex_;            // guards queue_, stopping_, stopped_
  std::condition_variable wake_;
  std::vector<std::string> queue_;
  bool stopping_ = false, stopped_ = false;
  std::thread writer_;
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::atomic<std::uint64_t> after_stop_{0};
  std::atomic<std::uint64_t> overruns_{0};
  // True the first time `key` is seen (up to 100,000 keys; then never again).
  bool first_announcement(std::string key);
  std::mutex announce_mutex_;
  std::set<std::string> announced_;
};

}  // namespace tlsprobe::proxy
