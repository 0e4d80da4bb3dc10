#include "probe_clients.hpp"

#include "inspect/client_match.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace tlsprobe::tools {

namespace json = boost::json;

namespace {

json::value attempt_json(const std::optional<inspect::TlsAttempt>& a) {
  if (!a) return nullptr;
  json::object o;
  o["ok"] = a->ok;
  if (a->ok) {
    o["tls_version"] = a->version;
    o["cipher"] = a->cipher;
    if (!a->kex_group.empty()) o["kex_group"] = a->kex_group;
    if (a->kex_bits > 0) o["kex_bits"] = a->kex_bits;
  } else {
    o["failure"] = a->failure;
    o["refused"] = a->refused;
  }
  return o;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

json::object compat_json(const inspect::Observations& obs) {
  json::object o;
  const auto& c = obs.compat;
  if (c.browsers || c.dhe || c.legacy || c.anything) {
    json::object cheap;
    cheap["browsers"] = attempt_json(c.browsers);
    cheap["dhe_only"] = attempt_json(c.dhe);
    cheap["tls10_11_only"] = attempt_json(c.legacy);
    cheap["anything"] = attempt_json(c.anything);
    json::object profiles;
    for (const auto& [id, a] : c.profiles) profiles[id] = attempt_json(a);
    cheap["profiles"] = std::move(profiles);
    o["cheap"] = std::move(cheap);
  }
  if (obs.scan) {
    const auto& s = *obs.scan;
    json::object sj;
    json::array protos;
    for (const auto& p : s.protocols) {
      json::object pj;
      pj["version"] = p.version;
      pj["accepted"] = p.accepted;
      json::array suites;
      for (const auto& name : p.suites) suites.push_back(json::value(name));
      pj["suites"] = std::move(suites);
      pj["server_order"] = p.server_order;
      pj["complete"] = p.complete;
      protos.push_back(std::move(pj));
    }
    sj["protocols"] = std::move(protos);
    json::array groups;
    for (const auto& g : s.groups) groups.push_back(json::value(g));
    sj["groups"] = std::move(groups);
    sj["groups_version"] = s.groups_version;
    if (s.dh_bits > 0) {
      sj["dh_group"] = s.dh_group;
      sj["dh_bits"] = s.dh_bits;
    }
    sj["handshakes"] = s.handshakes;
    sj["elapsed_ms"] = std::llround(s.elapsed_ms);
    sj["complete"] = s.complete;
    o["scan"] = std::move(sj);
    json::array clients;
    for (const auto& v : inspect::match_clients(s)) {
      json::object cj;
      cj["profile"] = v.profile;
      cj["name"] = v.name;
      cj["browser"] = v.browser;
      cj["connects"] = v.connects;
      if (v.connects) {
        cj["tls_version"] = v.version;
        cj["suite"] = v.suite;
        cj["suite_iana"] = v.suite_iana;
        if (!v.group.empty()) cj["group"] = v.group;
      } else {
        cj["reason"] = v.reason;
      }
      clients.push_back(std::move(cj));
    }
    o["clients"] = std::move(clients);
  }
  return o;
}

std::string clients_text(const inspect::Observations& obs, bool deep) {
  if (!obs.scan) return {};
  const auto& s = *obs.scan;
  std::ostringstream out;
  out << "  clients (" << s.handshakes << " handshakes in " << std::llround(s.elapsed_ms) << " ms"
      << (s.complete ? "" : ", INCOMPLETE: the bound or the timeout cut it short") << "):\n";
  for (const auto& v : inspect::match_clients(s)) {
    out << "    " << pad(v.name, 40) << " ";
    if (v.connects) {
      out << "yes  TLS " << pad(v.version, 4) << " " << v.suite_iana
          << (v.group.empty() ? "" : ", " + v.group) << "\n";
    } else {
      out << "NO   " << v.reason << "\n";
    }
  }
  std::string versions;
  for (const auto& p : s.protocols)
    if (p.accepted) versions += (versions.empty() ? "" : ", ") + ("TLS " + p.version);
  out << "  server accepts: " << (versions.empty() ? "no protocol that was tried" : versions);
  if (!s.groups.empty()) {
    std::string groups;
    for (const auto& g : s.groups) groups += (groups.empty() ? "" : ", ") + g;
    out << "; groups (TLS " << s.groups_version << ") " << groups;
  }
  if (s.dh_bits > 0) out << "; DHE group " << s.dh_group << " " << s.dh_bits << " bits";
  out << "\n";
  if (deep) {
    for (const auto& p : s.protocols) {
      if (!p.accepted) continue;
      out << "    TLS " << p.version << " suites ("
          << (p.suites.size() < 2 ? "one"
              : p.server_order    ? "server's order"
                                  : "client's order")
          << (p.complete ? "" : ", incomplete") << "):";
      for (const auto& name : p.suites) out << " " << name;
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace tlsprobe::tools
