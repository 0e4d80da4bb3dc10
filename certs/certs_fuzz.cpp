// libFuzzer target for the certs/ code that sees attacker-controlled bytes: DER and PEM
// certificates (every extracted field), name matching, display escaping and RFC 3339
// parsing. Built only with TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "certs/certificate.hpp"
#include "certs/name_match.hpp"
#include "certs/pem.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace tlsprobe::certs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);

  // Every field of a parsed certificate is computed in from_x509; touch the rest.
  if (auto cert = Certificate::from_der(input)) {
    (void)escape_for_display(cert->subject());
    (void)escape_for_display(cert->common_name());
    for (const auto& n : cert->names()) (void)escape_for_display(n);
    (void)format_rfc3339(cert->not_after());
    (void)matches_host(*cert, "www.example.com");
    (void)matches_host(*cert, "192.0.2.1");
  }
  try {
    Chain chain = read_pem_chain(input, "fuzz");
    for (const auto& c : chain) (void)write_pem(c);
  } catch (const PemError&) {
  }

  (void)escape_for_display(input);
  (void)parse_rfc3339(input);
  (void)is_ip_literal(input);
  // Split the input into a pattern and a host at the first newline.
  auto nl = input.find('\n');
  if (nl != std::string::npos)
    (void)dns_pattern_matches(std::string_view(input).substr(0, nl),
                              std::string_view(input).substr(nl + 1));
  return 0;
}
