// The page the intercepting proxy serves at http://tlsprobe.ca/: download the tlsprobe CA
// and install it (Debian/Ubuntu, macOS, Windows, Firefox, curl/Python/Node).
// Pure: certificate in, HTML out; self-contained (no external resources), every certificate
// field HTML-escaped.
#pragma once

#include "certs/certificate.hpp"

#include <string>
#include <string_view>

namespace tlsprobe::proxy {

inline constexpr std::string_view kCaPageHost = "tlsprobe.ca";
inline constexpr std::string_view kCaPemPath = "/tlsprobe-ca.pem";  // PEM, application/x-pem-file
inline constexpr std::string_view kCaDerPath =
    "/tlsprobe-ca.crt";  // DER, application/x-x509-ca-cert

std::string render_ca_install_page(const certs::Certificate& ca);

}  // namespace tlsprobe::proxy
