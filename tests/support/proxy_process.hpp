// `tlsprobe proxy` as a child process, the way users and scripts run it: the one launcher of
// the tests. It starts the built binary with the given flags (and environment), waits (bounded)
// for the startup line "tlsprobe proxy listening on HOST:PORT (...)" and reads the port from
// it (--listen 127.0.0.1:0 by default: the OS picks a free port, so there is no race), keeps
// stderr in a file of its own temporary directory, stops it with a signal and a bounded wait,
// and kills it (SIGKILL) if it still runs when the object goes away.
#pragma once

#include "support/temp_dir.hpp"

#include <boost/json/object.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

struct ProxyOptions {
  // --log; empty = <dir>/log.jsonl. "{dir}" here and in `extra` stands for the proxy's
  // temporary directory (e.g. "{dir}/state").
  std::string log{};
  std::string config_toml{};         // written to <dir>/proxy.toml and passed as --config
  std::vector<std::string> extra{};  // more flags, after the ones below
  rlim_t fd_limit = 0;               // RLIMIT_NOFILE (soft and hard) of the child; 0 = inherit
  // argv run instead of the binary, with the proxy's own argv appended (e.g. `unshare -m sh
  // -c '... && exec "$@"' sh`); it must exec the proxy in the same process, so that pid()
  // and stop() still reach it. wrapper[0] is an absolute path. Empty: run the binary itself.
  std::vector<std::string> wrapper{};
  std::string listen = "127.0.0.1:0";  // --listen; port 0 = one the OS picks
  std::string admin = "off";           // --admin; "127.0.0.1:0" = a port the OS picks
  bool system_trust = false;           // false: --no-system-trust (tests trust what they make)
  std::vector<std::string> env{};      // "NAME=value": set (or replaced) in the child's environment
  std::chrono::milliseconds start_limit = std::chrono::seconds(30);  // for the listening line
};

// The proxy did not announce that it listens: it exited, or stayed silent past the limit.
struct ProxyStartError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ProxyProcess {
 public:
  // Starts the proxy and returns once it listens. Throws ProxyStartError (with its stderr).
  explicit ProxyProcess(ProxyOptions options = {});
  ~ProxyProcess();  // SIGKILL if still running; the directory removed (see temp_dir.hpp)
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://HOST:PORT" as announced (an IPv6 host in brackets): the proxy URL for clients.
  std::string url() const { return "http://" + authority_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_.path; }
  const std::string& log_path() const { return log_; }
  std::string log_text() const;
  std::vector<boost::json::object> log_records() const;  // each line of the log, parsed
  std::string stderr_text() const;
  // The admin listener's port from its startup line ("admin listener on port N"); 0 if none.
  std::uint16_t admin_port() const;

  // Polls stderr (every 20 ms, at most `limit`) until `done(stderr)` holds; whether it did.
  bool wait_for_stderr(const std::function<bool(const std::string&)>& done,
                       std::chrono::milliseconds limit);
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds limit);

  struct Exit {
    int code = -1;  // exit status; -1 when a signal ended it, or it is still running
    int signal = 0;
    bool timed_out = false;  // still running at the limit (stop(): then killed)
    double seconds = 0;      // from the signal (or the wait) to the exit
  };
  void signal(int sig);
  // Waits at most `limit` for the exit, without signalling or killing it.
  Exit wait(std::chrono::milliseconds limit);
  // Sends `sig` and waits for the exit; SIGKILL after `limit`.
  Exit stop(int sig = SIGTERM, std::chrono::milliseconds limit = std::chrono::seconds(20));

 private:
  void spawn(const ProxyOptions& o);
  void await_listening(std::chrono::milliseconds limit);
  void kill_and_reap();

  TempDir dir_{"proxy"};
  std::string log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string authority_;  // HOST:PORT from the listening line
};

}  // namespace tlsprobe::testsupport
