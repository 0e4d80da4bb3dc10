// HstsMemory: the HSTS policies a browser would have learnt in this session, so that the
// mixed-content check does not report http:// subresources that the browser upgrades to
// https:// before any request leaves (RFC 6797 §8.3). Fed by the proxy with every HTTPS
// response it sees (the host and its Strict-Transport-Security header); read by check_http.
// Bounded (a fixed number of hosts, further ones ignored) and thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::inspect {

// A parsed Strict-Transport-Security header value (RFC 6797 §6.1); nullopt when it has no
// usable max-age.
struct HstsPolicy {
  long long max_age = 0;
  bool include_subdomains = false;
};
std::optional<HstsPolicy> parse_hsts(std::string_view header);

// Lower case, without port, brackets or trailing dot; empty for an IP literal (browsers keep
// no HSTS for IP addresses).
std::string hsts_host(std::string_view authority);

class HstsMemory {
 public:
  static constexpr std::size_t kMaxHosts = 10000;

  // Records `host`'s header (max-age=0 removes the host, as a browser does).
  void note(std::string_view host, std::string_view sts_header);
  // True when a browser would upgrade http://host: the host has HSTS, or a parent has it with
  // includeSubDomains.
  bool covers(std::string_view host) const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, bool, std::less<>> hosts_;  // host -> includeSubDomains
};

}  // namespace tlsprobe::inspect
