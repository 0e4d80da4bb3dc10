// Helpers for the CA tests: a temporary directory, running the tlsprobe binary, verifying a
// minted leaf with OpenSSL the way a TLS client would.
#pragma once

#include "certs/certificate.hpp"
#include "certs/ossl.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace tlsprobe::catest {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tlsprobe-ca-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 07777 + 1;
  return static_cast<unsigned>(st.st_mode & 07777);
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs the built tlsprobe with `args`; `env` entries ("K=V") are added to (and override) ours.
inline RunResult run_tlsprobe(const std::vector<std::string>& args,
                              const std::vector<std::string>& env = {}) {
  TempDir io;
  const fs::path out_path = io.path() / "out", err_path = io.path() / "err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT, 0600);

  std::vector<std::string> argv_s{TLSPROBE_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& o : env) overridden = overridden || o.substr(0, o.find('=')) == key;
    if (!overridden) env_s.push_back(entry);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

// X509_verify_cert as a TLS client: `chain[0]` the leaf, the rest untrusted, `anchor` the only
// trust anchor, at time `at`, for `host` (DNS name or IP literal), purpose TLS server.
// Returns the X509_V_ERR_* code (0 = verified).
inline int verify_for_host(const certs::Chain& chain, const certs::Certificate& anchor,
                           const std::string& host, std::chrono::system_clock::time_point at) {
  certs::X509StorePtr store{X509_STORE_new()};
  X509_STORE_add_cert(store.get(), anchor.x509());
  certs::X509StackPtr untrusted{sk_X509_new_null()};
  for (std::size_t i = 1; i < chain.size(); ++i) {
    certs::X509Ptr c = certs::up_ref(chain[i].x509());
    sk_X509_push(untrusted.get(), c.release());  // the stack owns this reference now
  }
  certs::X509StoreCtxPtr ctx{X509_STORE_CTX_new()};
  X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].x509(), untrusted.get());
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());  // borrowed
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (X509_verify_cert(ctx.get()) == 1) return 0;
  return X509_STORE_CTX_get_error(ctx.get());
}

}  // namespace tlsprobe::catest
