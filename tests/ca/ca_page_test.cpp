#include "proxy/http/ca_page.hpp"
#include "certs/authority.hpp"
#include "pki/test_pki.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;

namespace {

bool has(const std::string& page, const std::string& s) {
  return page.find(s) != std::string::npos;
}

}  // namespace

TEST_CASE("the CA page links the CA, shows its fingerprint and install steps", "[ca_page]") {
  const auto ca = certs::Authority::make_throwaway();
  const std::string page = proxy::render_ca_install_page(ca.certificate());
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(has(page, certs::colon_fingerprint(ca.certificate())));
  CHECK(has(page, "href=\"/tlsprobe-ca.pem\""));
  CHECK(has(page, "href=\"/tlsprobe-ca.crt\""));
  CHECK(has(page, ca.certificate().common_name()));
  for (const char* step :
       {"update-ca-certificates", "/usr/local/share/ca-certificates/tlsprobe.crt",
        "security add-trusted-cert -d -r trustRoot -k "
        "/Library/Keychains/System.keychain",
        "certutil -addstore root", "ImportEnterpriseRoots", "CURL_CA_BUNDLE", "--cacert",
        "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS",
        // Chrome/Chromium on Linux: the user's NSS database.
        "certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n tlsprobe -i tlsprobe-ca.pem"}) {
    CAPTURE(step);
    CHECK(has(page, step));
  }
}

TEST_CASE("the CA page is self-contained", "[ca_page]") {
  const auto ca = certs::Authority::make_throwaway();
  const std::string page = proxy::render_ca_install_page(ca.certificate());
  CHECK_FALSE(has(page, "<script"));
  CHECK_FALSE(has(page, "src="));
  CHECK_FALSE(has(page, "<link"));
  CHECK_FALSE(has(page, "href=\"http"));  // links stay on the proxy (relative)
  CHECK_FALSE(has(page, "url("));
}

TEST_CASE("the CA page escapes certificate text", "[ca_page]") {
  const auto root = testpki::make_root({.common_name = "<script>alert(\"x\")</script> & 'co'"});
  const std::string page = proxy::render_ca_install_page(root.cert);
  CHECK_FALSE(has(page, "<script>"));
  CHECK(has(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"));
}
