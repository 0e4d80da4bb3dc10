// The forward-mode end-to-end tests' fixture: a proxy in-process built from a test Config
// (support/in_process_proxy.hpp: proxy::build_proxy, production's wiring), plus raw-socket and
// curl helpers.
#pragma once

#include "config/config.hpp"
#include "support/in_process_proxy.hpp"
#include "support/process.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace tlsprobe::proxytest {

// The tests' configuration: hermetic_config() (127.0.0.1:0, admin off, no system trust: a test
// adds the anchors it made to trust.ca_files) with short timeouts.
config::Config test_config();

using RunningProxy = testsupport::InProcessProxy;

// A blocking client socket to 127.0.0.1:port with 5 s send/receive timeouts; -1 on failure.
int connect_to(std::uint16_t port);
bool send_all(int fd, const std::string& data);
// Reads until the peer closes, `limit` bytes, or the receive timeout.
std::string read_all(int fd, std::size_t limit = 1 << 20);
// Reads until "\r\n\r\n" (a response head), at most 64 KiB.
std::string read_head(int fd);
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
