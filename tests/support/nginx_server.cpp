#include "support/nginx_server.hpp"

#include "support/loopback_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tlsprobe::testsupport {

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

bool can_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool NginxServer::available() { return ::access(kNginx, X_OK) == 0; }

NginxServer::NginxServer(const std::vector<NginxTlsSite>& sites) {
  std::string http;
  std::map<std::string, std::string> files;
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const auto& site = sites[i];
    const std::string n = std::to_string(i);
    files["site" + n + ".crt"] = site.cert_pem;
    files["site" + n + ".key"] = site.key_pem;
    http += "  server {\n    listen 127.0.0.1:@PORT@ ssl" +
            std::string(site.default_server ? " default_server" : "") + ";\n" + "    server_name " +
            (site.server_name.empty() ? "_" : site.server_name) + ";\n" +
            "    ssl_certificate @DIR@/site" + n + ".crt;\n" +
            "    ssl_certificate_key @DIR@/site" + n + ".key;\n" +
            "    location / { return 200 \"" + site.body + "\"; }\n  }\n";
  }
  start(http, files);
}

NginxServer::NginxServer(const std::string& http_block,
                         const std::map<std::string, std::string>& files) {
  start(http_block, files);
}

void NginxServer::start(const std::string& http_block,
                        const std::map<std::string, std::string>& files) {
  dir_ = make_temp_dir("nginx").string();
  port_ = unused_port();
  for (const auto& [name, contents] : files) std::ofstream(dir_ + "/" + name) << contents;
  std::string http = http_block;
  replace_all(http, "@PORT@", std::to_string(port_));
  replace_all(http, "@DIR@", dir_);
  std::ostringstream conf;
  // Every path nginx writes lives in dir_: it runs as root in CI without touching /var.
  conf << "worker_processes 1;\n"
       << "pid " << dir_ << "/nginx.pid;\n"
       << "error_log " << dir_ << "/error.log warn;\n"
       << "events { worker_connections 512; }\n"
       << "http {\n"
       << "  access_log off;\n"
       << "  client_body_temp_path " << dir_ << "/client_body;\n"
       << "  proxy_temp_path " << dir_ << "/proxy;\n"
       << "  fastcgi_temp_path " << dir_ << "/fastcgi;\n"
       << "  uwsgi_temp_path " << dir_ << "/uwsgi;\n"
       << "  scgi_temp_path " << dir_ << "/scgi;\n"
       << http << "}\n";
  std::ofstream(dir_ + "/nginx.conf") << conf.str();
  const std::string error_log_path = dir_ + "/error.log";
  std::vector<std::string> argv{kNginx,
                                "-p",
                                dir_,
                                "-c",
                                dir_ + "/nginx.conf",
                                "-e",
                                error_log_path,
                                "-g",
                                "daemon off; master_process on; user root;"};
  if (::geteuid() != 0) argv.back() = "daemon off; master_process on;";
  pid_ = spawn_background(argv, dir_ + "/stdout.log", dir_ + "/stderr.log");
  // Wait (bounded) until it listens, or report why it did not start.
  for (int i = 0; i < 100; ++i) {
    if (can_connect(port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nginx exited: " + error_log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The destructor does not run for a constructor that throws: end the child here.
  const auto why = error_log();
  end_child(pid_);
  pid_ = -1;
  throw std::runtime_error("nginx did not listen within 5 s: " + why);
}

NginxServer::~NginxServer() {
  end_child(pid_);
  remove_temp_dir(dir_);
}

std::string NginxServer::error_log() const {
  return read_files({dir_ + "/error.log", dir_ + "/stderr.log"});
}

}  // namespace tlsprobe::testsupport
