// Running a child process from a test with a hard time limit, capturing its output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

struct ProcessResult {
  int exit_code = -1;      // exit status; -1 when killed by a signal or not started
  int signal = 0;          // the signal that ended it, 0 when it exited
  bool timed_out = false;  // killed (SIGKILL) because it ran past the limit
  std::string out, err;    // everything written to stdout and stderr
  double elapsed_ms = 0;
};

// Runs argv[0] (looked up in PATH when it has no '/') with `argv`, stdin from /dev/null
// (or `input` when not empty). Kills it with SIGKILL after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::string& input = {});

// Like run_process, and sends `signal` to the child once, the first time `when` (called
// with the output so far after each read) returns true: Ctrl-C mid-run.
ProcessResult run_process_signalling(const std::vector<std::string>& argv, int signal,
                                     const std::function<bool(const ProcessResult&)>& when,
                                     std::chrono::milliseconds timeout);

// Runs the tlsprobe binary built with the tests (TLSPROBE_BINARY) with `args`
// ({"probe", "example.com", "--format", "json"}).
ProcessResult run_tlsprobe(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A background child (a server the test talks to): argv[0] (an absolute path) with stdin from
// /dev/null and stdout and stderr in the files `out_path` and `err_path`. Its pid; throws
// std::runtime_error when it cannot start. End it with end_child().
pid_t spawn_background(const std::vector<std::string>& argv, const std::string& out_path,
                       const std::string& err_path);

// SIGTERM, then SIGKILL when it still runs after `grace`; reaped either way.
void end_child(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(2));

// The text of these files one after another (a child's logs); a missing file adds nothing.
std::string read_files(const std::vector<std::string>& paths);

// Path of the tlsprobe binary under test.
std::string tlsprobe_binary();

}  // namespace tlsprobe::testsupport
