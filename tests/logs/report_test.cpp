// `tlsprobe logs report --html`: a self-contained page with the host table, the expiry
// timeline, findings by code and each host's chain; hostile strings shown as text. Checked
// in headless Chromium when it is installed.
#include "log_fixtures.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace tlsprobe;
using namespace tlsprobe::logtest;
using testsupport::run_tlsprobe;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return {};
}

// Builds a log with a healthy host, a renewed host, a broken host and a hostile certificate.
std::string make_log(const TempDir& dir) {
  std::vector<std::string> lines;
  const auto good = testpki::make_hierarchy({"good.example.com"});
  for (int i = 0; i < 4; ++i)
    lines.push_back(line_of(tunnel_facts("good.example.com", good.fullchain(), i * 60s)));
  const auto soon = testpki::issue(
      good.intermediate,
      spec("soon.example.com", {"soon.example.com"}, testpki::fixed_now() - std::chrono::days(80),
           testpki::fixed_now() + std::chrono::days(10), "tlsprobe test"));
  auto s = tunnel_facts("soon.example.com", {soon.cert, good.intermediate.cert});
  s.findings.push_back(finding(inspect::codes::cert_expiring_soon, inspect::Severity::warning,
                               "soon.example.com:443"));
  lines.push_back(line_of(s));
  const auto evil = testpki::make_self_signed(
      spec("<script>alert(1)</script>", {"evil.example.com"},
           testpki::fixed_now() - std::chrono::days(30),
           testpki::fixed_now() + std::chrono::days(200), "<b>Evil & Co</b>"));
  auto e = tunnel_facts("evil.example.com", {evil.cert});
  auto self_signed = finding(inspect::codes::cert_self_signed, inspect::Severity::error,
                             "<img src=x onerror=alert(1)>");
  self_signed.remedy = "Use a certificate from a public CA <now>";
  e.findings.push_back(self_signed);
  lines.push_back(line_of(e));
  lines.push_back("corrupt {");
  write_lines(dir.file("c.jsonl"), lines);
  return dir.file("c.jsonl");
}

}  // namespace

TEST_CASE("report writes one self-contained HTML file with escaped fields", "[report]") {
  TempDir dir;
  const std::string log = make_log(dir);
  const std::string html_path = dir.file("report.html");
  const auto result = run_tlsprobe({"logs", "report", "--html", html_path, "--at", at_arg(), log});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("1 corrupt line skipped") != std::string::npos);
  const std::string html = read_file(html_path);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  // Self-contained, no script needed.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=\"http") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  // Hostile strings are text.
  // (the DN may carry RFC 4514 backslashes before < and >)
  CHECK(html.find("&lt;script") != std::string::npos);
  CHECK(html.find("alert(1)") != std::string::npos);
  CHECK(html.find("<img src=x") == std::string::npos);
  CHECK(html.find("Use a certificate from a public CA &lt;now&gt;") != std::string::npos);
  CHECK(html.find("<b>Evil") == std::string::npos);
  // The parts.
  CHECK(html.find("id=\"host-table\"") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("id=\"findings-table\"") != std::string::npos);
  CHECK(html.find("cert.expiring_soon") != std::string::npos);
  CHECK(html.find("remedy for cert.expiring_soon") != std::string::npos);
  CHECK(html.find("class=\"chain\"") != std::string::npos);

  // It says where it wrote, and DNs wrap between RDNs, not mid-word.
  CHECK(result.out.find("wrote " + html_path + " (") != std::string::npos);
  CHECK(html.find(",<wbr>") != std::string::npos);
  CHECK(html.find("td.dn{max-width:260px;overflow-wrap:break-word}") != std::string::npos);

  // --top caps the report: the rest is one row and a note.
  const std::string capped_path = dir.file("capped.html");
  const auto capped =
      run_tlsprobe({"logs", "report", "--top", "1", "--html", capped_path, "--at", at_arg(), log});
  REQUIRE(capped.exit_code == 0);
  const std::string capped_html = read_file(capped_path);
  CHECK(capped_html.find("class=\"others-row\"") != std::string::npos);
  CHECK(capped_html.find("Only the 1 most important hosts are itemised") != std::string::npos);

  const auto bad = run_tlsprobe({"logs", "report", log});
  CHECK(bad.exit_code == 64);  // --html is required
  const auto unwritable =
      run_tlsprobe({"logs", "report", "--html", "/nonexistent/dir/r.html", log});
  CHECK(unwritable.exit_code == 64);
}

TEST_CASE("report renders in headless Chromium", "[report][chromium]") {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    WARN("chromium is not installed: skipping the browser check");
    return;
  }
  TempDir dir;
  const std::string log = make_log(dir);
  const std::string html_path = dir.file("report.html");
  REQUIRE(run_tlsprobe({"logs", "report", "--html", html_path, "--at", at_arg(), log}).exit_code ==
          0);
  const std::vector<std::string> common = {chromium,
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--disable-background-networking",
                                           "--disable-component-update",
                                           "--disable-sync",
                                           "--no-first-run",
                                           "--user-data-dir=" + dir.file("profile")};

  auto dump_args = common;
  dump_args.push_back("--dump-dom");
  dump_args.push_back("file://" + html_path);
  const auto dom = testsupport::run_process(dump_args, std::chrono::seconds(90));
  INFO(dom.err);
  REQUIRE(dom.exit_code == 0);
  // The DOM as the browser built it: the table rows, with the hostile CN as text.
  CHECK(dom.out.find("id=\"host-table\"") != std::string::npos);
  CHECK(dom.out.find("evil.example.com") != std::string::npos);
  CHECK(dom.out.find("good.example.com") != std::string::npos);
  CHECK(dom.out.find("soon.example.com") != std::string::npos);
  CHECK(dom.out.find("&lt;script") != std::string::npos);
  CHECK(dom.out.find("<script>alert") == std::string::npos);
  // Worst first: the self-signed host's row comes before the healthy one.
  CHECK(dom.out.find("#host-0\">evil.example.com") != std::string::npos);

  const std::string png = dir.file("report.png");
  auto shot_args = common;
  shot_args.push_back("--screenshot=" + png);
  shot_args.push_back("--window-size=1280,2000");
  shot_args.push_back("file://" + html_path);
  const auto shot = testsupport::run_process(shot_args, std::chrono::seconds(90));
  INFO(shot.err);
  CHECK(shot.exit_code == 0);
  REQUIRE(fs::exists(png));
  CHECK(fs::file_size(png) > 10'000);
  // Keep a copy for people to look at when TLSPROBE_REPORT_PNG names a path.
  if (const char* keep = std::getenv("TLSPROBE_REPORT_PNG")) {
    std::error_code ec;
    fs::copy_file(png, keep, fs::copy_options::overwrite_existing, ec);
  }
}
