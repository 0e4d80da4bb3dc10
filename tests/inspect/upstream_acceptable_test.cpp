// inspect::upstream_acceptable: the one rule both intercept (role direct) and reverse (role
// origin) apply before vouching for an upstream.
#include "inspect/upstream_acceptable.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using inspect::Role;
using inspect::Severity;

namespace {

certs::VerifyResult verified(bool ok) {
  certs::VerifyResult v;
  v.ok = ok;
  if (!ok) {
    v.openssl_code = 20;
    v.openssl_text = "unable to get local issuer certificate";
  }
  return v;
}

inspect::Finding finding(std::string code, Severity severity, Role role) {
  inspect::Finding f;
  f.code = std::move(code);
  f.severity = severity;
  f.role = role;
  f.subject = "www.example.test:443";
  return f;
}

}  // namespace

TEST_CASE("upstream_acceptable: a verified path without error findings is acceptable",
          "[acceptance]") {
  CHECK(inspect::upstream_acceptable(verified(true), {}, Role::direct));
  CHECK(
      inspect::upstream_acceptable(verified(true),
                                   {finding("cert.expiring_soon", Severity::warning, Role::direct),
                                    finding("ocsp.not_stapled", Severity::info, Role::direct)},
                                   Role::direct));
}

TEST_CASE("upstream_acceptable: a path OpenSSL refuses is never acceptable", "[acceptance]") {
  CHECK_FALSE(inspect::upstream_acceptable(verified(false), {}, Role::direct));
  CHECK_FALSE(inspect::upstream_acceptable(verified(false), {}, Role::origin));
}

TEST_CASE("upstream_acceptable: an error finding about the upstream fails a verified path",
          "[acceptance]") {
  // OpenSSL accepts an RSA-1024 leaf or a SHA-1 signature at its default level; a browser
  // does not, and neither does the proxy.
  const inspect::Findings weak = {finding("key.weak", Severity::error, Role::direct)};
  CHECK_FALSE(inspect::upstream_acceptable(verified(true), weak, Role::direct));
  const inspect::Findings sha1 = {finding("sig.weak", Severity::error, Role::origin)};
  CHECK_FALSE(inspect::upstream_acceptable(verified(true), sha1, Role::origin));
}

TEST_CASE("upstream_acceptable: only findings of the upstream's own role decide", "[acceptance]") {
  // A client's missing SNI, the no-SNI proof handshake's default certificate, or an error
  // about the origin while judging the direct handshake: not the upstream's fault here.
  const inspect::Findings others = {finding("client.no_sni", Severity::error, Role::client),
                                    finding("name.mismatch", Severity::error, Role::nosni),
                                    finding("name.mismatch", Severity::error, Role::othersni),
                                    finding("origin.untrusted", Severity::error, Role::origin)};
  CHECK(inspect::upstream_acceptable(verified(true), others, Role::direct));
  const inspect::Findings about_direct = {finding("key.weak", Severity::error, Role::direct)};
  CHECK(inspect::upstream_acceptable(verified(true), about_direct, Role::origin));
}
