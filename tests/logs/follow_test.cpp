// `tlsprobe logs follow`: picks up appended lines, survives rotation and truncation, ends
// by itself with --max-seconds.
#include "logs/follow.hpp"
#include "log_fixtures.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

using namespace tlsprobe;
using namespace tlsprobe::logtest;

namespace {

std::string finding_line(const std::string& host, std::string_view code, int minute) {
  const auto pki = testpki::make_hierarchy({host});
  auto f = tunnel_facts(host, pki.fullchain(), std::chrono::seconds(minute * 60));
  f.findings.push_back(finding(code, inspect::Severity::error, host + ":443"));
  return line_of(f);
}

}  // namespace

TEST_CASE("follow prints findings of appended lines across rotation and truncation", "[follow]") {
  TempDir dir;
  const std::string path = dir.file("connections.jsonl");
  const auto healthy = testpki::make_hierarchy({"ok.example.com"});
  write_lines(path, {finding_line("before.example.com", inspect::codes::cert_expired, 0)});

  logs::FollowOptions options;
  options.path = path;
  options.interval_ms = 20;
  options.max_seconds = 3;
  std::ostringstream out, err;
  logs::FollowResult result;
  std::thread follower([&] { result = logs::follow_file(options, out, err); });

  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // it starts at the end
  write_lines(path, {line_of(tunnel_facts("ok.example.com", healthy.fullchain()))}, true);
  write_lines(path, {finding_line("one.example.com", inspect::codes::chain_incomplete, 1)}, true);
  // A line written in two pieces is read once complete.
  const std::string two = finding_line("two.example.com", inspect::codes::name_mismatch, 2);
  {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << two.substr(0, 40);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  write_lines(path, {two.substr(40)}, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));

  // Rotation: rename away, start a new file.
  fs::rename(path, dir.file("connections.1.jsonl"));
  write_lines(path, {finding_line("three.example.com", inspect::codes::cert_self_signed, 3)});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  write_lines(path, {"garbage line", finding_line("four.example.com", inspect::codes::key_weak, 4)},
              true);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Truncation in place (copytruncate).
  write_lines(path, {finding_line("five.example.com", inspect::codes::sig_weak, 5)});
  follower.join();

  const std::string text = out.str();
  INFO(text);
  CHECK(text.find("before.example.com") == std::string::npos);
  CHECK(text.find("ok.example.com") == std::string::npos);
  CHECK(text.find("one.example.com error chain.incomplete [direct]") != std::string::npos);
  CHECK(text.find("two.example.com error name.mismatch") != std::string::npos);
  CHECK(text.find("three.example.com error cert.self_signed") != std::string::npos);
  CHECK(text.find("four.example.com error key.weak") != std::string::npos);
  CHECK(text.find("five.example.com error sig.weak") != std::string::npos);
  CHECK(result.exit_code == 0);
  CHECK(result.rotations == 1);
  CHECK(result.truncations == 1);
  CHECK(result.corrupt == 1);
  CHECK(result.printed == 5);
}

TEST_CASE("follow through the binary ends after --max-seconds and filters", "[follow]") {
  TempDir dir;
  const std::string path = dir.file("c.jsonl");
  write_lines(path, {finding_line("a.example.com", inspect::codes::cert_expired, 0),
                     finding_line("b.example.com", inspect::codes::chain_incomplete, 1)});
  const auto result = testsupport::run_tlsprobe(
      {"logs", "follow", "--from-start", "--max-seconds", "0.3", "--interval-ms", "50", "--code",
       "chain.*", "--format", "json", path},
      std::chrono::seconds(20));
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("b.example.com") != std::string::npos);
  CHECK(result.out.find("a.example.com") == std::string::npos);
  CHECK(result.elapsed_ms < 10'000);

  const auto missing = testsupport::run_tlsprobe(
      {"logs", "follow", "--max-seconds", "1", dir.file("missing.jsonl")});
  CHECK(missing.exit_code == 64);
  CHECK(missing.err.find("missing.jsonl") != std::string::npos);
}
