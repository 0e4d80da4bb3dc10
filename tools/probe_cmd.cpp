// `tlsprobe probe`: capture the chain each target presents and say what is wrong with it
// (DESIGN.md sections 4 and 8). The network side is proxy::Prober, the judgement
// inspect::diagnose(); this file parses the command line and prints.
#include "colour.hpp"
#include "commands.hpp"
#include "probe_flags.hpp"
#include "probe_output.hpp"
#include "probe_stream.hpp"

#include "certs/pem.hpp"
#include "inspect/aia_chain.hpp"
#include "inspect/diagnose.hpp"
#include "proxy/probe/ct_log_list_file.hpp"
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
#include <map>
#include <mutex>
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
  bool clients = false, deep = false;
  std::vector<std::string> resolve;  // curl's HOST:PORT:ADDR
  bool ipv4 = false, ipv6 = false;
  std::string cert_file, key_file;
  std::string starttls;
  std::string color = "auto";
  // Revocation and Certificate Transparency (issue 16).
  bool revocation = false;
  std::vector<std::string> crl_files;
  std::string ct_log_list;
  bool ct_private_roots_as_public = false;  // test switch (hidden)
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
  app.add_option("--format", a.format,
                 "text, json (one object, or an array for several targets), jsonl (one object "
                 "per line as each target finishes) or summary (one line per target and a tally)")
      ->check(CLI::IsMember({"text", "json", "jsonl", "summary"}));
  app.add_option("--targets", a.targets_file, "file with one target per line");
  app.add_option("--concurrency", a.concurrency, "targets probed at once")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--no-aia", a.no_aia,
               "do not fetch a missing issuer from the certificate's caIssuers URL");
  app.add_option("--fullchain-out", a.fullchain_out,
                 "write the repaired chain (leaf, then intermediates, no root) as PEM for "
                 "nginx ssl_certificate");
  app.add_flag("--clients", a.clients,
               "enumerate protocols, suites and groups the server accepts and print which clients "
               "(Chrome, Firefox, Safari, curl, Java 17, Python 3, Android 7) can connect");
  app.add_flag("--deep", a.deep, "as --clients, and list the accepted suites per protocol");
  app.add_option("--resolve", a.resolve,
                 "HOST:PORT:ADDR: dial ADDR for HOST:PORT, like curl (repeatable; IPv6 as [::1])");
  auto* v4 = app.add_flag("-4,--ipv4", a.ipv4, "dial IPv4 addresses only");
  auto* v6 = app.add_flag("-6,--ipv6", a.ipv6, "dial IPv6 addresses only");
  v4->excludes(v6);
  auto* cert = app.add_option("--cert", a.cert_file,
                              "PEM client certificate (then its intermediates) for servers that "
                              "require one");
  auto* key = app.add_option("--key", a.key_file, "PEM private key of --cert");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--starttls", a.starttls,
                 "speak this protocol in plaintext first, then TLS on the same connection "
                 "(default port: smtp 25, imap 143, pop3 110, ftp 21, xmpp 5222, postgres 5432)")
      ->check(CLI::IsMember({"smtp", "imap", "pop3", "ftp", "xmpp", "postgres"}));
  app.add_option("--color", a.color, kColorHelp)->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_flag("--revocation", a.revocation,
               "ask the leaf's OCSP responder (else fetch its CRL) online, 5 s and 64 KiB at most");
  app.add_option("--crl", a.crl_files,
                 "judge the chain against this CRL file, PEM or DER (repeatable)");
  app.add_option("--ct-log-list", a.ct_log_list,
                 "CT log list (Chrome's log_list.json or OpenSSL's ct_log_list.cnf) to verify "
                 "SCTs and apply Chrome's CT policy; none by default");
  app.add_flag("--ct-private-roots-as-public", a.ct_private_roots_as_public,
               "test switch: apply the CT policy to --ca-file roots as to system roots")
      ->group("");
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
  // "address: ..." from the parser becomes "--connect: ...": the flag the user typed.
  const auto flag_error = [](const char* flag, std::string error) {
    if (error.rfind("address", 0) == 0) error.erase(0, 7);
    return usage_error(flag + error);
  };
  const std::pair<const char*, const std::string*> addresses[] = {{"--connect", &a.connect},
                                                                  {"--origin", &a.origin}};
  for (const auto& [flag, addr] : addresses) {
    if (addr->empty()) continue;
    const auto p = proxy::parse_address_port(*addr);
    if (!p.value) return flag_error(flag, p.error);
  }
  for (const auto& e : a.edges) {
    const auto p = proxy::parse_address_port(e);
    if (!p.value) return flag_error("--edge", p.error);
  }
  std::map<std::string, std::string> resolve;
  for (const auto& r : a.resolve) {
    std::string error;
    const auto entry = parse_resolve_flag(r, error);
    if (!entry) return usage_error(error);
    resolve[entry->key] = entry->address;
  }
  std::shared_ptr<const proxy::ClientIdentity> identity;
  if (!a.cert_file.empty()) {
    try {
      identity = proxy::ClientIdentity::load(a.cert_file, a.key_file);
    } catch (const std::exception& e) {
      return usage_error(e.what());
    }
  }
  const auto starttls = a.starttls.empty()
                            ? proxy::StartTls::none
                            : proxy::parse_starttls(a.starttls).value_or(proxy::StartTls::none);
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

  std::vector<certs::Crl> crls;
  for (const auto& path : a.crl_files) {
    try {
      auto more = certs::Crl::read_file(path);
      crls.insert(crls.end(), more.begin(), more.end());
    } catch (const std::exception& e) {
      return usage_error(std::string("--crl: ") + e.what());
    }
  }
  std::shared_ptr<const certs::CtLogList> ct_logs;
  if (!a.ct_log_list.empty()) {
    try {
      ct_logs = std::make_shared<const certs::CtLogList>(proxy::load_ct_log_list(a.ct_log_list));
    } catch (const std::exception& e) {
      return usage_error(std::string("--ct-log-list: ") + e.what());
    }
  }

  std::vector<proxy::ProbeRequest> requests;
  for (const auto& text : texts) {
    const auto parsed = proxy::parse_target(text, proxy::default_port(starttls));
    if (!parsed.value) return usage_error(parsed.error);
    proxy::ProbeRequest r;
    r.target = config::format_host_port(*parsed.value);
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
    if (a.clients || a.deep) {
      r.compat = proxy::CompatChecks::full;
      // The enumeration takes a few dozen handshakes: more time unless --timeout says.
      if (app.count("--timeout") == 0) r.timeout = std::chrono::seconds(30);
    }
    r.family = a.ipv4 ? proxy::IpFamily::v4 : a.ipv6 ? proxy::IpFamily::v6 : proxy::IpFamily::any;
    r.starttls = starttls;
    r.identity = identity;
    requests.push_back(std::move(r));
  }

  inspect::DiagnoseOptions dopts;
  dopts.at = at;
  dopts.warn_days = a.warn_days;
  dopts.trust = &*trust;
  dopts.crls = std::move(crls);
  dopts.ct_logs = ct_logs;
  dopts.ct_private_roots_as_public = a.ct_private_roots_as_public;
  RenderOptions ropts;
  ropts.at = at;
  ropts.trust = &*trust;
  ropts.colour =
      (a.format == "text" || a.format == "summary") && colour_enabled(a.color, STDOUT_FILENO);
  ropts.deep = a.deep;
  ropts.diagnose = &dopts;

  // Everything below the probes runs on io_context threads, so output goes through one
  // mutex: a result is written whole, and the progress line is cleared before it and
  // drawn again after it.
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(Clock::now() - started).count();
  };
  std::mutex out_mutex;
  Tally tally;
  tally.total = requests.size();
  int status = exit_ok;
  std::vector<std::optional<boost::json::object>> docs(a.format == "json" ? requests.size() : 0);
  const bool progress = ::isatty(STDERR_FILENO) != 0;
  Clock::time_point last_draw{};
  const auto clear_progress = [&] {
    if (progress) std::fputs("\r\x1b[K", stderr);
  };
  const auto draw_progress = [&] {  // under out_mutex
    if (!progress) return;
    last_draw = Clock::now();
    std::fprintf(stderr, "\r\x1b[Ktlsprobe probe: %s", progress_line(tally, elapsed()).c_str());
    std::fflush(stderr);
  };
  const auto write_out = [](const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);  // streamed: a pipe reader sees each target as it finishes
  };

  const auto on_result = [&](std::size_t index, inspect::Observations obs) {
    if (index == 0 && !a.fullchain_out.empty()) write_fullchain(a.fullchain_out, obs, *trust);
    ProbeReport report;
    report.findings = inspect::diagnose(obs, dopts);
    report.observations = std::move(obs);
    const int one = exit_status(report);
    std::string rendered;
    if (a.format == "text")
      rendered = report_text(report, ropts) + "\n";
    else if (a.format == "jsonl")
      rendered = boost::json::serialize(report_json(report, ropts)) + "\n";
    else if (a.format == "summary")
      rendered = summary_line(report, ropts) + "\n";
    std::lock_guard lock(out_mutex);
    tally.add(one);
    status = std::max(status, one);
    if (a.format == "json") {
      docs[index] = report_json(report, ropts);
    } else {
      clear_progress();
      write_out(rendered);
    }
    if (Clock::now() - last_draw >= std::chrono::milliseconds(100)) draw_progress();
  };

  StreamOptions so;
  so.concurrency = static_cast<std::size_t>(a.concurrency);
  so.threads = 2;  // handshakes are CPU-bound and the machine may have more than one core
  if (progress)
    so.on_tick = [&] {
      std::lock_guard lock(out_mutex);
      draw_progress();
    };
  if (progress) {
    std::lock_guard lock(out_mutex);
    draw_progress();
  }
  StreamOutcome outcome;
  try {
    proxy::ProberOptions po;
    po.resolve = resolve;
    if (!a.no_aia) po.aia_trust = *trust;
    if (a.revocation) po.revocation_trust = *trust;
    outcome = probe_streaming(std::move(requests), std::move(po), so, on_result);
  } catch (const std::exception& e) {
    clear_progress();
    std::fprintf(stderr, "tlsprobe probe: %s\n", e.what());
    return exit_unreachable;
  }
  clear_progress();
  std::fflush(stderr);

  if (a.format == "json") {
    // One object for one target, an array for several (DESIGN section 4), in target order.
    boost::json::array all;
    for (auto& d : docs)
      if (d) all.push_back(std::move(*d));
    if (tally.total == 1 && all.size() == 1)
      write_out(boost::json::serialize(all.front()) + "\n");
    else if (!all.empty() || tally.total > 1)
      write_out(boost::json::serialize(all) + "\n");
  }
  const std::string tally_text = tally_line(tally, outcome.interrupted, elapsed()) + "\n";
  if (a.format == "summary")
    write_out(tally_text);
  else if (outcome.interrupted || (progress && tally.total > 1))
    std::fputs(("tlsprobe probe: " + tally_text).c_str(), stderr);
  if (outcome.interrupted) return exit_interrupted;
  return status;
}

}  // namespace tlsprobe::tools
