#include "support/ocsp_responder.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tlsprobe::testsupport {

namespace {

// The CA database's date form (YYMMDDHHMMSSZ).
std::string db_time(certs::TimePoint t) {
  const std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

}  // namespace

OcspResponder::OcspResponder(std::uint16_t port, const testpki::Issued& ca,
                             const testpki::Issued& signer,
                             const std::vector<OcspIndexEntry>& index)
    : port_(port) {
  dir_ = make_temp_dir("ocsp").string();
  std::ofstream(dir_ + "/ca.pem") << ca.cert_pem();
  std::ofstream(dir_ + "/signer.pem") << signer.cert_pem();
  std::ofstream(dir_ + "/signer.key") << signer.key_pem();
  std::ostringstream db;
  for (const auto& e : index) {
    // status, expiry, revocation ("time,reason"), serial, file, subject
    db << (e.revoked ? "R" : "V") << '\t' << db_time(e.cert.not_after()) << '\t'
       << (e.revoked ? db_time(e.cert.not_before() + std::chrono::hours(1)) + "," + e.reason : "")
       << '\t' << e.cert.serial_hex() << "\tunknown\t/CN=" << e.cert.common_name() << "\n";
  }
  std::ofstream(dir_ + "/index.txt") << db.str();
  std::ofstream(dir_ + "/index.txt.attr") << "unique_subject = no\n";

  std::vector<std::string> argv{"/usr/bin/openssl",
                                "ocsp",
                                "-index",
                                dir_ + "/index.txt",
                                "-CA",
                                dir_ + "/ca.pem",
                                "-rsigner",
                                dir_ + "/signer.pem",
                                "-rkey",
                                dir_ + "/signer.key",
                                "-port",
                                std::to_string(port),
                                "-ndays",
                                "1"};
  pid_ = spawn_background(argv, dir_ + "/out.log", dir_ + "/err.log");
  // Ready when it says so: a probe connection that closes without a request would hang
  // OpenSSL 3.0's responder (it blocks reading it), so never connect to find out.
  for (int i = 0; i < 200; ++i) {
    if (log().find("waiting for OCSP client connections") != std::string::npos) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("openssl ocsp exited: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The destructor does not run for a constructor that throws: end the child here.
  const auto why = log();
  end_child(pid_);
  pid_ = -1;
  throw std::runtime_error("openssl ocsp did not listen within 10 s: " + why);
}

OcspResponder::~OcspResponder() {
  end_child(pid_);
  remove_temp_dir(dir_);
}

std::string OcspResponder::log() const {
  return read_files({dir_ + "/out.log", dir_ + "/err.log"});
}

}  // namespace tlsprobe::testsupport
