// Startup checks of who can reach what through tlsprobe (docs/security.md, "Not a door into
// the host"): pure functions on the merged config and flags, so tools/ only prints their
// answer and the rules are unit-tested.
//
// - The admin listener serves metrics (host names clients visited) and, in time, control
//   endpoints: on a non-loopback address it needs its own allow-list (`admin_allow`,
//   `--admin-allow CIDR`; loopback clients are always allowed). Not the proxy's `allow`:
//   who may use the proxy is not who may read what everyone did through it.
// - An allow-list entry with prefix 0 (0.0.0.0/0, ::/0) admits everyone: allowed, but said
//   at start, since the list then restricts nothing.
#pragma once

#include "config/config.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::config {

// Empty when `admin` is "off", a loopback address, or `admin_allow` is non-empty; else one
// line naming --admin-allow. Also reports an unparsable admin address or CIDR.
std::string admin_policy_error(std::string_view admin, const std::vector<std::string>& admin_allow);

// One line per allow-list entry (allow, admin_allow, allow_destinations) that admits every
// address, each saying what it opens.
std::vector<std::string> exposure_warnings(const Config& cfg);

// The admin listener's client check: loopback always, others when `admin_allow` has them.
std::function<bool(std::string_view client_address)> admin_client_filter(
    const std::vector<std::string>& admin_allow);

// True when the CIDR text has prefix 0 ("0.0.0.0/0", "::/0"); false when unparsable.
bool admits_everyone(std::string_view cidr);

}  // namespace tlsprobe::config
