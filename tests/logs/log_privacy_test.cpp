// No secrets in world-readable logs (issue 12 item 8): the record drops a URL's query unless
// asked to keep it, and the connection log creates its files 0640 and directories 0750 (a
// stricter umask narrows both), rotated files included. The end-to-end case (the binary,
// stderr announcements, [log] keep_query) is in tests/proxy/listen_port_zero_test.cpp.
#include "inspect/url_query.hpp"
#include "proxy/observe/connection_log.hpp"
#include "proxy/observe/log_record.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tlsprobe;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using tlsprobe::testsupport::TempDir;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 010000;
  return static_cast<unsigned>(st.st_mode & 07777);
}

// Sets the umask for the scope (the log's files are created on the caller's thread first).
struct Umask {
  mode_t old;
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
};

proxy::ConnectionFacts facts_with_url(std::string url) {
  proxy::ConnectionFacts f;
  f.mode = proxy::LogMode::intercept;
  f.client_address = "127.0.0.1";
  f.destination_domain = "shop.test";
  f.http = proxy::HttpFacts{"GET", std::move(url), 200, "1.1", "curl/8"};
  return f;
}

}  // namespace

TEST_CASE("url query helpers cut at the first ? or #", "[log][privacy]") {
  CHECK(inspect::without_query("https://h/p?code=1&k=2#frag") == "https://h/p");
  CHECK(inspect::without_query("https://h/p#access_token=x") == "https://h/p");
  CHECK(inspect::without_query("/a/b") == "/a/b");
  CHECK(inspect::query_of("https://h/p?code=1#frag") == "code=1");
  CHECK(inspect::query_of("https://h/p?") == "");
  CHECK_FALSE(inspect::query_of("https://h/p#x?y").has_value());
  CHECK_FALSE(inspect::query_of("https://h/p").has_value());
}

TEST_CASE("a record keeps url.full without the query unless keep_query", "[log][privacy]") {
  const auto f = facts_with_url("https://shop.test/cb?code=SECRET&api_key=KEY#tok");
  SECTION("default: no query, no fragment, no url.query") {
    const auto line = proxy::to_json_line(proxy::make_connection_record(f));
    CHECK(line.find("SECRET") == std::string::npos);
    CHECK(line.find("KEY") == std::string::npos);
    const auto rec = json::parse(line).as_object();
    const auto& url = rec.at("url").as_object();
    CHECK(url.at("full").as_string() == "https://shop.test/cb");
    CHECK(url.if_contains("query") == nullptr);
  }
  SECTION("keep_query: url.full as requested and url.query beside it") {
    const auto rec = proxy::make_connection_record(f, proxy::RecordOptions{.keep_query = true});
    const auto& url = rec.at("url").as_object();
    CHECK(url.at("full").as_string() == "https://shop.test/cb?code=SECRET&api_key=KEY#tok");
    CHECK(url.at("query").as_string() == "code=SECRET&api_key=KEY");
  }
  SECTION("a URL without a query is the same either way") {
    const auto g = facts_with_url("https://shop.test/");
    CHECK(proxy::make_connection_record(g).at("url").as_object().at("full").as_string() ==
          "https://shop.test/");
    CHECK(proxy::make_connection_record(g, {.keep_query = true})
              .at("url")
              .as_object()
              .if_contains("query") == nullptr);
  }
}

TEST_CASE("http.version and user_agent.original come from the request, escaped and bounded",
          "[log][ecs]") {
  auto f = facts_with_url("https://shop.test/");
  const std::string hostile = "evil\"agent\n\x1b[31m\xff" + std::string(5000, 'A');
  proxy::note_request(*f.http, 10, hostile);
  const auto line = proxy::to_json_line(proxy::make_connection_record(f));
  CHECK(line.find('\n') == std::string::npos);  // one record, one line
  const auto rec = json::parse(line).as_object();
  CHECK(rec.at("http").as_object().at("version").as_string() == "1.0");
  const auto ua = rec.at("user_agent").as_object().at("original").as_string();
  CHECK(ua.size() <= proxy::kMaxUserAgent + 3);  // a replaced byte may grow to U+FFFD
  CHECK(std::string_view(ua).substr(0, 11) == "evil\"agent\n");
  SECTION("no User-Agent: no user_agent object") {
    proxy::note_request(*f.http, 11, "");
    const auto r = proxy::make_connection_record(f);
    CHECK(r.at("http").as_object().at("version").as_string() == "1.1");
    CHECK(r.if_contains("user_agent") == nullptr);
  }
}

TEST_CASE("the connection log is created 0640 in a 0750 directory, narrower under umask 077",
          "[log][privacy]") {
  for (const mode_t mask : {mode_t{022}, mode_t{027}, mode_t{077}}) {
    CAPTURE(mask);
    TempDir tmp{"logpriv"};
    const auto dir = tmp.path / "a" / "logs";
    const auto file = dir / "connections.jsonl";
    {
      Umask u(mask);
      proxy::ConnectionLogOptions o;
      o.path = file.string();
      proxy::ConnectionLog log(o);
      log.write("{}");
      log.stop();
    }
    CHECK(mode_of(file) == (0640u & ~mask));
    CHECK(mode_of(dir) == (0750u & ~mask));
    CHECK(mode_of(tmp.path / "a") == (0750u & ~mask));
  }
}

TEST_CASE("rotated log files are created 0640 too", "[log][privacy]") {
  TempDir tmp{"logpriv"};
  const auto file = tmp.path / "connections.jsonl";
  Umask u(022);
  proxy::ConnectionLogOptions o;
  o.path = file.string();
  o.max_file_bytes = 1024;
  o.max_files = 2;
  proxy::ConnectionLog log(o);
  for (int i = 0; i < 50; ++i) log.write(std::string(100, 'x'));
  log.stop();
  REQUIRE(fs::exists(tmp.path / "connections.1.jsonl"));
  CHECK(mode_of(file) == 0640u);
  CHECK(mode_of(tmp.path / "connections.1.jsonl") == 0640u);
  CHECK(mode_of(tmp.path / "connections.2.jsonl") == 0640u);
}

TEST_CASE("an existing log file keeps its mode (it is not ours to change)", "[log][privacy]") {
  TempDir tmp{"logpriv"};
  const auto file = tmp.path / "connections.jsonl";
  std::ofstream(file) << "";
  fs::permissions(file, fs::perms(0604));
  {
    proxy::ConnectionLogOptions o;
    o.path = file.string();
    proxy::ConnectionLog log(o);
    log.write("{}");
    log.stop();
  }
  CHECK(mode_of(file) == 0604u);
}
