// HTTP/1.1 inside an intercepted connection (issue 4 item 5): keep-alive, chunked and
// multi-MiB streamed responses (never buffered whole), request bodies, and Upgrade
// (WebSocket) turning into a byte tunnel after the 101.
#include "http_peers.hpp"
#include "intercept_fixture.hpp"

#include <fstream>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

// Answers every request on the connection with `answer(request)` until the client closes.
void serve_requests(TlsIo& io, const std::function<std::string(const Message&)>& answer) {
  for (int i = 0; i < 100; ++i) {
    const auto req = io.read_message(false, 5s);
    if (!req.complete) return;
    if (!io.write(answer(req))) return;
  }
}

std::string echo_target(const Message& req) {
  return http_response(200, "OK", "reply-" + req.head.target());
}

testsupport::ProcessResult curl_run(const InterceptingProxy& proxy, std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl",    "-sS",       "--max-time", "20",
                                   "--proxy", proxy.url(), "--cacert",   proxy.ca_path()};
  for (auto& a : args) argv.push_back(std::move(a));
  return testsupport::run_process(argv, std::chrono::seconds(30));
}

std::string url(std::uint16_t port, const std::string& path) {
  return "https://good.test:" + std::to_string(port) + path;
}

}  // namespace

TEST_CASE("intercept http: keep-alive carries several requests on one client connection") {
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good),
                      [](TlsIo& io) { serve_requests(io, echo_target); });
  InterceptingProxy proxy(lab.proxy_options());
  // Two URLs in one curl run: curl reuses the connection (one CONNECT, one TLS session).
  const auto r = curl_run(proxy, {"-w", "|%{http_code}|%{num_connects}\n", url(up.port(), "/one"),
                                  url(up.port(), "/two")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "reply-/one|200|1\nreply-/two|200|0\n");
  CHECK(up.handshakes() == 1);  // the upstream connection is kept alive too
  CHECK(proxy.interceptor().counters.requests == 2);
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(str_at(lines[0], {"url", "full"}) == url(up.port(), "/two"));
}

TEST_CASE("intercept http: raw keep-alive client, then a chunked response, then another") {
  GoodSiteLab lab;
  const std::string big = pattern(0, 100'000);
  ScriptedUpstream up(ServedChain::of(lab.good), [&](TlsIo& io) {
    serve_requests(io, [&](const Message& req) -> std::string {
      if (req.head.target() != "/chunked") return echo_target(req);
      return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
             "Transfer-Encoding: chunked\r\n\r\n" +
             chunk("alpha-") + chunk(big) + chunk("-omega") + "0\r\n\r\n";
    });
  });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  auto a = c.request("GET", "/a", "good.test");
  CHECK(a.complete);
  CHECK(a.head.status() == 200);
  CHECK(a.body == "reply-/a");
  auto ch = c.request("GET", "/chunked", "good.test");
  REQUIRE(ch.complete);
  CHECK(ch.head.status() == 200);
  CHECK(ascii_lower(ch.head.get("transfer-encoding")) == "chunked");
  CHECK(ch.body == "alpha-" + big + "-omega");
  auto b = c.request("GET", "/b", "good.test");
  CHECK(b.complete);
  CHECK(b.body == "reply-/b");
  CHECK(up.handshakes() == 1);
}

TEST_CASE("intercept http: an 8 MiB response streams through without being buffered whole") {
  // The origin sends the first MiB and then waits until the client has it: a proxy that
  // buffered whole responses would deliver nothing and the client's deadline would fail.
  GoodSiteLab lab;
  constexpr std::size_t kTotal = 8 * 1024 * 1024, kFirst = 1024 * 1024, kPiece = 64 * 1024;
  const bool chunked = GENERATE(false, true);
  std::atomic<bool> client_has_first{false};
  ScriptedUpstream up(ServedChain::of(lab.good), [&](TlsIo& io) {
    if (!io.read_message(false, 5s).complete) return;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + std::to_string(kTotal) + "\r\n\r\n";
    if (!io.write(head)) return;
    for (std::size_t off = 0; off < kTotal; off += kPiece) {
      if (off == kFirst) {
        const auto deadline = Clock::now() + 10s;
        while (!client_has_first && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
        if (!client_has_first) return;
      }
      const auto piece = pattern(off, kPiece);
      if (!io.write(chunked ? chunk(piece) : piece)) return;
    }
    if (chunked) io.write("0\r\n\r\n");
  });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  REQUIRE(c.io().write("GET /big HTTP/1.1\r\nHost: good.test\r\n\r\n"));
  const auto head = c.io().read_until("\r\n\r\n", 5s);
  REQUIRE(head);
  CHECK(parse_head(*head).status() == 200);
  // Read the first MiB (raw: with chunk framing when chunked) before the origin sends more.
  std::string wire;
  const auto first_deadline = Clock::now() + 5s;
  while (wire.size() < kFirst && Clock::now() < first_deadline) {
    auto more = c.io().read_some(1s);
    if (more.empty() && c.io().closed()) break;
    wire += more;
  }
  REQUIRE(wire.size() >= kFirst);
  client_has_first = true;
  while (Clock::now() < first_deadline + 15s) {
    auto more = c.io().read_some(2s);
    if (more.empty()) break;
    wire += more;
    if (!chunked && wire.size() >= kTotal) break;
    if (chunked && wire.size() >= 5 && wire.compare(wire.size() - 5, 5, "0\r\n\r\n") == 0) break;
  }
  // Decode and compare.
  std::string body;
  if (chunked) {
    std::size_t pos = 0;
    while (pos < wire.size()) {
      const auto eol = wire.find("\r\n", pos);
      REQUIRE(eol != std::string::npos);
      const auto n = std::strtoull(wire.c_str() + pos, nullptr, 16);
      if (n == 0) break;
      body.append(wire, eol + 2, n);
      pos = eol + 2 + n + 2;
    }
  } else {
    body = std::move(wire);
  }
  REQUIRE(body.size() == kTotal);
  CHECK(body == pattern(0, kTotal));
}

TEST_CASE("intercept http: request bodies reach the origin intact") {
  GoodSiteLab lab;
  std::mutex m;
  std::vector<std::string> seen_te;
  ScriptedUpstream up(ServedChain::of(lab.good), [&](TlsIo& io) {
    serve_requests(io, [&](const Message& req) {
      {
        std::lock_guard lock(m);
        seen_te.push_back(ascii_lower(req.head.get("transfer-encoding")));
      }
      const bool same = req.body == pattern(0, req.body.size());
      return http_response(200, "OK",
                           req.head.first_line.substr(0, req.head.first_line.find(' ')) + " " +
                               std::to_string(req.body.size()) + (same ? " intact" : " CORRUPT"));
    });
  });
  InterceptingProxy proxy(lab.proxy_options());
  SECTION("Content-Length, 3 MiB, raw client") {
    ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
    const auto r = c.request("POST", "/upload", "good.test", "", pattern(0, 3 * 1024 * 1024), 20s);
    CHECK(r.head.status() == 200);
    CHECK(r.body == "POST 3145728 intact");
    // The same connection still works after a large body.
    const auto again = c.request("PUT", "/x", "good.test", "", pattern(0, 10));
    CHECK(again.body == "PUT 10 intact");
  }
  SECTION("chunked, from curl") {
    const testsupport::TempDir dir("post");
    const auto file = dir / "body.bin";
    std::ofstream(file, std::ios::binary) << pattern(0, 300'000);
    const auto r = curl_run(proxy, {"-w", "|%{http_code}", "-H", "Transfer-Encoding: chunked", "-H",
                                    "Expect:", "--data-binary", "@" + file.string(),
                                    url(up.port(), "/chunked-upload")});
    INFO(r.err);
    CHECK(r.out == "POST 300000 intact|200");
    std::lock_guard lock(m);
    REQUIRE(seen_te.size() == 1);
    CHECK(seen_te[0] == "chunked");
  }
}

TEST_CASE("intercept http: after a 101 the connection is a byte tunnel both ways (WebSocket)") {
  GoodSiteLab lab;
  std::mutex m;
  Head upgrade_request;
  ScriptedUpstream up(ServedChain::of(lab.good), [&](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (!req.complete) return;
    {
      std::lock_guard lock(m);
      upgrade_request = req.head;
    }
    // The 101 and the origin's first frame in one write: bytes after the head must follow.
    if (!io.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                  "server-hello;"))
      return;
    for (int i = 0; i < 1000; ++i) {  // echo until the client goes
      auto data = io.read_some(5s);
      if (data.empty() || !io.write(data)) return;
    }
  });
  InterceptingProxy proxy(lab.proxy_options());
  {
    ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
    // The request and the client's first frame in one write, too.
    REQUIRE(
        c.io().write("GET /ws HTTP/1.1\r\nHost: good.test\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\nclient-early;"));
    const auto head = c.io().read_until("\r\n\r\n", 5s);
    REQUIRE(head);
    const auto h = parse_head(*head);
    CHECK(h.status() == 101);
    CHECK(ascii_lower(h.get("upgrade")) == "websocket");
    CHECK(ascii_lower(h.get("connection")) == "upgrade");
    CHECK(h.get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(c.io().read_exact(13, 5s) == "server-hello;");
    CHECK(c.io().read_exact(13, 5s) == "client-early;");
    for (int i = 0; i < 3; ++i) {
      const std::string msg = "frame-" + std::to_string(i);
      REQUIRE(c.io().write(msg));
      CHECK(c.io().read_exact(msg.size(), 5s) == msg);
    }
    const auto blob = pattern(3, 256 * 1024);
    REQUIRE(c.io().write(blob));
    CHECK(c.io().read_exact(blob.size(), 10s) == blob);
  }
  {
    std::lock_guard lock(m);
    CHECK(ascii_lower(upgrade_request.get("upgrade")) == "websocket");
    CHECK(ascii_lower(upgrade_request.get("connection")).find("upgrade") != std::string::npos);
    CHECK(upgrade_request.get("sec-websocket-key") == "dGhlIHNhbXBsZSBub25jZQ==");
  }
  const auto lines = proxy.log_lines();
  REQUIRE(lines.size() == 1);
  CHECK(str_at(lines[0], {"event", "reason"}) == "upgraded");
  const auto* status =
      lines[0].at("http").as_object().at("response").as_object().if_contains("status_code");
  REQUIRE(status);
  CHECK(status->to_number<int>() == 101);
}

TEST_CASE("intercept http: HEAD, 204 and 304 keep the connection framed") {
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [](TlsIo& io) {
    for (int i = 0; i < 10; ++i) {
      const auto req = io.read_message(false, 5s);
      if (!req.complete) return;
      const auto t = req.head.target();
      std::string res;
      if (req.head.first_line.rfind("HEAD", 0) == 0)
        res = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
      else if (t == "/204")
        res = "HTTP/1.1 204 No Content\r\n\r\n";
      else if (t == "/304")
        res = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n";
      else
        res = echo_target(req);
      if (!io.write(res)) return;
    }
  });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  REQUIRE(c.io().write("HEAD /h HTTP/1.1\r\nHost: good.test\r\n\r\n"));
  const auto head = c.io().read_until("\r\n\r\n", 5s);
  REQUIRE(head);
  CHECK(parse_head(*head).get("content-length") == "1000");
  for (const char* path : {"/204", "/304"}) {
    const auto r = c.request("GET", path, "good.test");
    CHECK(r.complete);
    CHECK(r.head.status() == std::atoi(path + 1));
    CHECK(r.body.empty());
  }
  // Nothing stray was sent after the bodyless answers: the next response parses cleanly.
  const auto after = c.request("GET", "/after", "good.test");
  CHECK(after.head.status() == 200);
  CHECK(after.body == "reply-/after");
}

TEST_CASE("intercept http: a response delimited by the origin's close arrives complete") {
  // No Content-Length, no chunking: the end of the body is the end of the connection. The
  // origin ends with close_notify; the client must be able to tell that from a truncation.
  GoodSiteLab lab;
  const std::string body = pattern(0, 200'000);
  ScriptedUpstream up(ServedChain::of(lab.good), [&](TlsIo& io) {
    if (!io.read_message(false, 5s).complete) return;
    io.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body);
  });  // the script returning sends close_notify
  InterceptingProxy proxy(lab.proxy_options());
  const auto r = curl_run(proxy, {"-w", "|%{http_code}", url(up.port(), "/close")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == body + "|200");
  // curl forgives a missing close_notify; RFC 9112 section 9.8 does not: without it such a
  // body is "incomplete". The proxy must end the client's TLS with close_notify.
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  const auto m = c.request("GET", "/close", "good.test");
  CHECK(m.body == body);
  // The proxy re-frames such a body in chunks (the one response framing rule), so the message
  // ends without the close; the connection still ends with close_notify after it.
  CHECK(ascii_lower(m.head.get("transfer-encoding")) == "chunked");
  CHECK(c.io().read_some(5s).empty());
  CHECK((SSL_get_shutdown(c.io().ssl()) & SSL_RECEIVED_SHUTDOWN) != 0);
}

TEST_CASE("intercept http: a close-delimited body cut off by the origin stays visibly cut off") {
  // The origin drops the TCP connection mid-body without close_notify: the client must not
  // get a close_notify either (that would certify a truncated body as complete).
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [&](TlsIo& io) {
    if (!io.read_message(false, 5s).complete) return;
    io.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial");
    io.pause(200ms);
    ::shutdown(io.fd(), SHUT_RDWR);  // no close_notify
  });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  const auto m = c.request("GET", "/cut", "good.test");
  CHECK(m.body == "partial");
  CHECK((SSL_get_shutdown(c.io().ssl()) & SSL_RECEIVED_SHUTDOWN) == 0);
}

TEST_CASE("intercept http: Expect: 100-continue does not stall an upload") {
  // curl waits up to 1 s for the 100 before sending a body it announced with Expect.
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good), [](TlsIo& io) {
    const auto head = io.read_until("\r\n\r\n", 5s);
    if (!head) return;
    const auto h = parse_head(*head);
    if (ascii_lower(h.get("expect")) == "100-continue" &&
        !io.write("HTTP/1.1 100 Continue\r\n\r\n"))
      return;
    const auto n = std::strtoull(h.get("content-length").c_str(), nullptr, 10);
    const auto got = io.read_exact(n, 10s);
    io.write(http_response(200, "OK", std::to_string(got.size()) + " bytes"));
  });
  InterceptingProxy proxy(lab.proxy_options());
  const testsupport::TempDir dir("expect");
  std::ofstream(dir / "body.bin", std::ios::binary) << pattern(0, 2'000'000);
  const auto r = curl_run(
      proxy, {"-w", "|%{http_code}", "-H", "Expect: 100-continue", "--expect100-timeout", "5",
              "--data-binary", "@" + (dir / "body.bin").string(), url(up.port(), "/up")});
  INFO(r.err);
  CHECK(r.out == "2000000 bytes|200");
  CHECK(r.elapsed_ms < 3000);  // not the 5 s expect timeout
}

TEST_CASE("intercept http: pipelined requests are answered in order") {
  GoodSiteLab lab;
  ScriptedUpstream up(ServedChain::of(lab.good),
                      [](TlsIo& io) { serve_requests(io, echo_target); });
  InterceptingProxy proxy(lab.proxy_options());
  ProxyClient c(proxy.port(), "good.test", up.port(), proxy.ca_path(), "good.test");
  std::string three;
  for (const char* p : {"/p1", "/p2", "/p3"})
    three += std::string("GET ") + p + " HTTP/1.1\r\nHost: good.test\r\n\r\n";
  REQUIRE(c.io().write(three));  // one write: the proxy finds the next requests buffered
  for (const char* p : {"/p1", "/p2", "/p3"}) {
    const auto r = c.io().read_message(true, 5s);
    CHECK(r.complete);
    CHECK(r.body == std::string("reply-") + p);
  }
}
