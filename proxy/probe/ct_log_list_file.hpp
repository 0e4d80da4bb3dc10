// Loads a CT log list for --ct-log-list / ct_log_list: Chrome's log list JSON
// (https://www.gstatic.com/ct/log_list/v3/log_list.json: operators[].logs[] and
// tiled_logs[] with base64 "key") or OpenSSL's ct_log_list.cnf. Logs in the "pending" or
// "rejected" state are left out, as Chrome does. Nothing is built in: the list changes as
// logs come and go, so the user supplies a current one.
#pragma once

#include "certs/ct.hpp"

#include <string>

namespace tlsprobe::proxy {

// Throws std::runtime_error "<path>: …" (one line) when the file is unreadable or neither
// format.
certs::CtLogList load_ct_log_list(const std::string& path);

}  // namespace tlsprobe::proxy
