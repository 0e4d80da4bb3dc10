// Issue 12 item 3: the request-smuggling corpus, run in forward, intercept and reverse mode
// against a backend that records the exact bytes it receives. For each case the client sends
// the bytes in one write and half-closes; the assertions:
//   - the client gets exactly the expected statuses (one per request the proxy answered);
//   - the backend's bytes parse strictly (wire.hpp) into exactly the expected requests, in
//     order, with nothing left over: no second request riding in a body or behind it.
// {T} {H} {ABS} {OTHER} are filled in per mode by Bench::expand (harness.hpp).
#include "framing/harness.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe;
using namespace tlsprobe::framing_test;

namespace {

struct Case {
  const char* name;
  std::string raw;
  std::vector<int> statuses;         // what the client receives, in order
  std::vector<std::string> targets;  // what the backend receives, in order
  std::string first_body = {};       // the first backend request's body, when it matters
  // The error is in the body, after part of it was streamed: the backend may see the start of
  // the request and then the close (a truncated request is no request), never a whole one.
  bool truncated_upstream = false;
};

const std::string kSmuggled = "GET {T}/smuggled HTTP/1.1\r\nHost: {H}\r\n\r\n";

std::vector<Case> corpus() {
  const std::string post = "POST {T}/a HTTP/1.1\r\nHost: {H}\r\n";
  const std::string chunked_hello = "5\r\nhello\r\n0\r\n\r\n";
  return {
      // Healthy traffic first: the corpus must not refuse what is right.
      {"get", "GET {T}/a HTTP/1.1\r\nHost: {H}\r\n\r\n", {200}, {"/a"}},
      {"post content-length", post + "Content-Length: 5\r\n\r\nhello", {200}, {"/a"}, "hello"},
      {"post chunked",
       post + "Transfer-Encoding: chunked\r\n\r\n" + chunked_hello,
       {200},
       {"/a"},
       "hello"},
      {"pipelined",
       "GET {T}/a HTTP/1.1\r\nHost: {H}\r\n\r\nGET {T}/b HTTP/1.1\r\nHost: {H}\r\n\r\n",
       {200, 200},
       {"/a", "/b"}},
      {"body then pipelined request",
       post + "Content-Length: 5\r\n\r\nhelloGET {T}/b HTTP/1.1\r\nHost: {H}\r\n\r\n",
       {200, 200},
       {"/a", "/b"},
       "hello"},
      {"duplicate equal Content-Length forwarded once",
       post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
       {200},
       {"/a"},
       "hello"},
      {"Content-Length list of equal values forwarded once",
       post + "Content-Length: 5, 5\r\n\r\nhello",
       {200},
       {"/a"},
       "hello"},
      {"Content-Length with leading spaces (OWS)",
       post + "Content-Length:    5\r\n\r\nhello",
       {200},
       {"/a"},
       "hello"},
      {"gzip, chunked",
       post + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked_hello,
       {200},
       {"/a"},
       "hello"},
      {"CHUNKED in capitals",
       post + "Transfer-Encoding: CHUNKED\r\n\r\n" + chunked_hello,
       {200},
       {"/a"},
       "hello"},
      {"TE with extra spaces",
       post + "Transfer-Encoding:   chunked\r\n\r\n" + chunked_hello,
       {200},
       {"/a"},
       "hello"},
      {"TE after a tab",
       post + "Transfer-Encoding:\tchunked\r\n\r\n" + chunked_hello,
       {200},
       {"/a"},
       "hello"},
      {"TE with a trailing tab",
       post + "Transfer-Encoding: chunked\t\r\n\r\n" + chunked_hello,
       {200},
       {"/a"},
       "hello"},
      {"chunk extensions are dropped, data kept",
       post + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0;x=\"y;z\"\r\n\r\n",
       {200},
       {"/a"},
       "hello"},
      {"absolute-form naming the Host's origin",
       "GET {ABS}/a HTTP/1.1\r\nHost: {H}\r\n\r\n",
       {200},
       {"/a"}},

      // Transfer-Encoding that does not end in chunked: the body would be "none" to us and a
      // request to a backend that reads it otherwise.
      {"TE gzip only (CL.TE via unknown framing)",
       post + "Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n" + kSmuggled,
       {400},
       {}},
      {"TE xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + kSmuggled, {400}, {}},
      {"TE chunked, gzip",
       post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" + kSmuggled,
       {400},
       {}},
      {"TE chunked, gzip with Content-Length",
       post + "Transfer-Encoding: chunked, gzip\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + kSmuggled,
       {400},
       {}},
      {"TE empty", post + "Transfer-Encoding:\r\n\r\n0\r\n\r\n" + kSmuggled, {400}, {}},
      {"TE chunked twice in one list",
       post + "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked_hello,
       {400},
       {}},
      {"TE duplicated",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_hello,
       {400},
       {}},
      {"TE chunked then identity",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + chunked_hello,
       {400},
       {}},
      {"TE identity then chunked (unknown coding)",
       post + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_hello,
       {501},
       {}},
      {"TE name with a space before the colon",
       post + "Transfer-Encoding : chunked\r\n\r\n" + chunked_hello,
       {400},
       {}},
      {"TE value after a vertical tab",
       post +
           "Transfer-Encoding:\x0b"
           "chunked\r\n\r\n" +
           chunked_hello,
       {400},
       {}},
      {"TE folded onto the next line (obs-fold)",
       post + "Transfer-Encoding: gzip\r\n chunked\r\n\r\n" + chunked_hello,
       {400},
       {}},
      {"any folded header (obs-fold)",
       post + "X-Note: a\r\n\tb\r\nContent-Length: 5\r\n\r\nhello",
       {400},
       {}},

      // CL.TE and TE.CL: both framings at once.
      {"CL.TE",
       post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
       {400},
       {}},
      {"TE.CL",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
       {400},
       {}},

      // HTTP/1.0 with Transfer-Encoding: read as chunked, then the connection ends.
      {"HTTP/1.0 with TE closes after the response",
       "POST {T}/a HTTP/1.0\r\nHost: {H}\r\nConnection: keep-alive\r\nTransfer-Encoding: "
       "chunked\r\n\r\n" +
           chunked_hello + kSmuggled,
       {200},
       {"/a"},
       "hello"},

      // Host.
      {"two Host fields",
       "GET {T}/a HTTP/1.1\r\nHost: {H}\r\nHost: evil.example\r\n\r\n",
       {400},
       {}},
      {"absolute-form naming another origin than Host",
       "GET {OTHER}/a HTTP/1.1\r\nHost: {H}\r\n\r\n",
       {400},
       {}},

      // Content-Length forms.
      {"Content-Length +5", post + "Content-Length: +5\r\n\r\nhello", {400}, {}},
      {"Content-Length 0x5", post + "Content-Length: 0x5\r\n\r\nhello", {400}, {}},
      {"Content-Length -1", post + "Content-Length: -1\r\n\r\nhello", {400}, {}},
      {"Content-Length overflows 64 bits",
       post + "Content-Length: 99999999999999999999999\r\n\r\nhello",
       {400},
       {}},
      {"two different Content-Lengths",
       post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
       {400},
       {}},
      {"Content-Length list of different values",
       post + "Content-Length: 5, 6\r\n\r\nhello!",
       {400},
       {}},

      // Chunk framing tricks.
      {"chunk size overflows 64 bits",
       post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n",
       {400},
       {}},
      {"chunk size line ends in bare LF",
       post + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + kSmuggled,
       {400},
       {}},
      {"chunk data longer than its size",
       post + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
       {400},
       {},
       {},
       true},
      {"chunk size with a 0x prefix",
       post + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
       {400},
       {}},
      {"chunk size with a leading space",
       post + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
       {400},
       {}},

      // Line endings and control characters (already refused by Beast: kept that way).
      {"bare LF inside the head", "GET {T}/a HTTP/1.1\r\nHost: {H}\nX-A: b\r\n\r\n", {400}, {}},
      {"NUL in a header value",
       std::string("GET {T}/a HTTP/1.1\r\nHost: {H}\r\nX-A: a") + std::string(1, '\0') +
           "b\r\n\r\n",
       {400},
       {}},
  };
}

void run_corpus(Mode mode) {
  // One proxy and backend for the whole corpus, one fresh client connection per case.
  Bench bench(mode);
  for (const auto& c : corpus()) {
    INFO(to_string(mode) << ": " << c.name);
    const auto got = bench.run(c.raw);
    const auto seen = bench.backend().take();
    INFO("client received:\n" << got);
    CHECK(bench.backend().was_idle());
    CHECK(parse_responses(got) == c.statuses);
    std::string all;
    for (const auto& conn : seen) all += conn;
    INFO("backend received:\n" << all);
    std::vector<SeenRequest> requests;
    for (const auto& conn : seen) {
      const auto stream = parse_strict_stream(conn);
      CHECK(stream.bad == "");
      if (!c.truncated_upstream) CHECK(stream.leftover == 0);
      for (const auto& r : stream.requests) requests.push_back(r);
    }
    std::vector<std::string> targets;
    for (const auto& r : requests) targets.push_back(r.target);
    CHECK(targets == c.targets);
    if (!c.first_body.empty() && !requests.empty()) CHECK(requests.front().body == c.first_body);
  }
}

}  // namespace

TEST_CASE("smuggling corpus: forward mode", "[framing][smuggling]") { run_corpus(Mode::forward); }

TEST_CASE("smuggling corpus: intercept mode", "[framing][smuggling]") {
  run_corpus(Mode::intercept);
}

TEST_CASE("smuggling corpus: reverse mode", "[framing][smuggling]") { run_corpus(Mode::reverse); }

// Issue 12 item 11: a response whose first chunk size overflows, right behind its head, was
// an empty reply (the relay failed before writing anything, and nobody answered).
TEST_CASE("a response whose chunk size overflows is a 502, in every mode", "[framing]") {
  for (const auto mode : {Mode::forward, Mode::intercept, Mode::reverse}) {
    DYNAMIC_SECTION(to_string(mode)) {
      Bench bench(mode, Reply::chunk_overflow);
      const auto got = bench.run("GET {T}/a HTTP/1.1\r\nHost: {H}\r\n\r\n");
      INFO("client received:\n" << got);
      CHECK(parse_responses(got) == std::vector<int>{502});
      CHECK(got.find("abc") == std::string::npos);
      (void)bench.backend().take();
    }
  }
}
