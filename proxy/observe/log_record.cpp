#include "proxy/observe/log_record.hpp"

#include "inspect/url_query.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <cstdio>

namespace tlsprobe::proxy {

namespace json = boost::json;

std::string_view to_string(LogMode m) {
  switch (m) {
    case LogMode::tunnel:
      return "tunnel";
    case LogMode::intercept:
      return "intercept";
    case LogMode::forward:
      return "forward";
    case LogMode::reverse:
      return "reverse";
    case LogMode::watch:
      return "watch";
    case LogMode::probe:
      return "probe";
  }
  return "tunnel";
}

std::string_view to_string(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::ok:
      return "ok";
    case ProbeStatus::cached:
      return "cached";
    case ProbeStatus::failed:
      return "failed";
    case ProbeStatus::pending:
      return "pending";
  }
  return "ok";
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid
// (RFC 3629 section 4: no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

json::string str(std::string_view s) { return json::string(sanitize_utf8(s)); }

// The CN of an X509_NAME, empty when there is none.
std::string common_name_of(const X509_NAME* name) {
  if (name == nullptr) return {};
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);  // allocated by ASN1_STRING_to_UTF8 for us
  return out;
}

// Local names for FailureKind: the same words inspect uses, kept here so that the log format
// does not change if inspect rewords its display text.
std::string_view failure_name(inspect::FailureKind k) {
  using K = inspect::FailureKind;
  switch (k) {
    case K::none:
      return "none";
    case K::dns:
      return "dns";
    case K::refused:
      return "refused";
    case K::connect_timeout:
      return "connect_timeout";
    case K::network:
      return "network";
    case K::handshake_timeout:
      return "handshake_timeout";
    case K::not_tls:
      return "not_tls";
    case K::closed:
      return "closed";
    case K::alert:
      return "alert";
    case K::no_common_version:
      return "no_common_version";
    case K::client_cert_required:
      return "client_cert_required";
    case K::other:
      return "other";
  }
  return "other";
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.emplace_back(str(item));
  return out;
}

std::vector<std::string> all_names(const certs::Certificate& cert) {
  std::vector<std::string> names = cert.dns_names();
  names.insert(names.end(), cert.ip_names().begin(), cert.ip_names().end());
  return names;
}

json::object chain_element(const certs::Certificate& cert) {
  json::object o;
  o["subject"] = str(cert.subject());
  o["issuer"] = str(cert.issuer());
  o["serial"] = str(cert.serial_hex());
  o["not_before"] = format_timestamp_s(cert.not_before());
  o["not_after"] = format_timestamp_s(cert.not_after());
  o["names"] = string_array(all_names(cert));
  o["key"] = str(describe_key(cert.key()));
  o["signature_algorithm"] = str(cert.signature_algorithm());
  o["sha256"] = str(cert.sha256_hex());
  return o;
}

// tls.server.* for the leaf (ECS tls.yml and x509.yml).
json::object server_fields(const certs::Certificate& leaf) {
  json::object x509;
  x509["serial_number"] = str(leaf.serial_hex());
  x509["signature_algorithm"] = str(leaf.signature_algorithm());
  x509["not_before"] = format_timestamp_s(leaf.not_before());
  x509["not_after"] = format_timestamp_s(leaf.not_after());
  json::object subject;
  subject["distinguished_name"] = str(leaf.subject());
  subject["common_name"] = str(leaf.common_name());
  x509["subject"] = std::move(subject);
  json::object issuer;
  issuer["distinguished_name"] = str(leaf.issuer());
  issuer["common_name"] =
      str(leaf.x509() ? common_name_of(X509_get_issuer_name(leaf.x509())) : std::string());
  x509["issuer"] = std::move(issuer);
  x509["public_key_algorithm"] = str(leaf.key().type);
  x509["public_key_size"] = leaf.key().bits;
  if (!leaf.key().curve.empty()) x509["public_key_curve"] = str(leaf.key().curve);
  x509["alternative_names"] = string_array(all_names(leaf));

  json::object server;
  server["hash"] = json::object{{"sha256", str(leaf.sha256_hex())}};
  server["not_before"] = format_timestamp_s(leaf.not_before());
  server["not_after"] = format_timestamp_s(leaf.not_after());
  server["subject"] = str(leaf.subject());
  server["issuer"] = str(leaf.issuer());
  server["x509"] = std::move(x509);
  return server;
}

json::object string_map(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[sanitize_utf8(k)] = str(v);
  return o;
}

json::object finding_object(const inspect::Finding& f) {
  json::object o;
  o["code"] = str(f.code);
  o["severity"] = std::string(inspect::to_string(f.severity));
  o["role"] = std::string(inspect::to_string(f.role));
  o["subject"] = str(f.subject);
  o["message"] = str(f.message);
  o["remedy"] = str(f.remedy);
  o["evidence"] = string_map(f.evidence);
  o["equivalents"] = string_map(f.equivalents);
  o["browser_shows"] = f.browser_shows;
  return o;
}

// The finding that goes into error.code: the error a browser would show, else the first
// error in the given order. nullptr when there is no error finding.
const inspect::Finding* worst_error(const inspect::Findings& findings) {
  const inspect::Finding* first = nullptr;
  for (const auto& f : findings) {
    if (f.severity != inspect::Severity::error) continue;
    if (f.browser_shows) return &f;
    if (first == nullptr) first = &f;
  }
  return first;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string format_timestamp_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::string format_timestamp_s(certs::TimePoint t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string describe_key(const certs::KeyInfo& key) {
  std::string out = key.type.empty() ? std::string("unknown") : key.type;
  if (key.bits > 0) out += " " + std::to_string(key.bits);
  if (!key.curve.empty()) out += " " + key.curve;
  return out;
}

json::object make_connection_record(const ConnectionFacts& facts, const RecordOptions& options) {
  using namespace std::chrono;
  json::object record;
  record["@timestamp"] = format_timestamp_ms(facts.end);

  const inspect::Finding* error = worst_error(facts.findings);
  const bool handshake_failed =
      facts.handshake && facts.handshake->outcome != inspect::HandshakeOutcome::ok;
  json::object event;
  event["kind"] = "event";
  event["category"] = json::array{"network"};
  event["type"] = json::array{"connection"};
  event["outcome"] = (error != nullptr || handshake_failed || facts.failed) ? "failure" : "success";
  const auto duration = duration_cast<nanoseconds>(facts.end - facts.start).count();
  event["duration"] = duration > 0 ? duration : 0;
  if (!facts.reason.empty()) event["reason"] = str(facts.reason);
  record["event"] = std::move(event);

  if (error != nullptr) {
    record["error"] = json::object{{"code", str(error->code)}, {"message", str(error->message)}};
  }

  if (!facts.client_address.empty()) {
    record["client"] =
        json::object{{"address", str(facts.client_address)}, {"port", facts.client_port}};
  }
  json::object destination;
  if (!facts.destination_domain.empty()) destination["domain"] = str(facts.destination_domain);
  if (!facts.destination_address.empty()) destination["address"] = str(facts.destination_address);
  if (facts.destination_port != 0) destination["port"] = facts.destination_port;
  record["destination"] = std::move(destination);

  if (facts.bytes_client_to_server && facts.bytes_server_to_client) {
    record["network"] =
        json::object{{"bytes", *facts.bytes_client_to_server + *facts.bytes_server_to_client}};
  }

  if (facts.http) {
    json::object http;
    if (!facts.http->method.empty())
      http["request"] = json::object{{"method", str(facts.http->method)}};
    if (facts.http->status != 0)
      http["response"] = json::object{{"status_code", facts.http->status}};
    record["http"] = std::move(http);
    if (!facts.http->url.empty()) {
      json::object url{{"full", str(inspect::shown_url(facts.http->url, options.keep_query))}};
      if (options.keep_query)
        if (const auto q = inspect::query_of(facts.http->url)) url["query"] = str(*q);
      record["url"] = std::move(url);
    }
  }

  // tls: the upstream handshake; SNI as the client sent it (never filled in, DESIGN.md 7).
  json::object tls;
  std::optional<std::string> sni;
  if (facts.client_hello) {
    sni = facts.client_hello->sni;
  } else if (facts.handshake) {
    sni = facts.handshake->sni;
  }
  json::object tls_client;
  if (sni) tls_client["server_name"] = str(*sni);
  if (facts.handshake) {
    const auto& hs = *facts.handshake;
    if (!hs.tls_version.empty()) {
      tls["version"] = str(hs.tls_version);
      tls["version_protocol"] = "tls";
    }
    if (!hs.cipher.empty()) tls["cipher"] = str(hs.cipher);
    if (!hs.alpn.empty()) tls["next_protocol"] = str(hs.alpn);
    tls["established"] = hs.outcome == inspect::HandshakeOutcome::ok;
    if (!hs.chain.empty()) tls["server"] = server_fields(hs.chain.front());
  }
  tls["client"] = std::move(tls_client);
  record["tls"] = std::move(tls);

  json::object ours;
  ours["schema"] = log_schema_version;
  ours["mode"] = std::string(to_string(facts.mode));
  ours["role"] = std::string(inspect::to_string(facts.role));
  if (facts.client_hello) {
    const auto& ch = *facts.client_hello;
    json::object hello;
    if (ch.sni) hello["sni"] = str(*ch.sni);
    hello["alpn"] = string_array(ch.alpn);
    hello["versions"] = string_array(ch.versions);
    if (!ch.connect_host.empty()) hello["connect_host"] = str(ch.connect_host);
    if (!ch.http_host.empty()) hello["http_host"] = str(ch.http_host);
    ours["client_hello"] = std::move(hello);
  }
  if (facts.bytes_client_to_server || facts.bytes_server_to_client) {
    json::object bytes;
    if (facts.bytes_client_to_server) bytes["client_to_server"] = *facts.bytes_client_to_server;
    if (facts.bytes_server_to_client) bytes["server_to_client"] = *facts.bytes_server_to_client;
    ours["bytes"] = std::move(bytes);
  }
  if (facts.probe) {
    json::object probe;
    probe["status"] = std::string(to_string(facts.probe->status));
    if (!facts.probe->failure.empty()) probe["failure"] = str(facts.probe->failure);
    probe["elapsed_ms"] = std::llround(facts.probe->elapsed_ms);  // whole ms, readable
    ours["probe"] = std::move(probe);
  }
  if (facts.handshake) {
    const auto& hs = *facts.handshake;
    // Certificate facts survive a failed verification: the chain is written whenever seen.
    json::array chain;
    chain.reserve(hs.chain.size());
    for (const auto& cert : hs.chain) chain.emplace_back(chain_element(cert));
    ours["chain"] = std::move(chain);
    if (hs.outcome != inspect::HandshakeOutcome::ok) {
      json::object failure;
      failure["kind"] = std::string(failure_name(hs.failure));
      if (!hs.failure_detail.empty()) failure["detail"] = str(hs.failure_detail);
      if (!hs.alert.empty()) failure["alert"] = str(hs.alert);
      ours["handshake_failure"] = std::move(failure);
    }
  }
  if (facts.verify) {
    ours["verify"] = json::object{{"ok", facts.verify->ok},
                                  {"openssl_code", facts.verify->openssl_code},
                                  {"openssl_text", str(facts.verify->openssl_text)}};
  }
  json::array findings;
  findings.reserve(facts.findings.size());
  for (const auto& f : facts.findings) findings.emplace_back(finding_object(f));
  ours["findings"] = std::move(findings);
  if (facts.compare) {
    json::object compare;
    compare["origin_address"] = str(facts.compare->origin_address);
    compare["origin_sha256"] = str(facts.compare->origin_sha256);
    if (facts.compare->origin_not_before)
      compare["origin_not_before"] = format_timestamp_s(*facts.compare->origin_not_before);
    if (facts.compare->origin_not_after)
      compare["origin_not_after"] = format_timestamp_s(*facts.compare->origin_not_after);
    ours["compare"] = std::move(compare);
  }
  record["tlsprobe"] = std::move(ours);
  return record;
}

std::string to_json_line(const boost::json::object& record) {
  return boost::json::serialize(record);
}

}  // namespace tlsprobe::proxy
