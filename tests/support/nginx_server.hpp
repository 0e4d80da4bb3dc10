// NginxServer: a real nginx as a child process for end-to-end tests, on 127.0.0.1 with a
// free port, everything (config, keys, pid, logs, temp files) in a private temp dir, so it
// runs as root without touching /etc or /var. Stopped (SIGTERM, then SIGKILL) in the
// destructor.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tlsprobe::testsupport {

// One TLS virtual host on the server's port.
struct NginxTlsSite {
  std::string server_name;      // empty: "_"
  bool default_server = false;  // the `listen ... default_server` block
  std::string cert_pem;         // leaf first, then the chain to send
  std::string key_pem;
  std::string body = "ok\n";  // what `location /` returns (200)
};

class NginxServer {
 public:
  // True when an nginx binary is installed (tests SKIP otherwise? no: bootstrap installs it).
  static bool available();
  // TLS virtual hosts, all on one port.
  explicit NginxServer(const std::vector<NginxTlsSite>& sites);
  // Free-form `http { }` contents; "@PORT@" becomes the port, "@DIR@" the private dir.
  // `files` (name -> contents) are written into the dir first.
  NginxServer(const std::string& http_block, const std::map<std::string, std::string>& files);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  // nginx's error log so far (for failure messages).
  std::string error_log() const;

 private:
  void start(const std::string& http_block, const std::map<std::string, std::string>& files);
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tlsprobe::testsupport
