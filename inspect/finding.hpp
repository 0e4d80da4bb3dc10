// Finding: one diagnosed problem, with what a person needs to fix it (DESIGN.md section 3).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::inspect {

enum class Severity { info, warning, error };
// Which handshake a finding is about.
enum class Role { direct, edge, origin, nosni, othersni, client };

std::string_view to_string(Severity s);
std::string_view to_string(Role r);
std::optional<Severity> parse_severity(std::string_view s);
std::optional<Role> parse_role(std::string_view s);

struct Finding {
  std::string code;  // one of codes::* ("chain.incomplete"): stable
  Severity severity = Severity::error;
  Role role = Role::direct;
  std::string subject;  // host:port (and certificate) it is about
  std::string message;  // one sentence for people; may be reworded at any time
  std::string remedy;   // what to change, naming the file, option or server setting
  std::map<std::string, std::string> evidence;     // facts: depth, not_after, missing_issuer…
  std::map<std::string, std::string> equivalents;  // keys: openssl, chrome, firefox, curl
  bool browser_shows = false;  // the one error Chrome would show for this handshake
};

using Findings = std::vector<Finding>;

// True when any finding has severity error.
bool has_error(const Findings& findings);
// The order of sort_by_severity: true when `a` is worse than `b` (error, warning, info).
bool worse_severity(const Finding& a, const Finding& b);
// Worst first (error, warning, info), stable otherwise.
void sort_by_severity(Findings& findings);

}  // namespace tlsprobe::inspect
