// AdminListener: /metrics and /healthz over real HTTP on 127.0.0.1 (port 0), 404 elsewhere,
// header limit, a busy port is a warning and not a failure.
#include "proxy/observe/admin_listener.hpp"
#include "metrics_parse.hpp"
#include "proxy/observe/metrics.hpp"
#include "support/process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <thread>

using namespace tlsprobe;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Runs an io_context on a thread for the test's lifetime.
struct IoThread {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    work.reset();
    io.stop();
    thread.join();
  }
};

// A blocking HTTP/1.1 exchange with a 5 s socket timeout (the test never hangs).
http::response<http::string_body> get(std::uint16_t port, const std::string& target,
                                      http::verb verb = http::verb::get,
                                      std::size_t extra_header_bytes = 0) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  if (extra_header_bytes) req.set("X-Padding", std::string(extra_header_bytes, 'a'));
  http::write(s, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  boost::system::error_code ec;
  http::read(s, buf, parser, ec);
  REQUIRE_FALSE(ec);
  return parser.release();
}

}  // namespace

TEST_CASE("GET /metrics serves the registry in text format 0.0.4", "[metrics][admin]") {
  proxy::Metrics metrics("1.2.3");
  metrics.connection_opened("tunnel");
  IoThread t;
  proxy::AdminListener admin(t.io, metrics);
  REQUIRE_FALSE(admin.start("127.0.0.1:0"));
  REQUIRE(admin.port() != 0);

  auto res = get(admin.port(), "/metrics");
  CHECK(res.result_int() == 200);
  CHECK(std::string(res[http::field::content_type]).rfind("text/plain; version=0.0.4", 0) == 0);
  const auto p = testmetrics::parse_exposition(res.body());
  CHECK(p.errors.empty());
  CHECK(testmetrics::sample(p, "tlsprobe_build_info", {{"version", "1.2.3"}}) == 1);
  CHECK(testmetrics::sample(p, "tlsprobe_connections_total", {{"mode", "tunnel"}}) == 1);

  // Scrapes see later updates.
  metrics.connection_opened("tunnel");
  const auto p2 = testmetrics::parse_exposition(get(admin.port(), "/metrics").body());
  CHECK(testmetrics::sample(p2, "tlsprobe_connections_total", {{"mode", "tunnel"}}) == 2);
}

TEST_CASE("/healthz answers ok; other paths 404; other methods 405", "[metrics][admin]") {
  proxy::Metrics metrics;
  IoThread t;
  proxy::AdminListener admin(t.io, metrics);
  REQUIRE_FALSE(admin.start("127.0.0.1:0"));
  auto health = get(admin.port(), "/healthz");
  CHECK(health.result_int() == 200);
  CHECK(health.body() == "ok\n");
  CHECK(get(admin.port(), "/").result_int() == 404);
  CHECK(get(admin.port(), "/metrics/../etc").result_int() == 404);
  CHECK(get(admin.port(), "/metrics", http::verb::post).result_int() == 405);
}

TEST_CASE("an oversized request header is refused with 431", "[metrics][admin]") {
  proxy::Metrics metrics;
  IoThread t;
  proxy::AdminLimits limits;
  limits.max_header_bytes = 1024;
  proxy::AdminListener admin(t.io, metrics, limits);
  REQUIRE_FALSE(admin.start("127.0.0.1:0"));
  CHECK(get(admin.port(), "/metrics", http::verb::get, 4096).result_int() == 431);
  // The listener still serves afterwards.
  CHECK(get(admin.port(), "/healthz").result_int() == 200);
}

TEST_CASE("a client that sends nothing is dropped at the read deadline", "[metrics][admin]") {
  proxy::Metrics metrics;
  IoThread t;
  proxy::AdminLimits limits;
  limits.read_timeout = std::chrono::milliseconds(200);
  proxy::AdminListener admin(t.io, metrics, limits);
  REQUIRE_FALSE(admin.start("127.0.0.1:0"));
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), admin.port()));
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start = std::chrono::steady_clock::now();
  char byte = 0;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&byte, 1), ec);
  CHECK(ec == asio::error::eof);  // closed by the server, not by our 5 s socket timeout
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("a busy admin port is reported, and start_admin_or_warn carries on", "[metrics][admin]") {
  proxy::Metrics metrics;
  IoThread t;
  proxy::AdminListener first(t.io, metrics);
  REQUIRE_FALSE(first.start("127.0.0.1:0"));
  const std::string busy = "127.0.0.1:" + std::to_string(first.port());

  proxy::AdminListener second(t.io, metrics);
  const auto ec = second.start(busy);
  CHECK(ec == asio::error::address_in_use);
  CHECK(second.port() == 0);
  proxy::AdminListener third(t.io, metrics);
  CHECK_FALSE(proxy::start_admin_or_warn(third, busy));  // warning on stderr, no throw
  proxy::AdminListener off(t.io, metrics);
  CHECK(proxy::start_admin_or_warn(off, "off"));
  CHECK(off.port() == 0);
  // The first listener is unaffected.
  CHECK(get(first.port(), "/healthz").result_int() == 200);
}

TEST_CASE("promtool accepts a scrape from the admin listener", "[metrics][admin][promtool]") {
  proxy::Metrics metrics;
  metrics.probe_finished(proxy::ProbeOutcome::failed, std::chrono::milliseconds(40));
  IoThread t;
  proxy::AdminListener admin(t.io, metrics);
  REQUIRE_FALSE(admin.start("127.0.0.1:0"));
  const std::string body = get(admin.port(), "/metrics").body();
  if (testsupport::run_process({"sh", "-c", "command -v promtool"}).exit_code != 0) {
    WARN("promtool not installed (Debian package prometheus): scrape not validated");
    return;
  }
  const auto r =
      testsupport::run_process({"promtool", "check", "metrics"}, std::chrono::seconds(30), body);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
}
