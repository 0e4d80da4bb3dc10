#include "proxy/observe/log_record.hpp"

#include "certs/ascii.hpp"
#include "config/address.hpp"
#include "inspect/url_query.hpp"
#include "proxy/observe/fragment_memo.hpp"
#include "proxy/observe/json_text_writer.hpp"
#include "proxy/observe/revocation_log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
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
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace tlsprobe::proxy {

namespace json = boost::json;

namespace {
// The ECS release whose field definitions the records follow (`ecs.version`;
// tests/data/ecs/README.md says which definitions the validation test uses).
constexpr std::string_view ecs_version = "8.11.0";
// observer.version.
constexpr std::string_view observer_version = "0.1.0";
// The record fragments memo's bound: about a thousand certificates.
constexpr std::size_t kFragmentMemoBytes = 4 << 20;
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

// RFC 3339 UTC text ("2026-12-04T16:30:50Z", or with ".544" milliseconds) in a buffer of its
// own: a record has up to eight timestamps, and this keeps them off the heap.
struct TimestampText {
  char text[32];
  std::size_t size = 0;
  std::string_view view() const { return {text, size}; }
};

template <class Duration>
TimestampText timestamp_text(std::chrono::sys_time<Duration> t, bool with_ms = false) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  TimestampText out;
  char* p = out.text;
  const auto digits = [&p](long value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) p[i] = static_cast<char>('0' + value % 10);
    p += width;
  };
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // beyond four digits (no certificate has it): as printf does
    const int n = std::snprintf(
        out.text, sizeof out.text, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count()));
    out.size = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof out.text - 1) : 0;
    return out;
  }
  digits(year, 4);
  *p++ = '-';
  digits(static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  digits(static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  digits(hms.hours().count(), 2);
  *p++ = ':';
  digits(hms.minutes().count(), 2);
  *p++ = ':';
  digits(hms.seconds().count(), 2);
  if (with_ms) {
    *p++ = '.';
    digits(hms.subseconds().count(), 3);
  }
  *p++ = 'Z';
  out.size = static_cast<std::size_t>(p - out.text);
  return out;
}

// The record's parts that are kept as text (certificates, findings, OCSP, SCTs) are
// built as boost::json objects in the `sp` they are given, then serialized once.
using Sp = const json::storage_ptr&;

// `s` as valid UTF-8 in `sp`: built in place for the usual all-ASCII text (names, codes,
// messages), through sanitize_utf8 otherwise.
json::string str(std::string_view s, Sp sp) {
  return is_ascii(s) ? json::string(s, sp) : json::string(sanitize_utf8(s), sp);
}
// An object key as valid UTF-8 (the object copies it into its own storage).
std::string key_text(const std::string& k) { return is_ascii(k) ? k : sanitize_utf8(k); }

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

json::array string_array(const std::vector<std::string>& items, Sp sp) {
  json::array out(sp);
  out.reserve(items.size());
  for (const auto& item : items) out.emplace_back(str(item, sp));
  return out;
}

std::vector<std::string> all_names(const certs::Certificate& cert) {
  std::vector<std::string> names = cert.dns_names();
  names.insert(names.end(), cert.ip_names().begin(), cert.ip_names().end());
  return names;
}

json::object chain_element(const certs::Certificate& cert, Sp sp) {
  json::object o(sp);
  o.reserve(9);
  o.emplace("subject", str(cert.subject(), sp));
  o.emplace("issuer", str(cert.issuer(), sp));
  o.emplace("serial", str(cert.serial_hex(), sp));
  o.emplace("not_before", timestamp_text(cert.not_before()).view());
  o.emplace("not_after", timestamp_text(cert.not_after()).view());
  o.emplace("names", string_array(all_names(cert), sp));
  o.emplace("key", str(describe_key(cert.key()), sp));
  o.emplace("signature_algorithm", str(cert.signature_algorithm(), sp));
  o.emplace("sha256", str(cert.sha256_hex(), sp));
  return o;
}

// Sets o[key] = text unless text is empty (ECS: no empty strings).
void put(json::object& o, std::string_view key, std::string_view text) {
  if (!text.empty()) o.emplace(key, str(text, o.storage()));
}

// ECS normalises the x509 common names to arrays; an absent CN is left out, not [""].
void put_common_name(json::object& o, const std::string& cn) {
  if (!cn.empty()) o.emplace("common_name", json::array({str(cn, o.storage())}, o.storage()));
}

// tls.server.* for the leaf (ECS tls.yml and x509.yml).
json::object server_fields(const certs::Certificate& leaf, Sp sp) {
  json::object x509(sp);
  put(x509, "serial_number", leaf.serial_hex());
  put(x509, "signature_algorithm", leaf.signature_algorithm());
  x509.emplace("not_before", timestamp_text(leaf.not_before()).view());
  x509.emplace("not_after", timestamp_text(leaf.not_after()).view());
  json::object subject(sp);
  put(subject, "distinguished_name", leaf.subject());
  put_common_name(subject, leaf.common_name());
  if (!subject.empty()) x509.emplace("subject", std::move(subject));
  json::object issuer(sp);
  put(issuer, "distinguished_name", leaf.issuer());
  put_common_name(issuer,
                  leaf.x509() ? common_name_of(X509_get_issuer_name(leaf.x509())) : std::string());
  if (!issuer.empty()) x509.emplace("issuer", std::move(issuer));
  put(x509, "public_key_algorithm", leaf.key().type);
  if (leaf.key().bits > 0) x509.emplace("public_key_size", leaf.key().bits);
  put(x509, "public_key_curve", leaf.key().curve);
  const auto names = all_names(leaf);
  if (!names.empty()) x509.emplace("alternative_names", string_array(names, sp));

  json::object server(sp);
  server.emplace("hash", json::object({{"sha256", str(leaf.sha256_hex(), sp)}}, sp));
  server.emplace("not_before", timestamp_text(leaf.not_before()).view());
  server.emplace("not_after", timestamp_text(leaf.not_after()).view());
  put(server, "subject", leaf.subject());
  put(server, "issuer", leaf.issuer());
  server.emplace("x509", std::move(x509));
  return server;
}

json::object string_map(const std::map<std::string, std::string>& m, Sp sp) {
  json::object o(sp);
  for (const auto& [k, v] : m) o[key_text(k)] = str(v, sp);
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

json::value evidence_value(std::string_view key, const std::string& text, Sp sp) {
  if (is_boolean_evidence(key) && (text == "true" || text == "false")) return text == "true";
  if (is_numeric_evidence(key) && !text.empty()) {
    char* end = nullptr;
    const long long whole = std::strtoll(text.c_str(), &end, 10);
    if (end == text.c_str() + text.size()) return whole;
    const double real = std::strtod(text.c_str(), &end);
    if (end == text.c_str() + text.size() && std::isfinite(real)) return real;
  }
  return str(text, sp);
}

json::object evidence_object(const std::map<std::string, std::string>& m, Sp sp) {
  json::object o(sp);
  for (const auto& [k, v] : m) o[key_text(k)] = evidence_value(k, v, sp);
  return o;
}

json::object finding_object(const inspect::Finding& f, Sp sp) {
  json::object o(sp);
  o.reserve(10);
  o.emplace("code", str(f.code, sp));
  o.emplace("severity", inspect::to_string(f.severity));
  o.emplace("role", inspect::to_string(f.role));
  put(o, "subject", f.subject);
  put(o, "message", f.message);
  put(o, "remedy", f.remedy);
  if (!f.evidence.empty()) o.emplace("evidence", evidence_object(f.evidence, sp));
  if (!f.equivalents.empty()) o.emplace("equivalents", string_map(f.equivalents, sp));
  o.emplace("browser_shows", f.browser_shows);
  return o;
}

// Memo keys: a kind letter, then each part with its length in front (append_key_part).
void key_part(std::string& key, std::string_view part) { append_key_part(key, part); }

// What ocsp_log_object (without a staple) and scts_log_object read: the chain (the issuer is
// looked up in it), the staple and the number of SCTs from the TLS extension.
std::string handshake_key(char kind, const inspect::HandshakeObservation& hs) {
  std::string key(1, kind);
  for (const auto& cert : hs.chain) key_part(key, cert.sha256_hex());
  key_part(key, hs.ocsp_staple);
  key_part(key, std::to_string(hs.tls_scts.size()));
  return key;
}

// A certificate's SHA-256 fixes everything chain_element and server_fields write; one without
// DER (none is logged today) is built in place.
std::string certificate_key(char kind, const certs::Certificate& cert) {
  std::string key(1, kind);
  key += cert.sha256_hex();
  return key;
}

// The finding that goes into error.code: the error a browser would show, else the first
// error in the given order. nullptr when there is no error finding.
const inspect::Finding* worst_error(const FindingList& findings) {
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

// `message`: one line a person reads in Discover or the Logs UI.
std::string summary_line(const ConnectionFacts& facts, const inspect::Finding* error,
                         std::string_view destination) {
  // Appended piece by piece into one buffer: every line has one (no temporaries, each the
  // size of a finding's message).
  std::string out;
  out.reserve(128 + (error != nullptr ? error->message.size() : 0) + facts.reason.size());
  const auto add = [&out](auto... parts) { (out.append(std::string_view(parts)), ...); };
  add(to_string(facts.mode));
  if (facts.mode == LogMode::watch) add(" ", inspect::to_string(facts.role));
  if (!facts.client_address.empty()) add(" ", facts.client_address);
  add(" -> ", destination.empty() ? std::string_view("?") : destination);
  if (facts.http && !facts.http->method.empty()) {
    add(" ", facts.http->method);
    if (facts.http->status != 0) add(" ", std::to_string(facts.http->status));
  }
  if (facts.handshake && facts.mode != LogMode::tunnel && !facts.handshake->tls_version.empty())
    add(" TLS ", facts.handshake->tls_version);
  if (facts.tunnel_tls && facts.mode == LogMode::tunnel && !facts.tunnel_tls->version.empty())
    add(" TLS ", facts.tunnel_tls->version);
  if (facts.findings.empty()) {
    add(": no findings");
  } else {
    add(": ", std::to_string(facts.findings.size()),
        facts.findings.size() == 1 ? " finding" : " findings");
    if (error != nullptr) add(", ", error->code, " (", error->message, ")");
  }
  if (!facts.reason.empty()) add("; ", facts.reason);
  return out;
}

}  // namespace

void note_request(HttpFacts& http, unsigned version, std::string_view user_agent) {
  http.version = std::to_string(version / 10) + "." + std::to_string(version % 10);
  // Cut on a byte count; sanitize_utf8 (when the record is made) replaces a split character.
  http.user_agent = std::string(user_agent.substr(0, kMaxUserAgent));
}

std::string format_timestamp_ms(std::chrono::system_clock::time_point t) {
  return std::string(timestamp_text(t, true).view());
}

std::string format_timestamp_s(certs::TimePoint t) { return std::string(timestamp_text(t).view()); }

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

namespace {

// A value that recurs from line to line (a certificate of the side probe's chain, the OCSP
// and SCT parts): its text is built once and memoised under a key that fixes it.
// Without a memo (make_connection_record) it is built in place.
class Fragments {
 public:
  explicit Fragments(FragmentMemo* memo) : memo_(memo) {}
  bool memoised() const { return memo_ != nullptr; }

  // `build()` (a json::object) as text, from the memo under `key()` when it has it.
  template <class Key, class Build>
  void write(JsonTextWriter& w, std::string_view field, const Key& key, const Build& build) {
    if (!memo_) {
      append(w, field, json::serialize(build()));
      return;
    }
    std::string k = key();
    auto text = memo_->find(k);
    if (!text) {
      text = std::make_shared<const std::string>(json::serialize(build()));
      memo_->put(std::move(k), text);
    }
    append(w, field, *text);
  }

 private:
  static void append(JsonTextWriter& w, std::string_view field, std::string_view text) {
    if (field.empty())
      w.raw_element(text);
    else
      w.raw(field, text);
  }
  FragmentMemo* memo_;
};

// Sets key: text unless text is empty (ECS: no empty strings).
void put(JsonTextWriter& w, std::string_view key, std::string_view text) {
  if (!text.empty()) w.string(key, text);
}

// tls.version and tls.version_protocol: "1.2" / "tls"; SSL 3.0 is "3.0" / "ssl" (ECS tls.yml).
void put_version(JsonTextWriter& w, const std::string& version) {
  if (version.empty()) return;
  const bool ssl = version == "ssl3";
  w.string("version", ssl ? std::string_view("3.0") : std::string_view(version));
  w.string("version_protocol", ssl ? "ssl" : "tls");
}

void string_array(JsonTextWriter& w, std::string_view key, const std::vector<std::string>& items) {
  w.begin_array(key);
  for (const auto& item : items) w.element(item);
  w.end_array();
}

void add_unique(std::vector<std::string_view>& a, std::string_view text) {
  if (!text.empty() && std::find(a.begin(), a.end(), text) == a.end()) a.push_back(text);
}

std::string_view iana_cipher_name(const std::string& cipher) {
  const auto& names = iana_cipher_names();
  const auto it = names.find(cipher);
  return it != names.end() ? std::string_view(it->second) : std::string_view(cipher);
}

// The record's text (make_connection_record and connection_record_line), in the order of the
// keys as docs/log-format.md shows them. An object is written only when it has a field: its
// condition is worked out before its key.
void write_record(JsonTextWriter& w, const ConnectionFacts& facts, const RecordOptions& options,
                  Fragments& fragments) {
  using namespace std::chrono;
  w.begin_object();
  w.string("@timestamp", timestamp_text(facts.end, true).view());
  w.begin_object("ecs");
  w.string("version", ecs_version);
  w.end_object();

  const inspect::Finding* error = worst_error(facts.findings);
  const bool handshake_failed =
      facts.handshake && facts.handshake->outcome != inspect::HandshakeOutcome::ok;
  // A tunnel's handshake is tlsprobe's own side probe, not the client's connection: its
  // failure is a finding about the server (probe.unreachable…), not the tunnel's outcome.
  const bool own_handshake = facts.mode != LogMode::tunnel;
  w.begin_object("event");
  w.string("kind", "event");
  w.begin_array("category");
  w.element("network");
  if (facts.http) w.element("web");
  w.end_array();
  w.begin_array("type");
  w.element("connection");
  w.element("end");
  if (facts.handshake || facts.http || facts.tunnel_tls) w.element("protocol");
  w.end_array();
  w.string("outcome", (error != nullptr || (own_handshake && handshake_failed) || facts.failed)
                          ? "failure"
                          : "success");
  const auto duration = duration_cast<nanoseconds>(facts.end - facts.start).count();
  w.number("duration", duration > 0 ? duration : 0);
  if (facts.start.time_since_epoch().count() != 0)
    w.string("start", timestamp_text(facts.start, true).view());
  w.string("end", timestamp_text(facts.end, true).view());
  w.string("module", "tlsprobe");
  w.string("dataset", dataset_of(facts.mode));
  put(w, "reason", facts.reason);
  w.end_object();

  if (error != nullptr) {
    w.begin_object("error");
    w.string("code", error->code);
    put(w, "message", error->message);
    w.end_object();
  }

  // related.*: the addresses, names and hashes of the record, each once.
  const std::optional<std::string>* sni = facts.client_hello ? &facts.client_hello->sni
                                          : facts.handshake  ? &facts.handshake->sni
                                                             : nullptr;
  const bool has_sni = sni && *sni && !(*sni)->empty();
  const bool has_chain = facts.handshake && !facts.handshake->chain.empty();
  std::vector<std::string_view> related_ip, related_hosts, related_hash;
  const bool client_is_ip = is_ip(facts.client_address);
  if (client_is_ip) add_unique(related_ip, facts.client_address);
  add_unique(related_hosts, facts.destination_domain);
  if (is_ip(facts.destination_address)) add_unique(related_ip, facts.destination_address);
  if (has_sni) add_unique(related_hosts, **sni);
  if (has_chain) add_unique(related_hash, facts.handshake->chain.front().sha256_hex());

  // The raw address in .address, duplicated to .ip (ECS client.address); source = client.
  if (!facts.client_address.empty()) {
    for (const std::string_view side : {"source", "client"}) {
      w.begin_object(side);
      w.string("address", facts.client_address);
      if (client_is_ip) w.string("ip", facts.client_address);
      if (facts.client_port != 0) w.number("port", facts.client_port);
      if (facts.bytes_client_to_server) w.number("bytes", *facts.bytes_client_to_server);
      w.end_object();
    }
  }
  // .address: the address dialled, else the name asked for (ECS: the raw address).
  const std::string& dest_raw =
      !facts.destination_address.empty() ? facts.destination_address : facts.destination_domain;
  if (!dest_raw.empty() || facts.destination_port != 0 || facts.bytes_server_to_client) {
    w.begin_object("destination");
    put(w, "domain", facts.destination_domain);
    put(w, "address", dest_raw);
    if (is_ip(facts.destination_address)) w.string("ip", facts.destination_address);
    if (facts.destination_port != 0) w.number("port", facts.destination_port);
    if (facts.bytes_server_to_client) w.number("bytes", *facts.bytes_server_to_client);
    w.end_object();
  }
  std::string dest_text = dest_raw;
  if (!facts.destination_domain.empty()) dest_text = facts.destination_domain;
  // Nothing was dialled (connect refused) and the host is an IP: the URL still names it.
  if (dest_text.empty() && facts.http)
    if (const auto parts = split_url(facts.http->url)) dest_text = parts->domain;
  if (facts.destination_port != 0)
    dest_text = config::format_host_port(dest_text, facts.destination_port);

  // Watch records are tlsprobe's own handshakes: no client connection, no network fields.
  if (!facts.client_address.empty()) {
    w.begin_object("network");
    w.string("transport", "tcp");
    if (facts.http)
      w.string("protocol", "http");
    else if (facts.handshake || facts.client_hello)
      w.string("protocol", "tls");
    if (facts.bytes_client_to_server && facts.bytes_server_to_client)
      w.number("bytes", *facts.bytes_client_to_server + *facts.bytes_server_to_client);
    w.end_object();
  }

  if (facts.http) {
    const auto& http = *facts.http;
    if (!http.method.empty() || http.status != 0 || !http.version.empty()) {
      w.begin_object("http");
      if (!http.method.empty()) {
        w.begin_object("request");
        w.string("method", http.method);
        w.end_object();
      }
      if (http.status != 0) {
        w.begin_object("response");
        w.number("status_code", http.status);
        w.end_object();
      }
      put(w, "version", http.version);
      w.end_object();
    }
    if (!http.user_agent.empty()) {
      w.begin_object("user_agent");
      w.string("original", http.user_agent);
      w.end_object();
    }
    if (!http.url.empty()) {
      const std::string shown = inspect::shown_url(http.url, options.keep_query);
      w.begin_object("url");
      w.string("full", shown);
      w.string("original", shown);
      if (const auto parts = split_url(http.url)) {
        put(w, "scheme", parts->scheme);
        put(w, "domain", parts->domain);
        if (parts->port != 0) w.number("port", parts->port);
        put(w, "path", parts->path);
      }
      if (options.keep_query)
        if (const auto q = inspect::query_of(http.url)) w.string("query", *q);
      w.end_object();
    }
  }

  // tls: the client's connection. SNI as the client sent it (never filled in, DESIGN.md 7).
  const bool tunnel_tls = facts.tunnel_tls && !own_handshake;
  if (has_sni || (facts.handshake && (own_handshake || has_chain)) || tunnel_tls) {
    w.begin_object("tls");
    if (has_sni) {
      w.begin_object("client");
      w.string("server_name", **sni);
      w.end_object();
    }
    if (facts.handshake) {
      const auto& hs = *facts.handshake;
      // Version, cipher, ALPN and "established" describe the handshake tlsprobe made. That
      // is the logged connection's upstream leg in intercept, reverse, watch and probe
      // records; in a tunnel it is the side probe, so there it goes to tlsprobe.probe.*.
      if (own_handshake) {
        put_version(w, hs.tls_version);
        if (!hs.cipher.empty()) w.string("cipher", iana_cipher_name(hs.cipher));
        put(w, "next_protocol", hs.alpn);
        w.boolean("established", hs.outcome == inspect::HandshakeOutcome::ok);
      }
      if (has_chain) {
        const auto& leaf = hs.chain.front();
        const auto build = [&] { return server_fields(leaf, {}); };
        if (fragments.memoised() && !leaf.sha256_hex().empty())
          fragments.write(
              w, "server", [&] { return certificate_key('s', leaf); }, build);
        else
          w.raw("server", json::serialize(build()));
      }
    }
    if (tunnel_tls) {
      // The client's own connection through the tunnel, read from its ServerHello and record
      // headers; the side probe's handshake is under tlsprobe.probe.* below.
      put_version(w, facts.tunnel_tls->version);
      put(w, "cipher", facts.tunnel_tls->cipher);
      w.boolean("established", facts.tunnel_tls->established);
    }
    w.end_object();
  }

  w.begin_object("observer");
  w.string("type", "proxy");
  w.string("vendor", "tlsprobe");
  w.string("product", "tlsprobe");
  w.string("version", observer_version);
  put(w, "hostname", host_name());
  w.end_object();
  if (!related_ip.empty() || !related_hosts.empty() || !related_hash.empty()) {
    w.begin_object("related");
    for (const auto& [key, items] :
         {std::pair{"ip", &related_ip}, std::pair{"hosts", &related_hosts},
          std::pair{"hash", &related_hash}}) {
      if (items->empty()) continue;
      w.begin_array(key);
      for (const auto item : *items) w.element(item);
      w.end_array();
    }
    w.end_object();
  }
  w.string("message", summary_line(facts, error, dest_text));

  w.begin_object("tlsprobe");
  w.number("schema", log_schema_version);
  w.string("mode", to_string(facts.mode));
  w.string("role", inspect::to_string(facts.role));
  if (facts.client_hello) {
    const auto& ch = *facts.client_hello;
    const bool hello_sni = ch.sni && !ch.sni->empty();
    if (hello_sni || !ch.alpn.empty() || !ch.versions.empty() || !ch.connect_host.empty() ||
        !ch.http_host.empty()) {
      w.begin_object("client_hello");
      if (hello_sni) w.string("sni", *ch.sni);
      if (!ch.alpn.empty()) string_array(w, "alpn", ch.alpn);
      if (!ch.versions.empty()) string_array(w, "versions", ch.versions);
      put(w, "connect_host", ch.connect_host);
      put(w, "http_host", ch.http_host);
      w.end_object();
    }
  }
  if (facts.bytes_client_to_server || facts.bytes_server_to_client) {
    w.begin_object("bytes");
    if (facts.bytes_client_to_server) w.number("client_to_server", *facts.bytes_client_to_server);
    if (facts.bytes_server_to_client) w.number("server_to_client", *facts.bytes_server_to_client);
    w.end_object();
  }
  if (facts.probe || (facts.handshake && !own_handshake)) {
    w.begin_object("probe");
    if (facts.probe) {
      w.string("status", to_string(facts.probe->status));
      put(w, "failure", facts.probe->failure);
      w.number("elapsed_ms", std::llround(facts.probe->elapsed_ms));  // whole ms, readable
    }
    if (facts.handshake && !own_handshake) {  // the side probe's own handshake (tunnel)
      const auto& hs = *facts.handshake;
      put(w, "tls_version", hs.tls_version);
      if (!hs.cipher.empty()) w.string("cipher", iana_cipher_name(hs.cipher));
      put(w, "alpn", hs.alpn);
      w.boolean("established", hs.outcome == inspect::HandshakeOutcome::ok);
    }
    w.end_object();
  }
  if (facts.handshake) {
    const auto& hs = *facts.handshake;
    // Certificate facts survive a failed verification: the chain is written whenever seen.
    w.begin_array("chain");
    for (const auto& cert : hs.chain) {
      const auto build = [&] { return chain_element(cert, {}); };
      if (fragments.memoised() && !cert.sha256_hex().empty())
        fragments.write(
            w, "", [&] { return certificate_key('c', cert); }, build);
      else
        w.raw_element(json::serialize(build()));
    }
    w.end_array();
    // Revocation and transparency facts (issue 16): the staple and the SCTs that came.
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(facts.end);
    const auto ocsp = [&] {
      return ocsp_log_object(hs, certs::TimePoint(at.time_since_epoch())).value_or(json::object());
    };
    const auto scts = [&] { return scts_log_object(hs).value_or(json::object()); };
    if (!hs.chain.empty()) {
      // Without a staple or lookups the OCSP part is the leaf's must-staple alone; a staple's
      // verdict depends on the time, so it is checked for each record.
      const bool keyed = fragments.memoised() &&
                         std::none_of(hs.chain.begin(), hs.chain.end(),
                                      [](const auto& c) { return c.sha256_hex().empty(); });
      const bool ocsp_fixed = hs.ocsp_staple.empty() && hs.revocation_lookups.empty();
      if (keyed && ocsp_fixed)
        fragments.write(
            w, "ocsp", [&] { return handshake_key('o', hs); }, ocsp);
      else
        w.raw("ocsp", json::serialize(ocsp()));
      if (keyed)
        fragments.write(
            w, "scts", [&] { return handshake_key('t', hs); }, scts);
      else
        w.raw("scts", json::serialize(scts()));
    }
    if (hs.outcome != inspect::HandshakeOutcome::ok) {
      w.begin_object("handshake_failure");
      w.string("kind", failure_name(hs.failure));
      put(w, "detail", hs.failure_detail);
      put(w, "alert", hs.alert);
      w.end_object();
    }
  }
  if (facts.verify) {
    w.begin_object("verify");
    w.boolean("ok", facts.verify->ok);
    w.number("openssl_code", facts.verify->openssl_code);
    put(w, "openssl_text", facts.verify->openssl_text);
    w.end_object();
  }
  w.begin_array("findings");
  // A finding's text is kept with the (shared) finding itself: built once, not keyed.
  const auto finding_text = [](const inspect::Finding& f) {
    return json::serialize(finding_object(f, {}));
  };
  for (const auto& f : facts.findings.refs())
    w.raw_element(fragments.memoised() ? std::string_view(f->json(finding_text))
                                       : std::string_view(finding_text(f->finding())));
  w.end_array();
  if (facts.compare) {
    w.begin_object("compare");
    put(w, "origin_address", facts.compare->origin_address);
    put(w, "origin_sha256", facts.compare->origin_sha256);
    if (facts.compare->origin_not_before)
      w.string("origin_not_before", timestamp_text(*facts.compare->origin_not_before).view());
    if (facts.compare->origin_not_after)
      w.string("origin_not_after", timestamp_text(*facts.compare->origin_not_after).view());
    w.end_object();
  }
  w.end_object();  // tlsprobe
  w.end_object();  // the record
}

std::string record_text(const ConnectionFacts& facts, const RecordOptions& options,
                        FragmentMemo* memo) {
  std::string line;
  line.reserve(8 * 1024);  // a tunnel's line with its chain is 4-8 KB
  JsonTextWriter writer(line);
  Fragments fragments(memo);
  write_record(writer, facts, options, fragments);
  return line;
}

}  // namespace

json::object make_connection_record(const ConnectionFacts& facts, const RecordOptions& options) {
  // The object is the line read back: one writer, so the object and the line cannot differ.
  return json::parse(record_text(facts, options, nullptr)).as_object();
}

std::string connection_record_line(const ConnectionFacts& facts, const RecordOptions& options) {
  // Certificates recur in every tunnel to a host: their text is memoised (a finding keeps
  // its own, logged_finding.hpp).
  static FragmentMemo memo(kFragmentMemoBytes);
  return record_text(facts, options, &memo);
}

std::string to_json_line(const boost::json::object& record) {
  return boost::json::serialize(record);
}

}  // namespace tlsprobe::proxy
