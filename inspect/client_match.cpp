#include "inspect/client_match.hpp"

#include <algorithm>

namespace tlsprobe::inspect {

namespace {

bool has(const std::vector<std::string_view>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string joined(const std::vector<std::string>& items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (!out.empty()) out += ", ";
    out += items[i];
  }
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

bool finite_field_group(std::string_view g) { return g.rfind("ffdhe", 0) == 0; }

}  // namespace

ClientVerdict match_client(const ClientProfile& profile, const TlsScan& scan) {
  ClientVerdict v;
  v.profile = std::string(profile.id);
  v.name = std::string(profile.name);
  v.browser = profile.browser;

  // 1. Protocol version.
  const ProtocolScan* ps = nullptr;
  for (auto version : profile.versions) {
    const auto* p = scan.protocol(std::string(version));
    if (p && p->accepted) {
      ps = p;
      break;
    }
  }
  if (!ps) {
    std::vector<std::string> server;
    for (const auto& p : scan.protocols)
      if (p.accepted) server.push_back("TLS " + p.version);
    std::vector<std::string> client;
    for (auto version : profile.versions) client.push_back("TLS " + std::string(version));
    v.reason = "no protocol version in common (the client speaks " + joined(client, 8) +
               "; the server " +
               (server.empty() ? std::string("none that was tried") : joined(server, 8)) + ")";
    return v;
  }
  v.version = ps->version;

  // 2. Cipher suite.
  std::string suite;
  if (ps->server_order) {
    for (const auto& s : ps->suites)
      if (has(profile.suites, s)) {
        suite = s;
        break;
      }
  } else {
    for (auto s : profile.suites)
      if (has(ps->suites, s)) {
        suite = std::string(s);
        break;
      }
  }
  if (suite.empty()) {
    v.reason = "no cipher suite in common at TLS " + ps->version + " (the server accepts " +
               (ps->suites.empty() ? std::string("none") : joined(ps->suites, 6)) + ")";
    return v;
  }
  v.suite = suite;
  v.suite_iana = suite_iana_name(suite);

  // 3. Key exchange.
  const auto traits = suite_traits(suite);
  if (traits.finite_field_dh) {
    v.group = (scan.dh_group.empty() ? std::string("DH") : scan.dh_group);
    if (scan.dh_bits > 0) v.group += " (" + std::to_string(scan.dh_bits) + " bits)";
    if (scan.dh_bits > 0 && scan.dh_bits < profile.min_dh_bits) {
      v.reason = "the server's Diffie-Hellman group has " + std::to_string(scan.dh_bits) +
                 " bits; the client requires at least " + std::to_string(profile.min_dh_bits) +
                 " (suite " + suite + ")";
      return v;
    }
  } else if (traits.tls13 || traits.forward_secret) {
    if (!scan.groups_version.empty()) {
      for (auto g : profile.groups) {
        // TLS 1.2 negotiates ECDHE groups only; finite-field groups count in TLS 1.3.
        if (!traits.tls13 && finite_field_group(g)) continue;
        if (has(scan.groups, g)) {
          v.group = std::string(g);
          break;
        }
      }
      if (v.group.empty()) {
        std::vector<std::string> client;
        for (auto g : profile.groups) client.emplace_back(g);
        v.reason =
            "no key-exchange group in common (the server accepts " +
            (scan.groups.empty() ? std::string("none that was tried") : joined(scan.groups, 8)) +
            "; the client offers " + joined(client, 8) + ")";
        return v;
      }
    }
  }
  v.connects = true;
  return v;
}

std::vector<ClientVerdict> match_clients(const TlsScan& scan) {
  std::vector<ClientVerdict> out;
  for (const auto& p : client_profiles()) out.push_back(match_client(p, scan));
  return out;
}

}  // namespace tlsprobe::inspect
