// Running the tlsprobe binary the way a user at a shell does: on a pseudo-terminal, so that
// isatty() is true. (A proxy child that a test signals step by step is
// support/proxy_process.hpp.) Header-only: shared by the tests in this folder.
#pragma once

#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace tlsprobe::testcli {

struct PtyRun {
  int exit_code = -1;
  bool timed_out = false;
  std::string output;  // stdout and stderr together, as the terminal shows them
};

// Runs tlsprobe with stdin, stdout and stderr on a fresh pseudo-terminal. `env` entries
// ("TERM=xterm") are added to (or replace in) the child's environment.
inline PtyRun run_on_pty(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& env = {"TERM=xterm"}) {
  std::vector<std::string> argv{testsupport::tlsprobe_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // The environment is built before fork: the child only calls execve.
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const auto name = entry.substr(0, entry.find('=') + 1);
    bool replaced = false;
    for (const auto& mine : env) replaced = replaced || mine.rfind(name, 0) == 0;
    if (!replaced && name != "NO_COLOR=") envs.push_back(entry);
  }
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cenv;
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  PtyRun run;
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
    const auto n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child closed the terminal
    run.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

}  // namespace tlsprobe::testcli
