// AdminListener: the optional admin HTTP endpoint (`--admin ADDR:PORT`, default
// 127.0.0.1:9464, "off" disables; DESIGN.md section 8). Serves
//   GET /metrics  -> 200, Metrics::render(), Content-Type text/plain; version=0.0.4
//   GET /healthz  -> 200, "ok"
//   routes added with add_route() (e.g. /pins, proxy/session/pins_admin.hpp): whatever they answer
//   anything else -> 404 (405 for another method on a known path)
// HTTP/1.1 with keep-alive, one session object per connection. Every read has a deadline
// and every buffer a bound (AdminLimits). A busy or unusable address is not fatal: start()
// returns the error and the caller prints a warning and carries on without an admin port.
//
// Asio stays out of this header (pimpl); the listener runs on the io_context it is given.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace tlsprobe::proxy {

class Metrics;

struct AdminLimits {
  std::chrono::milliseconds read_timeout{10000};  // a request header must arrive within this
  std::chrono::milliseconds write_timeout{10000};
  std::size_t max_header_bytes = 8192;  // request line + headers
  std::size_t max_body_bytes = 1024;    // GET carries none; refuse anything large
  std::size_t max_connections = 32;     // more are closed at once
  std::size_t max_requests_per_connection = 1000;
};

// The answer of an added route.
struct AdminReply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // Allow header (405 answers), empty for none
};
// Called on the session's strand with the method ("GET", "DELETE", ...) and the full target;
// must not block. Requests carry no body worth reading (max_body_bytes).
using AdminRoute = std::function<AdminReply(std::string_view method, std::string_view target)>;

class AdminListener {
 public:
  // `io` and `metrics` must outlive the listener and its sessions.
  AdminListener(boost::asio::io_context& io, const Metrics& metrics, AdminLimits limits = {});
  ~AdminListener();  // stops accepting (open sessions end on their own deadlines)
  AdminListener(const AdminListener&) = delete;
  AdminListener& operator=(const AdminListener&) = delete;

  // Which clients may connect, by address text ("10.1.2.3", "::1"); others are closed at
  // once. Unset: everyone who can reach the address. Set before start().
  void set_client_filter(std::function<bool(std::string_view client_address)> allowed);

  // Binds `address` ("ADDR:PORT", port 0 = ephemeral) and starts accepting. On failure
  // (busy port, bad address, no permission) returns the error; the listener stays idle.
  boost::system::error_code start(const std::string& address);
  // Serves `path` (exact, query ignored) with `route`. Call before start().
  void add_route(std::string path, AdminRoute route);
  // The bound port after a successful start(); 0 before.
  std::uint16_t port() const;
  // Stops accepting and closes open admin connections. Safe from any thread; idempotent.
  void stop();

  struct Impl;  // opaque (admin_listener.cpp)

 private:
  std::shared_ptr<Impl> impl_;
};

// Starts `listener` on `address` unless it is "off". On failure prints one warning line on
// stderr ("tlsprobe: warning: admin listener 127.0.0.1:9464 not started: Address already in
// use; continuing without metrics") and returns false; returns true when listening or off.
bool start_admin_or_warn(AdminListener& listener, const std::string& address);

}  // namespace tlsprobe::proxy
