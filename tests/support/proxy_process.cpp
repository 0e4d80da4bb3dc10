#include "support/proxy_process.hpp"

#include "support/process.hpp"

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace tlsprobe::testsupport {

namespace {

using Clock = std::chrono::steady_clock;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_dir(std::string& arg, const std::string& dir) {
  for (auto at = arg.find("{dir}"); at != std::string::npos; at = arg.find("{dir}", at))
    arg.replace(at, 5, dir);
}

// Our environment with `mine` ("NAME=value") added, replacing entries of the same name.
std::vector<std::string> child_environment(const std::vector<std::string>& mine) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto name = entry.substr(0, entry.find('=') + 1);
    bool replaced = false;
    for (const auto& m : mine) replaced = replaced || m.rfind(name, 0) == 0;
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), mine.begin(), mine.end());
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

ProxyProcess::ProxyProcess(ProxyOptions o) {
  log_ = o.log.empty() ? (dir_.path / "log.jsonl").string() : o.log;
  replace_dir(log_, dir_.str());
  if (!o.config_toml.empty()) std::ofstream(dir_.path / "proxy.toml") << o.config_toml;
  spawn(o);
  await_listening(o.start_limit);
}

ProxyProcess::~ProxyProcess() { kill_and_reap(); }

void ProxyProcess::spawn(const ProxyOptions& o) {
  std::vector<std::string> args = {tlsprobe_binary(), "proxy", "--listen", o.listen,
                                   "--log",           log_,    "--admin",  o.admin};
  if (!o.system_trust) args.push_back("--no-system-trust");
  if (!o.config_toml.empty()) {
    args.push_back("--config");
    args.push_back((dir_.path / "proxy.toml").string());
  }
  for (auto e : o.extra) {
    replace_dir(e, dir_.str());
    args.push_back(std::move(e));
  }
  if (!o.wrapper.empty()) args.insert(args.begin(), o.wrapper.begin(), o.wrapper.end());
  auto env = child_environment(o.env);
  // Everything the child needs is made before fork: it only calls async-signal-safe functions.
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  const int err =
      ::open((dir_.path / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int out =
      ::open((dir_.path / "stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (err < 0 || out < 0 || null < 0) {
    for (int fd : {err, out, null})
      if (fd >= 0) ::close(fd);
    throw ProxyStartError("cannot open the proxy's output files in " + dir_.str());
  }
  const rlim_t fd_limit = o.fd_limit;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (fd_limit != 0) {
      rlimit rl{fd_limit, fd_limit};
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  for (int fd : {err, out, null}) ::close(fd);
  if (pid_ < 0) throw ProxyStartError("fork failed");
}

void ProxyProcess::await_listening(std::chrono::milliseconds limit) {
  // The listening line comes last at startup: once it is there, everything listens.
  static const std::regex line(R"(tlsprobe proxy listening on (\S+):(\d+) \()");
  const auto deadline = Clock::now() + limit;
  for (;;) {
    const auto err = stderr_text();
    std::smatch m;
    if (std::regex_search(err, m, line)) {
      port_ = static_cast<std::uint16_t>(std::stoul(m[2]));
      authority_ = m[1].str() + ":" + m[2].str();
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // Read again: the child may have written its error and exited after the read above,
      // and only now is its stderr complete.
      throw ProxyStartError("tlsprobe proxy exited at startup: " + stderr_text());
    }
    if (Clock::now() > deadline) {
      kill_and_reap();
      throw ProxyStartError("tlsprobe proxy did not say it listens within " +
                            std::to_string(limit.count()) + " ms: " + err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void ProxyProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string ProxyProcess::log_text() const { return slurp(log_); }

std::vector<boost::json::object> ProxyProcess::log_records() const {
  std::vector<boost::json::object> out;
  std::istringstream in(log_text());
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
  return out;
}

std::string ProxyProcess::stderr_text() const { return slurp(dir_.path / "stderr.txt"); }

std::uint16_t ProxyProcess::admin_port() const {
  static const std::regex line(R"(admin listener on port (\d+))");
  std::smatch m;
  const auto err = stderr_text();
  return std::regex_search(err, m, line) ? static_cast<std::uint16_t>(std::stoul(m[1])) : 0;
}

bool ProxyProcess::wait_for_stderr(const std::function<bool(const std::string&)>& done,
                                   std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done(stderr_text())) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool ProxyProcess::wait_for_stderr(const std::string& text, std::chrono::milliseconds limit) {
  return wait_for_stderr(
      [&text](const std::string& err) { return err.find(text) != std::string::npos; }, limit);
}

void ProxyProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

ProxyProcess::Exit ProxyProcess::wait(std::chrono::milliseconds limit) {
  Exit e;
  if (pid_ <= 0) return e;
  const auto start = Clock::now();
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (Clock::now() - start > limit) {
      e.timed_out = true;
      e.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  e.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  return e;
}

ProxyProcess::Exit ProxyProcess::stop(int sig, std::chrono::milliseconds limit) {
  signal(sig);
  auto e = wait(limit);
  if (e.timed_out) kill_and_reap();
  return e;
}

}  // namespace tlsprobe::testsupport
