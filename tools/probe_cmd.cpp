// `tlsprobe probe`: capture the chain each target presents and say what is wrong with it
// (DESIGN.md sections 4 and 8). The network side is proxy::Prober, the judgement
// inspect::diagnose(); this file parses the command line and prints.
#include "commands.hpp"
#include "probe_output.hpp"

#include "certs/pem.hpp"
#include "inspect/aia_chain.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/probe/probe_target.hpp"
#include "proxy/probe/prober.hpp"

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>

namespace tlsprobe::tools {

namespace {

struct ProbeArgs {
  std::vector<std::string> targets;
  std::string connect, origin;
  std::vector<std::string> edges;
  std::string sni;
  bool no_sni = false;
  std::vector<std::string> ca_files;
  bool no_system_trust = false;
  std::string at;
  int warn_days = 21;
  double timeout_s = 10;
  std::string format = "text";
  std::string targets_file;
  int concurrency = 8;
  bool no_aia = false;
  std::string fullchain_out;
};

// One line on stderr and the usage status: every local input error ends here.
int usage_error(const std::string& what) {
  std::fprintf(stderr, "tlsprobe probe: %s\n", what.c_str());
  return exit_usage;
}

// One target per line; blank lines and '#' comments are skipped.
std::optional<std::vector<std::string>> read_targets_file(const std::string& path,
                                                          std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "--targets " + path + ": cannot read the file";
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

// --fullchain-out: the chain the server should send (leaf, intermediates, no root), from
// what it sent plus the issuers fetched from AIA. A one-line note on stderr either way.
void write_fullchain(const std::string& path, const inspect::Observations& obs,
                     const certs::TrustStore& trust) {
  const inspect::HandshakeObservation* main =
      obs.handshakes.empty() ? nullptr : &obs.handshakes.front();
  if (!main || main->chain.empty()) {
    std::fprintf(stderr, "tlsprobe probe: --fullchain-out: not written: no chain was received\n");
    return;
  }
  const auto chain = inspect::chain_to_serve(*main, trust);
  if (chain.empty()) {
    std::string why = "even with the issuers fetched from AIA the chain reaches no trusted root";
    if (main->aia_fetches.empty())
      why =
          "the chain reaches no trusted root, and nothing was fetched (no http caIssuers URL, "
          "or --no-aia)";
    for (const auto& f : main->aia_fetches)
      if (!f.ok)
        why = "the missing issuer could not be fetched from " + f.url + " (" + f.error + ")";
    std::fprintf(stderr, "tlsprobe probe: --fullchain-out: not written: %s\n",
                 certs::escape_for_display(why).c_str());
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << certs::write_pem(chain);
  out.close();
  if (!out) {
    std::fprintf(stderr, "tlsprobe probe: --fullchain-out %s: cannot write the file\n",
                 path.c_str());
    return;
  }
  const auto fetched = std::count_if(chain.begin(), chain.end(), [&](const certs::Certificate& c) {
    return std::find(main->chain.begin(), main->chain.end(), c) == main->chain.end();
  });
  std::fprintf(stderr,
               "tlsprobe probe: wrote %s: the leaf and %zu intermediate%s (%zu fetched via AIA), "
               "no root\n",
               path.c_str(), chain.size() - 1, chain.size() == 2 ? "" : "s",
               static_cast<std::size_t>(fetched));
}

bool colour_wanted() {
  if (!::isatty(STDOUT_FILENO)) return false;
  if (std::getenv("NO_COLOR")) return false;
  const char* term = std::getenv("TERM");
  return term && std::string(term) != "dumb";
}

}  // namespace

int probe_main(int argc, char** argv) {
  ProbeArgs a;
  CLI::App app{"Capture the certificate chain a TLS server presents and say what is wrong with it",
               "tlsprobe probe"};
  app.add_option("target", a.targets, "host[:port] or https://host[:port]/ (port 443 by default)");
  app.add_option("--connect", a.connect, "dial ADDR:PORT instead of resolving the host");
  app.add_option("--origin", a.origin, "also probe the origin at ADDR:PORT (same SNI) and compare");
  app.add_option("--edge", a.edges,
                 "a further edge ADDR:PORT to compare with the origin (repeatable)");
  auto* sni = app.add_option("--sni", a.sni, "send this SNI instead of the host name");
  auto* no_sni = app.add_flag("--no-sni", a.no_sni, "send no SNI at all");
  sni->excludes(no_sni);
  app.add_option("--ca-file", a.ca_files, "PEM file of extra trust anchors (repeatable)");
  app.add_flag("--no-system-trust", a.no_system_trust, "trust only --ca-file anchors");
  app.add_option("--at", a.at, "evaluate dates at this RFC 3339 time instead of now");
  app.add_option("--warn-days", a.warn_days, "warn when a certificate expires within N days")
      ->check(CLI::Range(0, 3650));
  app.add_option("--timeout", a.timeout_s, "seconds for the whole probe of one target")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_option("--format", a.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--targets", a.targets_file, "file with one target per line");
  app.add_option("--concurrency", a.concurrency, "targets probed at once")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--no-aia", a.no_aia,
               "do not fetch a missing issuer from the certificate's caIssuers URL");
  app.add_option("--fullchain-out", a.fullchain_out,
                 "write the repaired chain (leaf, then intermediates, no root) as PEM for "
                 "nginx ssl_certificate");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes are not ours: every parse problem is a usage error (64).
    std::string what = e.what();
    if (const auto nl = what.find('\n'); nl != std::string::npos) what.erase(nl);
    return usage_error(what + " (see --help)");
  }

  // Local inputs first, so a bad flag never costs a network round.
  std::vector<std::string> texts = a.targets;
  if (!a.targets_file.empty()) {
    std::string error;
    auto more = read_targets_file(a.targets_file, error);
    if (!more) return usage_error(error);
    texts.insert(texts.end(), more->begin(), more->end());
  }
  if (texts.empty()) return usage_error("no target given (TARGET... or --targets FILE)");
  for (const auto* addr : {&a.connect, &a.origin}) {
    if (addr->empty()) continue;
    const auto p = proxy::parse_address_port(*addr);
    if (!p.value) return usage_error(p.error);
  }
  for (const auto& e : a.edges) {
    const auto p = proxy::parse_address_port(e);
    if (!p.value) return usage_error(p.error);
  }
  if (!a.edges.empty() && a.origin.empty()) return usage_error("--edge needs --origin");
  if (!a.fullchain_out.empty() && texts.size() != 1)
    return usage_error("--fullchain-out takes exactly one target");
  certs::TimePoint at =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  if (!a.at.empty()) {
    const auto parsed = certs::parse_rfc3339(a.at);
    if (!parsed)
      return usage_error("--at '" + a.at + "' is not an RFC 3339 time (2026-06-01T00:00:00Z)");
    at = *parsed;
  }
  std::optional<certs::TrustStore> trust;
  try {
    trust.emplace(a.no_system_trust ? certs::SystemTrust::exclude : certs::SystemTrust::include,
                  a.ca_files);
  } catch (const std::exception& e) {
    return usage_error(std::string("--ca-file: ") + e.what());
  }

  std::vector<proxy::ProbeRequest> requests;
  for (const auto& text : texts) {
    const auto parsed = proxy::parse_target(text);
    if (!parsed.value) return usage_error(parsed.error);
    proxy::ProbeRequest r;
    r.target = parsed.value->text();
    r.host = parsed.value->host;
    r.port = parsed.value->port;
    r.connect = a.connect;
    r.origin = a.origin;
    r.edges = a.edges;
    if (a.no_sni) r.sni_mode = proxy::SniMode::none;
    if (!a.sni.empty()) {
      r.sni_mode = proxy::SniMode::name;
      r.sni_name = a.sni;
    }
    r.timeout = std::chrono::milliseconds(static_cast<long>(a.timeout_s * 1000));
    requests.push_back(std::move(r));
  }

  std::vector<inspect::Observations> results;
  try {
    // Two threads: handshakes are CPU-bound and the machine may have more than one core.
    proxy::ProberOptions po;
    if (!a.no_aia) po.aia_trust = *trust;
    results = proxy::probe_all(std::move(requests), static_cast<std::size_t>(a.concurrency), po, 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tlsprobe probe: %s\n", e.what());
    return exit_unreachable;
  }

  inspect::DiagnoseOptions dopts;
  dopts.at = at;
  dopts.warn_days = a.warn_days;
  dopts.trust = &*trust;
  RenderOptions ropts;
  ropts.at = at;
  ropts.trust = &*trust;
  ropts.colour = a.format == "text" && colour_wanted();

  int status = exit_ok;
  boost::json::array docs;
  std::string text;
  if (!a.fullchain_out.empty() && !results.empty())
    write_fullchain(a.fullchain_out, results.front(), *trust);
  for (auto& obs : results) {
    ProbeReport report;
    report.findings = inspect::diagnose(obs, dopts);
    report.observations = std::move(obs);
    status = std::max(status, exit_status(report));
    if (a.format == "json")
      docs.push_back(report_json(report, ropts));
    else
      text += report_text(report, ropts) + "\n";
  }
  if (a.format == "json") {
    if (docs.size() == 1)
      std::cout << boost::json::serialize(docs.front()) << "\n";
    else
      std::cout << boost::json::serialize(docs) << "\n";
  } else {
    std::cout << text;
  }
  std::cout.flush();
  return status;
}

}  // namespace tlsprobe::tools
