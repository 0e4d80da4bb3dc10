#include "probe_output.hpp"
#include "probe_clients.hpp"

#include "certs/verify.hpp"
#include "commands.hpp"
#include "proxy/probe/handshake.hpp"
#include "revocation_output.hpp"

#include <boost/json.hpp>
#include <cmath>

#include <cstdio>
#include <sstream>

namespace tlsprobe::tools {

namespace json = boost::json;
using inspect::HandshakeOutcome;

namespace {

json::object cert_json(const certs::Certificate& c) {
  json::object o;
  o["subject"] = c.subject();
  o["issuer"] = c.issuer();
  json::array names;
  for (const auto& n : c.names()) names.emplace_back(n);
  o["names"] = std::move(names);
  o["not_before"] = certs::format_rfc3339(c.not_before());
  o["not_after"] = certs::format_rfc3339(c.not_after());
  o["serial"] = c.serial_hex();
  std::string key = c.key().type + " " + std::to_string(c.key().bits);
  if (!c.key().curve.empty()) key += " " + c.key().curve;
  o["key"] = key;
  o["signature_algorithm"] = c.signature_algorithm();
  o["sha256"] = c.sha256_hex();
  return o;
}

std::optional<certs::VerifyResult> verify(const inspect::HandshakeObservation& h,
                                          const RenderOptions& options) {
  if (h.chain.empty() || !options.trust) return std::nullopt;
  certs::VerifyOptions vo;
  vo.at = options.at;
  vo.host = h.host;
  return certs::verify_chain(h.chain, *options.trust, vo);
}

long days_left(const certs::Certificate& c, certs::TimePoint at) {
  // Whole days, rounded toward zero: the rule of the findings' messages (inspect's
  // days_between), so "1067 days ago" in the chain and "1067 days" in the message agree.
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::days>(c.not_after() - at).count());
}

struct Colours {
  bool on;
  std::string red() const { return on ? "\x1b[31m" : ""; }
  std::string yellow() const { return on ? "\x1b[33m" : ""; }
  std::string green() const { return on ? "\x1b[32m" : ""; }
  std::string bold() const { return on ? "\x1b[1m" : ""; }
  std::string dim() const { return on ? "\x1b[2m" : ""; }
  std::string reset() const { return on ? "\x1b[0m" : ""; }
};

std::string esc(std::string_view s) { return certs::escape_for_display(s); }

}  // namespace

bool main_handshake_ok(const inspect::Observations& obs) {
  return !obs.handshakes.empty() && obs.handshakes.front().outcome == HandshakeOutcome::ok;
}

int exit_status(const ProbeReport& report) {
  // A chain sent before a client-certificate refusal was judged: the findings decide.
  const auto& hs = report.observations.handshakes;
  if (!main_handshake_ok(report.observations) && (hs.empty() || !inspect::chain_judged(hs.front())))
    return exit_unreachable;
  return inspect::has_error(report.findings) ? exit_findings : exit_ok;
}

json::object finding_json(const inspect::Finding& f) {
  json::object o;
  o["code"] = f.code;
  o["severity"] = std::string(inspect::to_string(f.severity));
  o["role"] = std::string(inspect::to_string(f.role));
  o["subject"] = f.subject;
  o["message"] = f.message;
  o["remedy"] = f.remedy;
  json::object ev;
  for (const auto& [k, v] : f.evidence) ev[k] = v;
  o["evidence"] = std::move(ev);
  json::object eq;
  for (const auto& [k, v] : f.equivalents) eq[k] = v;
  o["equivalents"] = std::move(eq);
  o["browser_shows"] = f.browser_shows;
  return o;
}

json::object report_json(const ProbeReport& report, const RenderOptions& options) {
  const auto& obs = report.observations;
  json::object o;
  o["target"] = obs.target;
  o["host"] = obs.host;
  o["port"] = obs.port;
  json::array hs;
  for (const auto& h : obs.handshakes) {
    json::object j;
    j["role"] = std::string(inspect::to_string(h.role));
    j["address"] = h.address;
    j["sni"] = h.sni ? json::value(*h.sni) : json::value(nullptr);
    j["outcome"] = h.outcome == HandshakeOutcome::ok            ? "ok"
                   : h.outcome == HandshakeOutcome::unreachable ? "unreachable"
                                                                : "handshake_failed";
    j["failure"] = std::string(proxy::failure_name(h.failure));
    if (!h.failure_detail.empty()) j["failure_detail"] = h.failure_detail;
    if (!h.alert.empty()) j["alert"] = h.alert;
    j["elapsed_ms"] = std::llround(h.elapsed_ms);  // whole ms: Boost.JSON prints doubles as 4.6E0
    j["tls_version"] = h.tls_version.empty() ? json::value(nullptr) : json::value(h.tls_version);
    j["legacy_handshake"] = h.legacy_handshake;
    if (!h.cipher.empty()) j["cipher"] = h.cipher;
    if (!h.alpn.empty()) j["alpn"] = h.alpn;
    json::array chain;
    for (const auto& c : h.chain) chain.push_back(cert_json(c));
    j["chain"] = std::move(chain);
    if (!h.aia_fetches.empty()) {
      json::array fetches;
      for (const auto& f : h.aia_fetches) {
        json::object fj;
        fj["url"] = f.url;
        fj["for"] = f.for_subject;
        fj["ok"] = f.ok;
        if (!f.error.empty()) fj["error"] = f.error;
        fj["from_cache"] = f.from_cache;
        fj["elapsed_ms"] = std::llround(f.elapsed_ms);
        json::array certs;
        for (const auto& c : f.certs) certs.push_back(cert_json(c));
        fj["certs"] = std::move(certs);
        fetches.push_back(std::move(fj));
      }
      j["aia_fetches"] = std::move(fetches);
      json::array completed;
      for (const auto& c : h.completed_chain) completed.push_back(cert_json(c));
      j["completed_chain"] = std::move(completed);
    }
    if (options.diagnose && (h.role == inspect::Role::direct || h.role == inspect::Role::edge ||
                             h.role == inspect::Role::origin)) {
      if (auto r = revocation_json(h, *options.diagnose)) j["revocation"] = std::move(*r);
      if (auto t = transparency_json(h, *options.diagnose)) j["transparency"] = std::move(*t);
    }
    if (auto v = verify(h, options)) {
      json::object vj;
      vj["ok"] = v->ok;
      vj["openssl_code"] = v->openssl_code;
      vj["openssl_text"] = v->openssl_text;
      j["verify"] = std::move(vj);
    } else {
      j["verify"] = nullptr;
    }
    hs.push_back(std::move(j));
  }
  o["observations"] = std::move(hs);
  if (auto compat = compat_json(obs); !compat.empty()) o["compat"] = std::move(compat);
  json::array fs;
  for (const auto& f : report.findings) fs.push_back(finding_json(f));
  o["findings"] = std::move(fs);
  return o;
}

std::string report_text(const ProbeReport& report, const RenderOptions& options) {
  const Colours col{options.colour};
  const auto& obs = report.observations;
  std::ostringstream out;
  out << col.bold() << esc(obs.target) << col.reset() << "\n";
  for (const auto& h : obs.handshakes) {
    out << "  " << col.bold() << inspect::to_string(h.role) << col.reset() << " handshake to "
        << (h.address.empty() ? "?" : h.address) << ", SNI "
        << (h.sni ? esc(*h.sni) : std::string("(none)"));
    if (h.outcome == HandshakeOutcome::ok) {
      out << ": TLS " << h.tls_version << (h.legacy_handshake ? " (legacy handshake)" : "") << ", "
          << h.cipher << (h.alpn.empty() ? "" : ", ALPN " + h.alpn);
    } else {
      out << ": " << col.red() << "failed (" << proxy::failure_name(h.failure) << ")" << col.reset()
          << " " << esc(h.failure_detail) << (h.alert.empty() ? "" : " [alert " + h.alert + "]");
    }
    out << " in " << static_cast<long>(h.elapsed_ms) << " ms\n";
    // The extra SNI views only matter for what they decide; print their leaf only.
    const bool extra = h.role == inspect::Role::nosni || h.role == inspect::Role::othersni;
    std::string indent = "    ";
    for (std::size_t i = 0; i < h.chain.size(); ++i) {
      const auto& c = h.chain[i];
      const long days = days_left(c, options.at);
      const bool expired = c.not_after() < options.at;  // also within its last day (days == 0)
      const std::string days_colour = expired ? col.red() : days <= 21 ? col.yellow() : col.green();
      out << indent << (i == 0 ? "" : "└─ ") << "[" << i << "] " << esc(c.subject()) << "\n";
      const std::string sub = indent + (i == 0 ? "    " : "       ");
      if (!extra) {
        out << sub << "issuer:    " << esc(c.issuer()) << "\n";
        std::string names;
        for (const auto& n : c.names()) names += (names.empty() ? "" : ", ") + esc(n);
        out << sub << "names:     " << (names.empty() ? "(none)" : names) << "\n";
      }
      out << sub << "not after: " << certs::format_rfc3339(c.not_after()) << " (" << days_colour
          << (expired ? std::to_string(-days) + " days ago" : std::to_string(days) + " days left")
          << col.reset() << ")\n";
      if (!extra) {
        out << sub << "key:       " << c.key().type << " " << c.key().bits
            << (c.key().curve.empty() ? "" : " " + c.key().curve) << ", signature "
            << esc(c.signature_algorithm()) << "\n";
        out << sub << "sha256:    " << c.sha256_hex() << "\n";
      }
      if (extra) break;
      indent += "   ";
    }
    for (const auto& f : h.aia_fetches) {
      out << "    AIA: " << esc(f.url) << " -> ";
      if (f.ok) {
        std::string got;
        for (const auto& c : f.certs) got += (got.empty() ? "" : " + ") + esc(c.subject());
        out << got;
      } else {
        out << col.red() << "failed: " << esc(f.error) << col.reset();
      }
      out << (f.from_cache ? " (cached)"
                           : " in " + std::to_string(std::llround(f.elapsed_ms)) + " ms")
          << "\n";
    }
    if (!h.completed_chain.empty())
      out << "    AIA: the fetched issuer"
          << (h.aia_fetches.size() > 1 ? "s complete" : " completes") << " the chain ("
          << h.completed_chain.size() << " certificates to serve)\n";
    if (!extra) {
      if (auto v = verify(h, options))
        out << "    verify: "
            << (v->ok ? col.green() + "ok"
                      : col.red() + "failed: " + v->openssl_text + " (" +
                            std::to_string(v->openssl_code) + ")")
            << col.reset() << "\n";
      if (options.diagnose) out << revocation_text_lines(h, *options.diagnose, "    ");
    }
  }
  out << clients_text(obs, options.deep);
  if (report.findings.empty()) {
    out << "  " << col.green() << "no findings" << col.reset() << "\n";
  } else {
    out << "  findings:\n";
    for (const auto& f : report.findings) {
      const std::string sev_colour = f.severity == inspect::Severity::error     ? col.red()
                                     : f.severity == inspect::Severity::warning ? col.yellow()
                                                                                : col.dim();
      out << "  " << sev_colour << inspect::to_string(f.severity) << col.reset() << " "
          << col.bold() << f.code << col.reset() << " (" << inspect::to_string(f.role) << ")"
          << (f.browser_shows ? " <- what a browser shows" : "") << "\n";
      out << "      " << esc(f.message) << "\n";
      if (!f.remedy.empty()) out << "      fix: " << esc(f.remedy) << "\n";
    }
  }
  return out.str();
}

std::string summary_line(const ProbeReport& report, const RenderOptions& options) {
  const auto& obs = report.observations;
  const int status = exit_status(report);
  const char* cls = status == exit_ok ? "ok" : status == exit_findings ? "error" : "unreachable";
  std::string days = "-";
  if (!obs.handshakes.empty() && !obs.handshakes.front().chain.empty())
    days = std::to_string(days_left(obs.handshakes.front().chain.front(), options.at)) + "d";
  std::string worst = "no findings";
  if (!report.findings.empty()) {
    // diagnose() sorts worst first; the browser's pick breaks a tie among errors.
    const inspect::Finding* pick = &report.findings.front();
    for (const auto& f : report.findings)
      if (f.severity == pick->severity && f.browser_shows) {
        pick = &f;
        break;
      }
    worst = std::string(inspect::to_string(pick->severity)) + " " + pick->code;
    if (report.findings.size() > 1)
      worst += " (+" + std::to_string(report.findings.size() - 1) + " more)";
  }
  // Padded first, coloured after: escape codes must not count as columns.
  char padded[16];
  std::snprintf(padded, sizeof padded, "%-11s", cls);
  const Colours col{options.colour};
  const std::string cls_shown = (status == exit_ok         ? col.green()
                                 : status == exit_findings ? col.red()
                                                           : col.yellow()) +
                                padded + col.reset();
  char line[512];
  std::snprintf(line, sizeof line, "%-32s %s %6s  %s", esc(obs.target).c_str(), cls_shown.c_str(),
                days.c_str(), worst.c_str());
  return line;
}

void Tally::add(int status) {
  if (status == exit_ok)
    ++ok;
  else if (status == exit_findings)
    ++error;
  else
    ++unreachable;
}

std::string tally_line(const Tally& t, bool interrupted, double seconds) {
  char line[256];
  std::snprintf(line, sizeof line, "tally: %zu of %zu targets, %zu ok, %zu error, %zu unreachable",
                t.finished(), t.total, t.ok, t.error, t.unreachable);
  std::string out = line;
  if (t.finished() < t.total)
    out += ", " + std::to_string(t.total - t.finished()) + " not finished" +
           (interrupted ? " (interrupted)" : "");
  std::snprintf(line, sizeof line, ", %.1f s", seconds);
  return out + line;
}

std::string progress_line(const Tally& t, double seconds) {
  char line[256];
  std::snprintf(line, sizeof line, "%zu/%zu done, %zu unreachable, %zu with errors, %.1f/s",
                t.finished(), t.total, t.unreachable, t.error,
                seconds > 0 ? static_cast<double>(t.finished()) / seconds : 0.0);
  return line;
}

}  // namespace tlsprobe::tools
