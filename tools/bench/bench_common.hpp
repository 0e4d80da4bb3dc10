// Small helpers shared by the benchmarks that run real peers as child processes: a private
// temp dir, child processes in their own process group (stopped on every exit), loopback
// ports, /proc figures (CPU time, RSS) summed over a process tree, and medians.
//
// Everything here is for benchmarks on one machine: loopback only, bounded waits.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tlsprobe::bench {

// A private directory under /tmp, removed with everything in it when this goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty() && !keep_) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }
  // Leaves the directory behind (for debugging: configs and logs stay readable).
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// A child process in its own process group, so that stopping it also stops the helpers it
// forks (squid's certificate generator, sslsplit's privilege-separated half, nginx's worker).
// Stopped with SIGTERM, then SIGKILL after a bounded wait, when this goes away.
class Child {
 public:
  Child() = default;
  // Runs argv (PATH lookup) with stdout and stderr appended to `log_path`.
  Child(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      // If the benchmark dies without cleaning up, its children die with it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    if (pid_ > 0) ::setpgid(pid_, pid_);  // also from here: no race with the first kill
  }
  ~Child() { stop(); }
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept {
    if (this != &o) {
      stop();
      pid_ = o.pid_;
      o.pid_ = -1;
    }
    return *this;
  }

  pid_t pid() const { return pid_; }
  // True while the process has not exited (reaps it when it has).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 300; ++i) {  // at most 3 s for a clean exit
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        ::kill(-pid_, SIGKILL);  // helpers that outlived their parent
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A loopback port that was free a moment ago.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  return ok ? ntohs(a.sin_port) : 0;
}

inline bool can_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Waits (at most `limit`) until something listens on `port`; false when the child exited
// or the time ran out.
inline bool wait_port(std::uint16_t port, Child& child,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (can_connect(port)) return true;
    if (!child.running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Runs a shell command, returns its stdout (the commands are fixed strings of this program).
inline std::string sh(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

inline bool have_command(const std::string& name) {
  return !sh("command -v " + name + " 2>/dev/null").empty();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `n` lines of a file (for a child's log when it fails to start).
inline std::string tail_lines(const std::string& path, int n) {
  const std::string s = read_text(path);
  std::size_t pos = s.size();
  for (int i = 0; i <= n && pos > 0; ++i) pos = s.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? s : s.substr(pos + 1);
}

// The fields of /proc/<pid>/stat after the command name: [0] is state (field 3 of stat).
inline std::vector<std::string> stat_fields(pid_t pid) {
  const std::string s = read_text("/proc/" + std::to_string(pid) + "/stat");
  std::vector<std::string> out;
  const auto close = s.rfind(')');
  if (close == std::string::npos || close + 2 > s.size()) return out;
  std::istringstream rest(s.substr(close + 2));
  std::string f;
  while (rest >> f) out.push_back(f);
  return out;
}

// `root` and every process descending from it (helpers, workers), read from /proc.
inline std::vector<pid_t> process_tree(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> parent_of;  // (pid, ppid)
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::atoi(name.c_str());
    const auto f = stat_fields(pid);
    if (f.size() > 1) parent_of.emplace_back(pid, std::atoi(f[1].c_str()));
  }
  std::vector<pid_t> tree{root};
  for (std::size_t i = 0; i < tree.size(); ++i)
    for (const auto& [pid, ppid] : parent_of)
      if (ppid == tree[i]) tree.push_back(pid);
  return tree;
}

// utime+stime of the whole tree, in seconds (fields 14 and 15 of stat).
inline double tree_cpu_seconds(pid_t root) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for (pid_t p : process_tree(root)) {
    const auto f = stat_fields(p);
    if (f.size() > 12) total += (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / ticks;
  }
  return total;
}

// A /proc/<pid>/status value in KiB ("VmRSS", "VmHWM"), summed over the tree.
inline long tree_status_kib(pid_t root, const std::string& key) {
  long total = 0;
  for (pid_t p : process_tree(root)) {
    std::ifstream in("/proc/" + std::to_string(p) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(key + ":", 0) == 0) total += std::atol(line.c_str() + key.size() + 1);
  }
  return total;
}

// Resets VmHWM of every process in the tree to its current RSS (clear_refs value 5), so a
// later VmHWM is the peak of what happened since. False when the kernel refused.
inline bool reset_peak_rss(pid_t root) {
  bool ok = true;
  for (pid_t p : process_tree(root)) {
    std::ofstream out("/proc/" + std::to_string(p) + "/clear_refs");
    out << "5";
    out.flush();
    ok = ok && out.good();
  }
  return ok;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// "load average: 1.23 0.98 0.77" from /proc/loadavg.
inline std::string load_average() {
  std::istringstream in(read_text("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace tlsprobe::bench
