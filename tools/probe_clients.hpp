// Rendering of the client compatibility results (issue 15 item 1): the matrix "client
// profile x can connect, protocol, suite" and the enumeration behind it, as text and JSON.
#pragma once

#include "inspect/observation.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace tlsprobe::tools {

// {"cheap": {...}, "scan": {...}, "clients": [...]}: "scan" and "clients" only when the
// enumeration ran (--clients / --deep). Empty object when there is nothing to say.
boost::json::object compat_json(const inspect::Observations& obs);
// The matrix and a summary of the enumeration (empty when it did not run). `deep` adds the
// accepted suites per protocol.
std::string clients_text(const inspect::Observations& obs, bool deep);

}  // namespace tlsprobe::tools
