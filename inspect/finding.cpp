#include "inspect/finding.hpp"

#include <algorithm>

namespace tlsprobe::inspect {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "error";
}

std::string_view to_string(Role r) {
  switch (r) {
    case Role::direct:
      return "direct";
    case Role::edge:
      return "edge";
    case Role::origin:
      return "origin";
    case Role::nosni:
      return "nosni";
    case Role::othersni:
      return "othersni";
    case Role::client:
      return "client";
  }
  return "direct";
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (auto v : {Severity::info, Severity::warning, Severity::error})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<Role> parse_role(std::string_view s) {
  for (auto v : {Role::direct, Role::edge, Role::origin, Role::nosni, Role::othersni, Role::client})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

bool has_error(const Findings& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::error; });
}

bool worse_severity(const Finding& a, const Finding& b) {
  return static_cast<int>(a.severity) > static_cast<int>(b.severity);
}

void sort_by_severity(Findings& findings) {
  const auto worse = worse_severity;
  // Every connection's findings pass here, and they nearly always come in order already (the
  // probe's sorted ones, then the client's warnings): stable_sort would still take a buffer
  // and move each finding through it.
  if (std::is_sorted(findings.begin(), findings.end(), worse)) return;
  std::stable_sort(findings.begin(), findings.end(), worse);
}

}  // namespace tlsprobe::inspect
