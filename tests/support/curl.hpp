// One curl runner for the tests that drive a real client through the proxy: curl with
// `-w "\n%{http_code}"`, so the status code is the last line of stdout and the body the rest.
#pragma once

#include "support/process.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

struct CurlResult {
  int exit_code = -1;  // curl's exit code (0 = transfer done, 35 = TLS handshake failed, …)
  int http_code = 0;   // 0 when no response came
  std::string body;
  std::string err;  // curl's stderr (-sS: the error line)
};

// Runs `curl <options…> -w "\n%{http_code}" <args…>`; `args` end with the URL.
inline CurlResult run_curl(const std::vector<std::string>& options,
                           const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::vector<std::string> argv{"curl"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"-w", "\n%{http_code}"});
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_process(argv, timeout);
  CurlResult out;
  out.exit_code = r.exit_code;
  out.err = r.err;
  const auto nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    out.body = r.out.substr(0, nl);
    out.http_code = std::atoi(r.out.c_str() + nl + 1);
  }
  return out;
}

}  // namespace tlsprobe::testsupport
