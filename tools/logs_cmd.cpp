// `tlsprobe logs summary|grep|follow|report`: read connection logs (docs/log-format.md).
// The work is in tools/logs/; this file only parses the command line and maps failures to
// exit codes: 0 ok, 1 `grep` matched nothing, 64 usage or unreadable input (one line on stderr
// naming the file).
#include "colour.hpp"
#include "commands.hpp"

#include "logs/filter.hpp"
#include "logs/follow.hpp"
#include "logs/report_html.hpp"
#include "logs/scan.hpp"
#include "logs/summary.hpp"

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

namespace tlsprobe::tools {

namespace {

using namespace tlsprobe::logs;

constexpr const char* kPrefix = "tlsprobe logs: ";
constexpr int exit_no_match = 1;

int fail_usage(const std::string& message) {
  std::cerr << kPrefix << message << "\n";
  return exit_usage;
}

void report_corrupt(const ScanStats& stats) {
  const std::string note = corrupt_note(stats);
  if (!note.empty()) std::cerr << kPrefix << note << "\n";
}

struct CommonTimes {
  std::string at;  // evaluation time for "days left" and relative --since/--until
  Millis now = no_time;
  bool resolve(std::string& error) {
    now = now_ms();
    if (at.empty()) return true;
    auto t = parse_rfc3339_ms(at);
    if (!t) {
      error = "--at: not an RFC 3339 time: " + at;
      return false;
    }
    now = *t;
    return true;
  }
};

struct FilterArgs {
  std::vector<std::string> hosts, codes;
  std::string severity, role, since, until;

  void add_to(CLI::App* app) {
    app->add_option("--host", hosts, "host name glob (domain, address or SNI); repeatable");
    app->add_option("--code", codes, "finding code or glob (chain.*); repeatable");
    app->add_option("--severity", severity, "records with a finding at least this severe")
        ->check(CLI::IsMember({"info", "warning", "error"}));
    app->add_option("--role", role, "direct, edge, origin, nosni, othersni or client");
    app->add_option("--since", since, "RFC 3339 time or a duration ago (2h, 7d)");
    app->add_option("--until", until, "RFC 3339 time or a duration ago (2h, 7d)");
  }

  bool build(Millis now, RecordFilter& filter, std::string& error) const {
    filter.hosts = hosts;
    filter.codes = codes;
    filter.min_severity = severity.empty() ? -1 : severity_rank(severity);
    filter.role = role;
    if (!since.empty()) {
      auto t = parse_time_arg(since, now);
      if (!t) {
        error = "--since: not a time or duration: " + since;
        return false;
      }
      filter.since = *t;
    }
    if (!until.empty()) {
      auto t = parse_time_arg(until, now);
      if (!t) {
        error = "--until: not a time or duration: " + until;
        return false;
      }
      filter.until = *t;
    }
    return true;
  }
};

int run_summary(const std::vector<std::string>& files, const std::string& format, Millis now,
                std::size_t top, const std::string& color) {
  Summarizer summary(top, now);
  ScanStats stats;
  std::string error;
  if (!summarize_files(files, summary, stats, error)) {
    report_corrupt(stats);
    return fail_usage(error);
  }
  const SummaryFormat f = format == "json"  ? SummaryFormat::json
                          : format == "csv" ? SummaryFormat::csv
                                            : SummaryFormat::text;
  const auto hosts = summary.sorted(now);
  write_summary(std::cout, hosts, summary.others(), now, f, colour_enabled(color, STDOUT_FILENO));
  std::cout.flush();
  report_corrupt(stats);
  return exit_ok;
}

int run_grep(const std::vector<std::string>& files, const RecordFilter& filter, bool text,
             bool colour) {
  std::vector<std::unique_ptr<LineReader>> readers;
  std::string error;
  if (!open_all(files, readers, error)) return fail_usage(error);
  ScanStats stats;
  std::uint64_t matched = 0;
  const bool ok =
      scan_readers(readers, stats, error, [&](const RecordView& r, std::string_view line) {
        if (!filter.matches(r)) return;
        ++matched;
        if (text) {
          const std::string out = one_line(r, colour);
          std::fwrite(out.data(), 1, out.size(), stdout);
        } else {
          std::fwrite(line.data(), 1, line.size(), stdout);
        }
        std::fputc('\n', stdout);
      });
  std::fflush(stdout);
  report_corrupt(stats);
  if (!ok) return fail_usage(error);
  return matched > 0 ? exit_ok : exit_no_match;  // like grep: 1 when nothing matched
}

int run_report(const std::vector<std::string>& files, const std::string& html, Millis now,
               std::size_t top) {
  Summarizer summary(top, now);
  ReportInfo info;
  info.files = files;
  info.now = now;
  std::string error;
  if (!summarize_files(files, summary, info.stats, error)) {
    report_corrupt(info.stats);
    return fail_usage(error);
  }
  // Write to a temporary name and rename, so that a reader never sees half a report.
  const std::string tmp = html + ".tmp";
  std::uint64_t hosts_written = 0;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fail_usage(html + ": cannot write");
    const auto hosts = summary.sorted(now);
    info.others = summary.others();
    write_html_report(out, hosts, info);
    hosts_written = hosts.size() + info.others.hosts;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return fail_usage(html + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), html.c_str()) != 0) {
    std::remove(tmp.c_str());
    return fail_usage(html + ": cannot write");
  }
  report_corrupt(info.stats);
  std::cout << "wrote " << html << " (" << hosts_written
            << (hosts_written == 1 ? " host" : " hosts") << ")\n";
  return exit_ok;
}

}  // namespace

int logs_main(int argc, char** argv) {
  CLI::App app{
      "Read tlsprobe connection logs: per-host summaries, filtered records, a followed "
      "log, an HTML report. FILE may be plain, rotated or gzip'ed; - is stdin.",
      "tlsprobe logs"};
  app.require_subcommand(1);
  CommonTimes times;
  std::vector<std::string> files;

  auto* summary = app.add_subcommand("summary", "per-host table: leaves seen, findings, expiry");
  std::string summary_format = "text";
  summary->add_option("--format", summary_format, "text, json or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  summary->add_option("--at", times.at, "evaluation time for days left (RFC 3339; default now)");
  std::size_t top = Summarizer::default_top;
  summary
      ->add_option("--top", top, "list at most N hosts, worst first; the rest in one (others) row")
      ->check(CLI::Range(1, 10000000));
  summary->add_option("FILE", files, "log files")->required();
  std::string color = "auto";
  const auto color_option = [&color](CLI::App* sub) {
    sub->add_option("--color", color, kColorHelp)
        ->check(CLI::IsMember({"auto", "always", "never"}));
  };
  color_option(summary);

  auto* grep = app.add_subcommand("grep", "print the records that match");
  FilterArgs grep_filter;
  grep_filter.add_to(grep);
  std::string grep_format = "json";
  grep->add_option("--format", grep_format, "json (the original lines) or text")
      ->check(CLI::IsMember({"json", "text"}));
  grep->add_option("--at", times.at, "reference time for relative --since/--until");
  grep->add_option("FILE", files, "log files")->required();
  color_option(grep);

  auto* follow = app.add_subcommand("follow", "print new findings as they are logged");
  FilterArgs follow_filter;
  follow_filter.add_to(follow);
  FollowOptions follow_options;
  std::string follow_format = "text";
  follow->add_option("--format", follow_format, "text (one line per finding) or json")
      ->check(CLI::IsMember({"json", "text"}));
  follow->add_option("--interval-ms", follow_options.interval_ms, "poll interval")
      ->check(CLI::Range(FollowOptions::min_interval_ms, FollowOptions::max_interval_ms));
  follow->add_option("--max-seconds", follow_options.max_seconds, "stop after N seconds")
      ->check(CLI::NonNegativeNumber);
  follow->add_flag("--from-start", follow_options.from_start, "also print what is already there");
  follow->add_option("--at", times.at, "reference time for relative --since/--until");
  follow->add_option("FILE", follow_options.path, "the log file")->required();
  color_option(follow);

  auto* report = app.add_subcommand("report", "write a self-contained HTML report");
  std::string html;
  report->add_option("--html", html, "output file")->required();
  report->add_option("--at", times.at, "evaluation time for days left (RFC 3339; default now)");
  report->add_option("--top", top, "itemise at most N hosts, worst first; the rest in one row")
      ->check(CLI::Range(1, 10000000));
  report->add_option("FILE", files, "log files")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << kPrefix << e.what() << " (try `tlsprobe logs --help`)\n";
    return exit_usage;
  }

  std::string error;
  if (!times.resolve(error)) return fail_usage(error);
  if (summary->parsed()) return run_summary(files, summary_format, times.now, top, color);
  if (report->parsed()) return run_report(files, html, times.now, top);
  if (grep->parsed()) {
    RecordFilter filter;
    if (!grep_filter.build(times.now, filter, error)) return fail_usage(error);
    return run_grep(files, filter, grep_format == "text", colour_enabled(color, STDOUT_FILENO));
  }
  if (follow->parsed()) {
    if (!follow_filter.build(times.now, follow_options.filter, error)) return fail_usage(error);
    follow_options.json = follow_format == "json";
    follow_options.colour = colour_enabled(color, STDOUT_FILENO);
    if (follow_options.path == "-") return fail_usage("follow needs a file, not stdin");
    const FollowResult result = follow_file(follow_options, std::cout, std::cerr);
    if (result.corrupt > 0) std::cerr << kPrefix << result.corrupt << " corrupt lines skipped\n";
    return result.exit_code;
  }
  return exit_usage;
}

}  // namespace tlsprobe::tools
