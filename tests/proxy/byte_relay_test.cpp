// proxy/net/byte_relay.cpp and proxy/net/connect_first.cpp: the tunnel's relay reads into one
// buffer per thread, and connects upstream without asio::async_connect.
#include "proxy/net/byte_relay.hpp"
#include "proxy/net/connect_first.hpp"
#include "proxy/net/proxy_context.hpp"
#include "proxy/net/session_connection.hpp"
#include "proxy_fixture.hpp"
#include "support/proxy_origin.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::proxytest;

namespace {

std::string connect_request(const std::string& hostport) {
  return "CONNECT " + hostport + " HTTP/1.1\r\nHost: " + hostport + "\r\n\r\n";
}

// Takes nothing for `pause`, then reads to EOF and keeps the SHA-256 of what came.
class SlowSink : public testsupport::LoopbackServer {
 public:
  explicit SlowSink(std::chrono::milliseconds pause)
      : LoopbackServer(
            [this, pause](int fd) {
              const auto until = std::chrono::steady_clock::now() + pause;
              while (std::chrono::steady_clock::now() < until && !stopping())
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
              std::string got;
              char buf[65536];
              while (wait_readable(fd, std::chrono::seconds(10))) {
                const auto r = ::recv(fd, buf, sizeof buf, 0);
                if (r <= 0) break;
                got.append(buf, static_cast<std::size_t>(r));
              }
              std::lock_guard lock(mutex_);
              received_ = got.size();
              digest_ = sha256_hex(got);
            },
            2, Deferred{}) {
    start();
  }
  ~SlowSink() override { stop(); }
  std::pair<std::size_t, std::string> result() {
    std::lock_guard lock(mutex_);
    return {received_, digest_};
  }

 private:
  std::mutex mutex_;
  std::size_t received_ = 0;
  std::string digest_;
};

// A port on 127.0.0.1 that refuses connections (bound, never listening).
struct RefusingPort {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  std::uint16_t port = 0;
  RefusingPort() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~RefusingPort() { ::close(fd); }
};

std::tuple<boost::system::error_code, proxy::tcp::endpoint> connect_in_context(
    const std::vector<proxy::tcp::endpoint>& endpoints) {
  boost::asio::io_context ioc;
  proxy::tcp::socket socket(ioc);
  auto done =
      boost::asio::co_spawn(ioc, proxy::connect_first(socket, endpoints), boost::asio::use_future);
  ioc.run_for(std::chrono::seconds(5));
  return done.get();
}

}  // namespace

TEST_CASE("a tunnel whose receiver is slow keeps its bytes while other tunnels relay") {
  // Tunnel A writes into a server that reads nothing for 400 ms: its relay sends what the
  // socket takes and must keep the rest while tunnel B relays other bytes through the same
  // thread's read buffer meanwhile.
  SlowSink sink(std::chrono::milliseconds(400));
  testsupport::EchoServer echo;
  RunningProxy proxy(test_config());
  const auto a_data = testsupport::pattern_bytes(8 * 1024 * 1024);
  std::string b_data(6 * 1024 * 1024, '\0');
  std::transform(a_data.begin(), a_data.begin() + static_cast<std::ptrdiff_t>(b_data.size()),
                 b_data.begin(), [](char c) { return static_cast<char>(~c); });

  const int a = connect_to(proxy.port());
  const int b = connect_to(proxy.port());
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  REQUIRE(send_all(a, connect_request(sink.address())));
  REQUIRE(status_of(read_head(a)) == 200);
  REQUIRE(send_all(b, connect_request(echo.address())));
  REQUIRE(status_of(read_head(b)) == 200);

  std::thread a_writer([&] {
    send_all(a, a_data);
    ::shutdown(a, SHUT_WR);
  });
  std::thread b_writer([&] {
    send_all(b, b_data);
    ::shutdown(b, SHUT_WR);
  });
  const auto b_back = read_all(b, b_data.size() + 1);
  b_writer.join();
  a_writer.join();
  CHECK(read_all(a, 1).empty());  // the sink closes after EOF; nothing comes back
  ::close(a);
  ::close(b);
  CHECK(b_back.size() == b_data.size());
  CHECK(sha256_hex(b_back) == sha256_hex(b_data));
  const auto [received, digest] = sink.result();
  CHECK(received == a_data.size());
  CHECK(digest == sha256_hex(a_data));
}

TEST_CASE("connect_first: takes the first endpoint that accepts, after one that refuses") {
  RefusingPort refusing;
  testsupport::EchoServer echo;
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  const proxy::tcp::endpoint refused(loopback, refusing.port), open(loopback, echo.port());
  {
    const auto [ec, ep] = connect_in_context({refused, open});
    CHECK_FALSE(ec);
    CHECK(ep == open);
  }
  {
    const auto [ec, ep] = connect_in_context({refused});
    CHECK(ec == boost::asio::error::connection_refused);
    CHECK(ep == proxy::tcp::endpoint{});
  }
  {
    const auto [ec, ep] = connect_in_context({});
    CHECK(ec);
  }
}

TEST_CASE("bytes a client sends with its CONNECT, before the 200, go on first and are counted") {
  testsupport::EchoServer echo;
  RunningProxy proxy(test_config());
  const int fd = connect_to(proxy.port());
  REQUIRE(fd >= 0);
  const std::string early = "sent before the 200";
  REQUIRE(send_all(fd, connect_request(echo.address()) + early));
  CHECK(status_of(read_head(fd)) == 200);  // read_head stops at the head's end
  ::shutdown(fd, SHUT_WR);
  const std::string back = read_all(fd, early.size() + 1);
  ::close(fd);
  CHECK(back == early);
  proxy.stop();
  const auto recs = proxy.log_records();
  REQUIRE(recs.size() == 1);
  CHECK(find_path(recs[0], "tlsprobe.bytes.client_to_server")->to_number<std::uint64_t>() ==
        early.size());
}

TEST_CASE("pump_both_ways: a tap that throws closes both sides and the error comes out") {
  // The two directions share the tunnel coroutine's locals: a failing direction must close
  // both sockets and be waited for, never leave the other running on a finished frame.
  boost::asio::io_context ioc;
  proxy::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto at = acceptor.local_endpoint();
  proxy::tcp::socket client_peer(ioc), upstream_peer(ioc);
  client_peer.connect(at);
  auto client_side = acceptor.accept();
  upstream_peer.connect(at);
  auto upstream_side = acceptor.accept();

  auto ctx = std::make_shared<proxy::ProxyContext>(proxy::ProxySettings{}, nullptr, nullptr);
  auto conn = std::make_shared<proxy::SessionConnection>(std::move(client_side), at, ctx);
  conn->upstream.emplace(std::move(upstream_side));
  std::uint64_t up = 0, down = 0;
  const auto throwing_tap = [](const char*, std::size_t) -> bool {
    throw std::runtime_error("tap failed");
  };
  auto done = boost::asio::co_spawn(ioc, proxy::pump_both_ways(*conn, up, down, throwing_tap, {}),
                                    boost::asio::use_future);
  REQUIRE(send_all(client_peer.native_handle(), "hello"));
  ioc.run_for(std::chrono::seconds(5));
  REQUIRE(done.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK_THROWS_WITH(done.get(), "tap failed");
  CHECK(conn->closed);
  // The upstream saw no byte and its connection ended (a 2 s receive timeout: a failure here
  // must not hang the test).
  const timeval two_seconds{2, 0};
  ::setsockopt(upstream_peer.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &two_seconds,
               sizeof two_seconds);
  char b;
  boost::system::error_code ec;
  upstream_peer.read_some(boost::asio::buffer(&b, 1), ec);
  CHECK(ec == boost::asio::error::eof);
}
