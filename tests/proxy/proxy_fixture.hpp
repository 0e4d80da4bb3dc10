// The forward-mode end-to-end tests' fixture: a proxy in-process built from a test Config
// (support/in_process_proxy.hpp: proxy::build_proxy, production's wiring), plus raw-socket and
// curl helpers.
#pragma once

#include "config/config.hpp"
#include "support/in_process_proxy.hpp"
#include "support/loopback_client.hpp"
#include "support/process.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace tlsprobe::proxytest {

// The tests' configuration: hermetic_config() (127.0.0.1:0, admin off, no system trust: a test
// adds the anchors it made to trust.ca_files) with short timeouts.
config::Config test_config();

using RunningProxy = testsupport::InProcessProxy;

// A blocking client socket to the proxy at 127.0.0.1:port with 5 s send/receive timeouts (so
// read_all and read_head end); -1 on failure.
inline int connect_to(std::uint16_t port) {
  return testsupport::connect_loopback(port, {.io_timeout = std::chrono::seconds(5)});
}
using testsupport::read_all;
using testsupport::read_head;
using testsupport::send_all;
// Status code of "HTTP/1.1 NNN ..." or 0.
int status_of(const std::string& response);

// curl through the proxy; returns the process result (stdout = body).
testsupport::ProcessResult curl(const std::vector<std::string>& args);

std::string sha256_hex(const std::string& data);

// Looks up a dotted path ("tls.client.server_name") in a record; nullptr when absent.
const boost::json::value* find_path(const boost::json::object& o, const std::string& dotted);
// Codes of tlsprobe.findings.
std::vector<std::string> finding_codes(const boost::json::object& record);

}  // namespace tlsprobe::proxytest
