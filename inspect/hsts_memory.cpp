#include "inspect/hsts_memory.hpp"

#include "certs/ascii.hpp"

#include <algorithm>

namespace tlsprobe::inspect {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_ipv4(std::string_view h) {
  if (h.empty()) return false;
  return std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

std::optional<HstsPolicy> parse_hsts(std::string_view header) {
  HstsPolicy p;
  bool have_max_age = false;
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view d = trim(header.substr(0, semi));
    const auto eq = d.find('=');
    const std::string_view name = trim(d.substr(0, eq));
    if (certs::ascii_iequals(name, "max-age") && eq != std::string_view::npos && !have_max_age) {
      std::string_view v = trim(d.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (v.empty() || v.size() > 15) return std::nullopt;
      long long n = 0;
      for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
      }
      p.max_age = n;
      have_max_age = true;
    } else if (certs::ascii_iequals(name, "includesubdomains")) {
      p.include_subdomains = true;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  if (!have_max_age) return std::nullopt;
  return p;
}

std::string hsts_host(std::string_view authority) {
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') return {};  // IPv6 literal
  std::string h = certs::ascii_lower(authority.substr(0, authority.find(':')));
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (is_ipv4(h)) return {};
  return h;
}

void HstsMemory::note(std::string_view host, std::string_view sts_header) {
  const std::string h = hsts_host(host);
  if (h.empty()) return;
  const auto policy = parse_hsts(sts_header);
  if (!policy) return;  // no usable max-age: the header is ignored (RFC 6797 §8.1)
  std::lock_guard lock(mu_);
  if (policy->max_age == 0) {
    hosts_.erase(h);
    return;
  }
  auto it = hosts_.find(h);
  if (it != hosts_.end()) {
    it->second = policy->include_subdomains;
  } else if (hosts_.size() < kMaxHosts) {
    hosts_.emplace(h, policy->include_subdomains);
  }
}

bool HstsMemory::covers(std::string_view host) const {
  const std::string h = hsts_host(host);
  if (h.empty()) return false;
  std::lock_guard lock(mu_);
  if (hosts_.count(h)) return true;
  // Parents with includeSubDomains: "a.b.example" is covered by "b.example" and "example".
  for (auto dot = h.find('.'); dot != std::string::npos; dot = h.find('.', dot + 1)) {
    auto it = hosts_.find(std::string_view(h).substr(dot + 1));
    if (it != hosts_.end() && it->second) return true;
  }
  return false;
}

std::size_t HstsMemory::size() const {
  std::lock_guard lock(mu_);
  return hosts_.size();
}

}  // namespace tlsprobe::inspect
