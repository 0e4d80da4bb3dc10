#include "proxy/observe/log_record.hpp"

#include "certs/ascii.hpp"
#include "config/address.hpp"
#include "inspect/url_query.hpp"
#include "proxy/observe/revocation_log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>

#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

namespace tlsprobe::proxy {

namespace json = boost::json;

namespace {
// The ECS release whose field definitions the records follow (`ecs.version`;
// tests/data/ecs/README.md says which definitions the validation test uses).
constexpr std::string_view ecs_version = "8.11.0";
// observer.version.
constexpr std::string_view observer_version = "0.1.0";
}  // namespace

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

// Sets o[key] = text unless text is empty (ECS: no empty strings).
void put(json::object& o, std::string_view key, std::string_view text) {
  if (!text.empty()) o[key] = str(text);
}

// ECS normalises the x509 common names to arrays; an absent CN is left out, not [""].
void put_common_name(json::object& o, const std::string& cn) {
  if (!cn.empty()) o["common_name"] = json::array{str(cn)};
}

// tls.version and tls.version_protocol: "1.2" / "tls"; SSL 3.0 is "3.0" / "ssl" (ECS tls.yml).
void put_version(json::object& tls, const std::string& version) {
  if (version.empty()) return;
  const bool ssl = version == "ssl3";
  tls["version"] = ssl ? json::string("3.0") : str(version);
  tls["version_protocol"] = ssl ? "ssl" : "tls";
}

// tls.server.* for the leaf (ECS tls.yml and x509.yml).
json::object server_fields(const certs::Certificate& leaf) {
  json::object x509;
  put(x509, "serial_number", leaf.serial_hex());
  put(x509, "signature_algorithm", leaf.signature_algorithm());
  x509["not_before"] = format_timestamp_s(leaf.not_before());
  x509["not_after"] = format_timestamp_s(leaf.not_after());
  json::object subject;
  put(subject, "distinguished_name", leaf.subject());
  put_common_name(subject, leaf.common_name());
  if (!subject.empty()) x509["subject"] = std::move(subject);
  json::object issuer;
  put(issuer, "distinguished_name", leaf.issuer());
  put_common_name(issuer,
                  leaf.x509() ? common_name_of(X509_get_issuer_name(leaf.x509())) : std::string());
  if (!issuer.empty()) x509["issuer"] = std::move(issuer);
  put(x509, "public_key_algorithm", leaf.key().type);
  if (leaf.key().bits > 0) x509["public_key_size"] = leaf.key().bits;
  put(x509, "public_key_curve", leaf.key().curve);
  const auto names = all_names(leaf);
  if (!names.empty()) x509["alternative_names"] = string_array(names);

  json::object server;
  server["hash"] = json::object{{"sha256", str(leaf.sha256_hex())}};
  server["not_before"] = format_timestamp_s(leaf.not_before());
  server["not_after"] = format_timestamp_s(leaf.not_after());
  put(server, "subject", leaf.subject());
  put(server, "issuer", leaf.issuer());
  server["x509"] = std::move(x509);
  return server;
}

json::object string_map(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[sanitize_utf8(k)] = str(v);
  return o;
}

// Evidence keys whose values are numbers or booleans (docs/log-format.md "Evidence"): written
// as JSON numbers / booleans so they can be compared and summed; every other key stays a
// string. A value that does not parse as its documented type is kept as the string it was.
bool is_numeric_evidence(std::string_view key) {
  static constexpr std::string_view keys[] = {
      "certificates_sent",   "count", "days_expired", "days_until_valid", "depth",
      "elapsed_ms",          "index", "key_bits",     "openssl_code",     "openssl_depth",
      "path_len_constraint", "port",  "status",       "warn_days"};
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}
bool is_boolean_evidence(std::string_view key) {
  return key == "legacy_handshake" || key == "root_sent" || key == "sent";
}

json::value evidence_value(std::string_view key, const std::string& text) {
  if (is_boolean_evidence(key) && (text == "true" || text == "false")) return text == "true";
  if (is_numeric_evidence(key) && !text.empty()) {
    char* end = nullptr;
    const long long whole = std::strtoll(text.c_str(), &end, 10);
    if (end == text.c_str() + text.size()) return whole;
    const double real = std::strtod(text.c_str(), &end);
    if (end == text.c_str() + text.size() && std::isfinite(real)) return real;
  }
  return str(text);
}

json::object evidence_object(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[sanitize_utf8(k)] = evidence_value(k, v);
  return o;
}

json::object finding_object(const inspect::Finding& f) {
  json::object o;
  o["code"] = str(f.code);
  o["severity"] = std::string(inspect::to_string(f.severity));
  o["role"] = std::string(inspect::to_string(f.role));
  put(o, "subject", f.subject);
  put(o, "message", f.message);
  put(o, "remedy", f.remedy);
  if (!f.evidence.empty()) o["evidence"] = evidence_object(f.evidence);
  if (!f.equivalents.empty()) o["equivalents"] = string_map(f.equivalents);
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

// ECS wants IANA cipher suite names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); OpenSSL reports
// its own for TLS <= 1.2 (ECDHE-RSA-AES128-GCM-SHA256). The map comes from OpenSSL itself:
// every cipher it knows, OpenSSL name -> SSL_CIPHER_standard_name. TLS 1.3 names are the
// same in both. Built once, read-only afterwards.
const std::map<std::string, std::string>& iana_cipher_names() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> out;
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()), SSL_CTX_free);
    if (!ctx) return out;
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
    const STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; list != nullptr && i < sk_SSL_CIPHER_num(list); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
      const char* iana = SSL_CIPHER_standard_name(c);
      if (iana != nullptr) out.emplace(SSL_CIPHER_get_name(c), iana);
    }
    return out;
  }();
  return names;
}

// True for an IPv4 or IPv6 literal (no brackets, no port).
bool is_ip(std::string_view text) {
  if (text.empty()) return false;
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// This host's name for observer.hostname, read once.
const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return std::string();
    return std::string(buf);
  }();
  return name;
}

// The parts of an absolute URL ECS keeps in url.*: scheme, domain (IPv6 with brackets, as
// ECS says), port (explicit or the scheme's), path. The proxy has already parsed and
// checked the request target; this only splits the text it logged.
struct UrlParts {
  std::string scheme, domain, path;
  long port = 0;
};
std::optional<UrlParts> split_url(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  UrlParts p;
  p.scheme = certs::ascii_lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  const auto path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);  // never log userinfo
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    p.domain = std::string(authority.substr(0, close + 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port_text = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    p.domain = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (!port_text.empty()) {
    char* end = nullptr;
    const std::string digits(port_text);
    p.port = std::strtol(digits.c_str(), &end, 10);
    if (end != digits.c_str() + digits.size() || p.port <= 0 || p.port > 65535) p.port = 0;
  }
  if (p.port == 0) p.port = p.scheme == "https" ? 443 : p.scheme == "http" ? 80 : 0;
  const auto query_at = path.find_first_of("?#");
  p.path = std::string(path.substr(0, query_at));
  if (p.path.empty()) p.path = "/";
  return p;
}

// event.dataset: which kind of record (a dashboard filters on it).
std::string_view dataset_of(LogMode m) {
  switch (m) {
    case LogMode::watch:
      return "tlsprobe.watch";
    case LogMode::probe:
      return "tlsprobe.probe";
    default:
      return "tlsprobe.connection";
  }
}

void add_unique(json::array& a, const std::string& text) {
  if (text.empty()) return;
  const json::value v = str(text);
  if (std::find(a.begin(), a.end(), v) == a.end()) a.push_back(v);
}

// `message`: one line a person reads in Discover or the Logs UI.
std::string summary_line(const ConnectionFacts& facts, const inspect::Finding* error,
                         std::string_view destination) {
  std::string out = std::string(to_string(facts.mode));
  if (facts.mode == LogMode::watch) out += " " + std::string(inspect::to_string(facts.role));
  if (!facts.client_address.empty()) out += " " + facts.client_address;
  out += " -> ";
  out += destination.empty() ? std::string("?") : std::string(destination);
  if (facts.http && !facts.http->method.empty()) {
    out += " " + facts.http->method;
    if (facts.http->status != 0) out += " " + std::to_string(facts.http->status);
  }
  if (facts.handshake && facts.mode != LogMode::tunnel && !facts.handshake->tls_version.empty())
    out += " TLS " + facts.handshake->tls_version;
  if (facts.tunnel_tls && facts.mode == LogMode::tunnel && !facts.tunnel_tls->version.empty())
    out += " TLS " + facts.tunnel_tls->version;
  if (facts.findings.empty()) {
    out += ": no findings";
  } else {
    out += ": " + std::to_string(facts.findings.size()) +
           (facts.findings.size() == 1 ? " finding" : " findings");
    if (error != nullptr) out += ", " + error->code + " (" + error->message + ")";
  }
  if (!facts.reason.empty()) out += "; " + facts.reason;
  return out;
}

}  // namespace

void note_request(HttpFacts& http, unsigned version, std::string_view user_agent) {
  http.version = std::to_string(version / 10) + "." + std::to_string(version % 10);
  // Cut on a byte count; sanitize_utf8 (when the record is made) replaces a split character.
  http.user_agent = std::string(user_agent.substr(0, kMaxUserAgent));
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
  // Appended piece by piece, not `" " + std::string&&`: GCC 12's -Wrestrict misfires on that
  // in optimized builds (GCC bug 105329).
  if (key.bits > 0) {
    out += ' ';
    out += std::to_string(key.bits);
  }
  if (!key.curve.empty()) {
    out += ' ';
    out += key.curve;
  }
  return out;
}

json::object make_connection_record(const ConnectionFacts& facts, const RecordOptions& options) {
  using namespace std::chrono;
  json::object record;
  record["@timestamp"] = format_timestamp_ms(facts.end);
  record["ecs"] = json::object{{"version", ecs_version}};

  const inspect::Finding* error = worst_error(facts.findings);
  const bool handshake_failed =
      facts.handshake && facts.handshake->outcome != inspect::HandshakeOutcome::ok;
  // A tunnel's handshake is tlsprobe's own side probe, not the client's connection: its
  // failure is a finding about the server (probe.unreachable…), not the tunnel's outcome.
  const bool own_handshake = facts.mode != LogMode::tunnel;
  json::object event;
  event["kind"] = "event";
  json::array category{"network"};
  if (facts.http) category.emplace_back("web");
  event["category"] = std::move(category);
  json::array type{"connection", "end"};
  if (facts.handshake || facts.http || facts.tunnel_tls) type.emplace_back("protocol");
  event["type"] = std::move(type);
  event["outcome"] = (error != nullptr || (own_handshake && handshake_failed) || facts.failed)
                         ? "failure"
                         : "success";
  const auto duration = duration_cast<nanoseconds>(facts.end - facts.start).count();
  event["duration"] = duration > 0 ? duration : 0;
  if (facts.start.time_since_epoch().count() != 0)
    event["start"] = format_timestamp_ms(facts.start);
  event["end"] = format_timestamp_ms(facts.end);
  event["module"] = "tlsprobe";
  event["dataset"] = std::string(dataset_of(facts.mode));
  put(event, "reason", facts.reason);
  record["event"] = std::move(event);

  if (error != nullptr) {
    json::object e{{"code", str(error->code)}};
    put(e, "message", error->message);
    record["error"] = std::move(e);
  }

  // The raw address in .address, duplicated to .ip (ECS client.address); source = client.
  json::array related_ip, related_hosts, related_hash;
  if (!facts.client_address.empty()) {
    json::object client{{"address", str(facts.client_address)}};
    if (is_ip(facts.client_address)) {
      client["ip"] = str(facts.client_address);
      add_unique(related_ip, facts.client_address);
    }
    if (facts.client_port != 0) client["port"] = facts.client_port;
    if (facts.bytes_client_to_server) client["bytes"] = *facts.bytes_client_to_server;
    record["source"] = client;
    record["client"] = std::move(client);
  }
  json::object destination;
  if (!facts.destination_domain.empty()) {
    destination["domain"] = str(facts.destination_domain);
    add_unique(related_hosts, facts.destination_domain);
  }
  // .address: the address dialled, else the name asked for (ECS: the raw address).
  const std::string& dest_raw =
      !facts.destination_address.empty() ? facts.destination_address : facts.destination_domain;
  put(destination, "address", dest_raw);
  if (is_ip(facts.destination_address)) {
    destination["ip"] = str(facts.destination_address);
    add_unique(related_ip, facts.destination_address);
  }
  if (facts.destination_port != 0) destination["port"] = facts.destination_port;
  if (facts.bytes_server_to_client) destination["bytes"] = *facts.bytes_server_to_client;
  std::string dest_text = dest_raw;
  if (!facts.destination_domain.empty()) dest_text = facts.destination_domain;
  // Nothing was dialled (connect refused) and the host is an IP: the URL still names it.
  if (dest_text.empty() && facts.http)
    if (const auto parts = split_url(facts.http->url)) dest_text = parts->domain;
  if (facts.destination_port != 0)
    dest_text = config::format_host_port(dest_text, facts.destination_port);
  if (!destination.empty()) record["destination"] = std::move(destination);

  json::object network{{"transport", "tcp"}};
  if (facts.http)
    network["protocol"] = "http";
  else if (facts.handshake || facts.client_hello)
    network["protocol"] = "tls";
  if (facts.bytes_client_to_server && facts.bytes_server_to_client)
    network["bytes"] = *facts.bytes_client_to_server + *facts.bytes_server_to_client;
  // Watch records are tlsprobe's own handshakes: no client connection, no network fields.
  if (!facts.client_address.empty()) record["network"] = std::move(network);

  if (facts.http) {
    json::object http;
    if (!facts.http->method.empty())
      http["request"] = json::object{{"method", str(facts.http->method)}};
    if (facts.http->status != 0)
      http["response"] = json::object{{"status_code", facts.http->status}};
    put(http, "version", facts.http->version);
    if (!http.empty()) record["http"] = std::move(http);
    if (!facts.http->user_agent.empty())
      record["user_agent"] = json::object{{"original", str(facts.http->user_agent)}};
    if (!facts.http->url.empty()) {
      const std::string shown = inspect::shown_url(facts.http->url, options.keep_query);
      json::object url{{"full", str(shown)}, {"original", str(shown)}};
      if (const auto parts = split_url(facts.http->url)) {
        put(url, "scheme", parts->scheme);
        put(url, "domain", parts->domain);
        if (parts->port != 0) url["port"] = parts->port;
        put(url, "path", parts->path);
      }
      if (options.keep_query)
        if (const auto q = inspect::query_of(facts.http->url)) url["query"] = str(*q);
      record["url"] = std::move(url);
    }
  }

  // tls: the client's connection. SNI as the client sent it (never filled in, DESIGN.md 7).
  json::object tls;
  std::optional<std::string> sni;
  if (facts.client_hello) {
    sni = facts.client_hello->sni;
  } else if (facts.handshake) {
    sni = facts.handshake->sni;
  }
  if (sni && !sni->empty()) {
    tls["client"] = json::object{{"server_name", str(*sni)}};
    add_unique(related_hosts, *sni);
  }
  if (facts.handshake) {
    const auto& hs = *facts.handshake;
    // Version, cipher, ALPN and "established" describe the handshake tlsprobe made. That is
    // the logged connection's upstream leg in intercept, reverse, watch and probe records;
    // in a tunnel it is the side probe, so there it goes to tlsprobe.probe.* below.
    if (own_handshake) {
      put_version(tls, hs.tls_version);
      if (!hs.cipher.empty()) {
        const auto& names = iana_cipher_names();
        const auto it = names.find(hs.cipher);
        tls["cipher"] = str(it != names.end() ? it->second : hs.cipher);
      }
      put(tls, "next_protocol", hs.alpn);
      tls["established"] = hs.outcome == inspect::HandshakeOutcome::ok;
    }
    if (!hs.chain.empty()) {
      tls["server"] = server_fields(hs.chain.front());
      add_unique(related_hash, hs.chain.front().sha256_hex());
    }
  }
  if (facts.tunnel_tls && !own_handshake) {
    // The client's own connection through the tunnel, read from its ServerHello and record
    // headers; the side probe's handshake is under tlsprobe.probe.* below.
    put_version(tls, facts.tunnel_tls->version);
    put(tls, "cipher", facts.tunnel_tls->cipher);
    tls["established"] = facts.tunnel_tls->established;
  }
  if (!tls.empty()) record["tls"] = std::move(tls);

  record["observer"] = json::object{{"type", "proxy"},
                                    {"vendor", "tlsprobe"},
                                    {"product", "tlsprobe"},
                                    {"version", observer_version}};
  if (!host_name().empty()) record["observer"].as_object()["hostname"] = str(host_name());
  json::object related;
  if (!related_ip.empty()) related["ip"] = std::move(related_ip);
  if (!related_hosts.empty()) related["hosts"] = std::move(related_hosts);
  if (!related_hash.empty()) related["hash"] = std::move(related_hash);
  if (!related.empty()) record["related"] = std::move(related);
  record["message"] = str(summary_line(facts, error, dest_text));

  json::object ours;
  ours["schema"] = log_schema_version;
  ours["mode"] = std::string(to_string(facts.mode));
  ours["role"] = std::string(inspect::to_string(facts.role));
  if (facts.client_hello) {
    const auto& ch = *facts.client_hello;
    json::object hello;
    if (ch.sni && !ch.sni->empty()) hello["sni"] = str(*ch.sni);
    if (!ch.alpn.empty()) hello["alpn"] = string_array(ch.alpn);
    if (!ch.versions.empty()) hello["versions"] = string_array(ch.versions);
    put(hello, "connect_host", ch.connect_host);
    put(hello, "http_host", ch.http_host);
    if (!hello.empty()) ours["client_hello"] = std::move(hello);
  }
  if (facts.bytes_client_to_server || facts.bytes_server_to_client) {
    json::object bytes;
    if (facts.bytes_client_to_server) bytes["client_to_server"] = *facts.bytes_client_to_server;
    if (facts.bytes_server_to_client) bytes["server_to_client"] = *facts.bytes_server_to_client;
    ours["bytes"] = std::move(bytes);
  }
  if (facts.probe || (facts.handshake && !own_handshake)) {
    json::object probe;
    if (facts.probe) {
      probe["status"] = std::string(to_string(facts.probe->status));
      put(probe, "failure", facts.probe->failure);
      probe["elapsed_ms"] = std::llround(facts.probe->elapsed_ms);  // whole ms, readable
    }
    if (facts.handshake && !own_handshake) {  // the side probe's own handshake (tunnel)
      const auto& hs = *facts.handshake;
      put(probe, "tls_version", hs.tls_version);
      if (!hs.cipher.empty()) {
        const auto& names = iana_cipher_names();
        const auto it = names.find(hs.cipher);
        probe["cipher"] = str(it != names.end() ? it->second : hs.cipher);
      }
      put(probe, "alpn", hs.alpn);
      probe["established"] = hs.outcome == inspect::HandshakeOutcome::ok;
    }
    ours["probe"] = std::move(probe);
  }
  if (facts.handshake) {
    const auto& hs = *facts.handshake;
    // Certificate facts survive a failed verification: the chain is written whenever seen.
    json::array chain;
    chain.reserve(hs.chain.size());
    for (const auto& cert : hs.chain) chain.emplace_back(chain_element(cert));
    ours["chain"] = std::move(chain);
    // Revocation and transparency facts (issue 16): the staple and the SCTs that came.
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(facts.end);
    if (auto o = ocsp_log_object(hs, certs::TimePoint(at.time_since_epoch())))
      ours["ocsp"] = std::move(*o);
    if (auto s = scts_log_object(hs)) ours["scts"] = std::move(*s);
    if (hs.outcome != inspect::HandshakeOutcome::ok) {
      json::object failure;
      failure["kind"] = std::string(failure_name(hs.failure));
      put(failure, "detail", hs.failure_detail);
      put(failure, "alert", hs.alert);
      ours["handshake_failure"] = std::move(failure);
    }
  }
  if (facts.verify) {
    json::object verify{{"ok", facts.verify->ok}, {"openssl_code", facts.verify->openssl_code}};
    put(verify, "openssl_text", facts.verify->openssl_text);
    ours["verify"] = std::move(verify);
  }
  json::array findings;
  findings.reserve(facts.findings.size());
  for (const auto& f : facts.findings) findings.emplace_back(finding_object(f));
  ours["findings"] = std::move(findings);
  if (facts.compare) {
    json::object compare;
    put(compare, "origin_address", facts.compare->origin_address);
    put(compare, "origin_sha256", facts.compare->origin_sha256);
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
