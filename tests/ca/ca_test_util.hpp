// Helpers for the CA tests: file modes and contents, the message of an AuthorityError, verifying a
// minted leaf with OpenSSL the way a TLS client would. Temporary directories and the tlsprobe
// binary come from tests/support.
#pragma once

#include "certs/authority.hpp"
#include "certs/certificate.hpp"
#include "certs/leaf_minter.hpp"
#include "certs/ossl.hpp"
#include "support/temp_dir.hpp"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tlsprobe::catest {

namespace fs = std::filesystem;

using testsupport::TempDir;

// One in-memory CA and leaf minter for the whole test binary (minting a CA costs a key).
inline const certs::LeafMinter& throwaway_minter() {
  static const certs::LeafMinter m(certs::Authority::make_throwaway());
  return m;
}

// The message of the certs::AuthorityError `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const certs::AuthorityError& e) {
    return e.what();
  }
  return {};
}

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
