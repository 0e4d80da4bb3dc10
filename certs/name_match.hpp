// Host name matching as browsers do it: SANs only (never the CN), one wildcard label at
// the left-most position covering exactly one label, IP literals against iPAddress SANs.
#pragma once

#include "certs/certificate.hpp"

#include <string>
#include <string_view>

namespace tlsprobe::certs {

bool is_ip_literal(std::string_view host);
// Case-insensitive, ignores a trailing dot on `host`.
bool matches_host(const Certificate& cert, std::string_view host);
// One SAN pattern against one host name ("*.example.com" vs "a.example.com").
bool dns_pattern_matches(std::string_view pattern, std::string_view host);

}  // namespace tlsprobe::certs
