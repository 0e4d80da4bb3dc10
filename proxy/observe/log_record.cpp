#include "proxy/observe/log_record.hpp"

#include "certs/ascii.hpp"
#include "config/address.hpp"
#include "inspect/url_query.hpp"
#include "proxy/observe/fragment_memo.hpp"
#include "proxy/observe/revocation_log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
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
// The record fragments memo's bound: about a thousand certificates and findings.
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

// The proxy's records are built in a monotonic arena (connection_record_line): objects,
// arrays and strings are bump allocations freed at once with the record, instead of a
// malloc and a free for each of the hundred or so values of a tunnel's line. Everything
// below builds into the `sp` it is given, so nothing is copied between storages.
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

// tls.version and tls.version_protocol: "1.2" / "tls"; SSL 3.0 is "3.0" / "ssl" (ECS tls.yml).
void put_version(json::object& tls, const std::string& version) {
  if (version.empty()) return;
  const bool ssl = version == "ssl3";
  tls.emplace("version", ssl ? json::string("3.0", tls.storage()) : str(version, tls.storage()));
  tls.emplace("version_protocol", ssl ? "ssl" : "tls");
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

// connection_record_line's splicing. A value that recurs from line to line (a certificate of
// the side probe's chain, a finding) goes into the record as a marker string, the byte 0xFF
// and an index; its JSON text, built once and memoised by a key that fixes it, replaces the
// marker's quoted text in the serialized line. No other string in a record can hold 0xFF:
// text from outside goes through str()/key_text, which make it valid UTF-8 (where 0xFF never
// occurs), and the rest is tlsprobe's own ASCII.
class Splicer {
 public:
  explicit Splicer(FragmentMemo& memo) : memo_(memo) {}

  // The marker for `key`'s text; `build(sp)` makes the value when the memo does not have it.
  template <class Build>
  json::value value(std::string key, Sp sp, const Build& build) {
    auto text = memo_.find(key);
    if (!text) {
      text = std::make_shared<const std::string>(json::serialize(build(json::storage_ptr())));
      memo_.put(std::move(key), text);
    }
    char marker[24] = {'\xFF'};
    const auto end = std::to_chars(marker + 1, marker + sizeof marker, texts_.size()).ptr;
    texts_.push_back(std::move(text));
    return json::string(std::string_view(marker, static_cast<std::size_t>(end - marker)), sp);
  }

  // `line` with each "\xFF<index>" (quotes included) replaced by its text.
  std::string splice(std::string line) const {
    if (texts_.empty()) return line;
    std::size_t extra = 0;
    for (const auto& t : texts_) extra += t->size();
    std::string out;
    out.reserve(line.size() + extra);
    std::size_t copied = 0;
    for (std::size_t at = line.find('\xFF'); at != std::string::npos;
         at = line.find('\xFF', at + 1)) {
      std::size_t end = at + 1, index = 0;
      while (end < line.size() && line[end] >= '0' && line[end] <= '9')
        index = index * 10 + static_cast<std::size_t>(line[end++] - '0');
      const bool marker = at > 0 && line[at - 1] == '"' && end > at + 1 && end < line.size() &&
                          line[end] == '"' && index < texts_.size();
      if (!marker) continue;
      out.append(line, copied, at - 1 - copied);
      out += *texts_[index];
      copied = end + 1;
      at = end;
    }
    out.append(line, copied, std::string::npos);
    return out;
  }

 private:
  FragmentMemo& memo_;
  std::vector<FragmentMemo::Text> texts_;
};

// Memo keys: a kind letter, then each part with its length in front (append_key_part).
void key_part(std::string& key, std::string_view part) { append_key_part(key, part); }
void key_part(std::string& key, const std::map<std::string, std::string>& m) {
  key_part(key, std::string_view());  // a map starts with an empty part, then its size
  const std::size_t n = m.size();
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
  for (const auto& [k, v] : m) {
    key_part(key, k);
    key_part(key, v);
  }
}

// Every field finding_object writes.
std::string finding_key(const inspect::Finding& f) {
  std::string key;
  key.reserve(f.message.size() + f.remedy.size() + 1024);
  key += 'f';
  key += static_cast<char>(f.severity);
  key += static_cast<char>(f.role);
  key += f.browser_shows ? '1' : '0';
  key_part(key, f.code);
  key_part(key, f.subject);
  key_part(key, f.message);
  key_part(key, f.remedy);
  key_part(key, f.evidence);
  key_part(key, f.equivalents);
  return key;
}

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
  const auto same = [&](const json::value& v) { return v.is_string() && v.get_string() == text; };
  if (std::none_of(a.begin(), a.end(), same)) a.emplace_back(str(text, a.storage()));
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

// The record in `sp`'s storage (make_connection_record and connection_record_line). With a
// splicer, certificates and findings are markers for their memoised text.
json::object build_record(const ConnectionFacts& facts, const RecordOptions& options, Sp sp,
                          Splicer* splicer = nullptr) {
  using namespace std::chrono;
  json::object record(sp);
  record.reserve(18);  // the most keys a record has: no rehash while it is built
  record.emplace("@timestamp", timestamp_text(facts.end, true).view());
  record.emplace("ecs", json::object({{"version", ecs_version}}, sp));

  const inspect::Finding* error = worst_error(facts.findings);
  const bool handshake_failed =
      facts.handshake && facts.handshake->outcome != inspect::HandshakeOutcome::ok;
  // A tunnel's handshake is tlsprobe's own side probe, not the client's connection: its
  // failure is a finding about the server (probe.unreachable…), not the tunnel's outcome.
  const bool own_handshake = facts.mode != LogMode::tunnel;
  json::object event(sp);
  event.reserve(10);
  event.emplace("kind", "event");
  json::array category({"network"}, sp);
  if (facts.http) category.emplace_back("web");
  event.emplace("category", std::move(category));
  json::array type({"connection", "end"}, sp);
  if (facts.handshake || facts.http || facts.tunnel_tls) type.emplace_back("protocol");
  event.emplace("type", std::move(type));
  event["outcome"] = (error != nullptr || (own_handshake && handshake_failed) || facts.failed)
                         ? "failure"
                         : "success";
  const auto duration = duration_cast<nanoseconds>(facts.end - facts.start).count();
  event.emplace("duration", duration > 0 ? duration : 0);
  if (facts.start.time_since_epoch().count() != 0)
    event.emplace("start", timestamp_text(facts.start, true).view());
  event.emplace("end", timestamp_text(facts.end, true).view());
  event.emplace("module", "tlsprobe");
  event.emplace("dataset", dataset_of(facts.mode));
  put(event, "reason", facts.reason);
  record.emplace("event", std::move(event));

  if (error != nullptr) {
    json::object e({{"code", str(error->code, sp)}}, sp);
    put(e, "message", error->message);
    record.emplace("error", std::move(e));
  }

  // The raw address in .address, duplicated to .ip (ECS client.address); source = client.
  json::array related_ip(sp), related_hosts(sp), related_hash(sp);
  if (!facts.client_address.empty()) {
    json::object client({{"address", str(facts.client_address, sp)}}, sp);
    if (is_ip(facts.client_address)) {
      client.emplace("ip", str(facts.client_address, sp));
      add_unique(related_ip, facts.client_address);
    }
    if (facts.client_port != 0) client.emplace("port", facts.client_port);
    if (facts.bytes_client_to_server) client.emplace("bytes", *facts.bytes_client_to_server);
    record.emplace("source", client);
    record.emplace("client", std::move(client));
  }
  json::object destination(sp);
  if (!facts.destination_domain.empty()) {
    destination.emplace("domain", str(facts.destination_domain, sp));
    add_unique(related_hosts, facts.destination_domain);
  }
  // .address: the address dialled, else the name asked for (ECS: the raw address).
  const std::string& dest_raw =
      !facts.destination_address.empty() ? facts.destination_address : facts.destination_domain;
  put(destination, "address", dest_raw);
  if (is_ip(facts.destination_address)) {
    destination.emplace("ip", str(facts.destination_address, sp));
    add_unique(related_ip, facts.destination_address);
  }
  if (facts.destination_port != 0) destination.emplace("port", facts.destination_port);
  if (facts.bytes_server_to_client) destination.emplace("bytes", *facts.bytes_server_to_client);
  std::string dest_text = dest_raw;
  if (!facts.destination_domain.empty()) dest_text = facts.destination_domain;
  // Nothing was dialled (connect refused) and the host is an IP: the URL still names it.
  if (dest_text.empty() && facts.http)
    if (const auto parts = split_url(facts.http->url)) dest_text = parts->domain;
  if (facts.destination_port != 0)
    dest_text = config::format_host_port(dest_text, facts.destination_port);
  if (!destination.empty()) record.emplace("destination", std::move(destination));

  json::object network({{"transport", "tcp"}}, sp);
  if (facts.http)
    network.emplace("protocol", "http");
  else if (facts.handshake || facts.client_hello)
    network.emplace("protocol", "tls");
  if (facts.bytes_client_to_server && facts.bytes_server_to_client)
    network.emplace("bytes", *facts.bytes_client_to_server + *facts.bytes_server_to_client);
  // Watch records are tlsprobe's own handshakes: no client connection, no network fields.
  if (!facts.client_address.empty()) record.emplace("network", std::move(network));

  if (facts.http) {
    json::object http(sp);
    if (!facts.http->method.empty())
      http.emplace("request", json::object({{"method", str(facts.http->method, sp)}}, sp));
    if (facts.http->status != 0)
      http.emplace("response", json::object({{"status_code", facts.http->status}}, sp));
    put(http, "version", facts.http->version);
    if (!http.empty()) record.emplace("http", std::move(http));
    if (!facts.http->user_agent.empty())
      record.emplace("user_agent",
                     json::object({{"original", str(facts.http->user_agent, sp)}}, sp));
    if (!facts.http->url.empty()) {
      const std::string shown = inspect::shown_url(facts.http->url, options.keep_query);
      json::object url({{"full", str(shown, sp)}, {"original", str(shown, sp)}}, sp);
      if (const auto parts = split_url(facts.http->url)) {
        put(url, "scheme", parts->scheme);
        put(url, "domain", parts->domain);
        if (parts->port != 0) url.emplace("port", parts->port);
        put(url, "path", parts->path);
      }
      if (options.keep_query)
        if (const auto q = inspect::query_of(facts.http->url)) url.emplace("query", str(*q, sp));
      record.emplace("url", std::move(url));
    }
  }

  // tls: the client's connection. SNI as the client sent it (never filled in, DESIGN.md 7).
  json::object tls(sp);
  std::optional<std::string> sni;
  if (facts.client_hello) {
    sni = facts.client_hello->sni;
  } else if (facts.handshake) {
    sni = facts.handshake->sni;
  }
  if (sni && !sni->empty()) {
    tls.emplace("client", json::object({{"server_name", str(*sni, sp)}}, sp));
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
        tls.emplace("cipher", str(it != names.end() ? it->second : hs.cipher, sp));
      }
      put(tls, "next_protocol", hs.alpn);
      tls.emplace("established", hs.outcome == inspect::HandshakeOutcome::ok);
    }
    if (!hs.chain.empty()) {
      const auto& leaf = hs.chain.front();
      tls["server"] = splicer && !leaf.sha256_hex().empty()
                          ? splicer->value(certificate_key('s', leaf), sp,
                                           [&](Sp heap) { return server_fields(leaf, heap); })
                          : json::value(server_fields(leaf, sp));
      add_unique(related_hash, hs.chain.front().sha256_hex());
    }
  }
  if (facts.tunnel_tls && !own_handshake) {
    // The client's own connection through the tunnel, read from its ServerHello and record
    // headers; the side probe's handshake is under tlsprobe.probe.* below.
    put_version(tls, facts.tunnel_tls->version);
    put(tls, "cipher", facts.tunnel_tls->cipher);
    tls.emplace("established", facts.tunnel_tls->established);
  }
  if (!tls.empty()) record.emplace("tls", std::move(tls));

  record["observer"] = json::object({{"type", "proxy"},
                                     {"vendor", "tlsprobe"},
                                     {"product", "tlsprobe"},
                                     {"version", observer_version}},
                                    sp);
  if (!host_name().empty()) record["observer"].as_object()["hostname"] = str(host_name(), sp);
  json::object related(sp);
  if (!related_ip.empty()) related.emplace("ip", std::move(related_ip));
  if (!related_hosts.empty()) related.emplace("hosts", std::move(related_hosts));
  if (!related_hash.empty()) related.emplace("hash", std::move(related_hash));
  if (!related.empty()) record.emplace("related", std::move(related));
  record.emplace("message", str(summary_line(facts, error, dest_text), sp));

  json::object ours(sp);
  ours.reserve(14);
  ours.emplace("schema", log_schema_version);
  ours.emplace("mode", to_string(facts.mode));
  ours.emplace("role", inspect::to_string(facts.role));
  if (facts.client_hello) {
    const auto& ch = *facts.client_hello;
    json::object hello(sp);
    if (ch.sni && !ch.sni->empty()) hello.emplace("sni", str(*ch.sni, sp));
    if (!ch.alpn.empty()) hello.emplace("alpn", string_array(ch.alpn, sp));
    if (!ch.versions.empty()) hello.emplace("versions", string_array(ch.versions, sp));
    put(hello, "connect_host", ch.connect_host);
    put(hello, "http_host", ch.http_host);
    if (!hello.empty()) ours.emplace("client_hello", std::move(hello));
  }
  if (facts.bytes_client_to_server || facts.bytes_server_to_client) {
    json::object bytes(sp);
    if (facts.bytes_client_to_server)
      bytes.emplace("client_to_server", *facts.bytes_client_to_server);
    if (facts.bytes_server_to_client)
      bytes.emplace("server_to_client", *facts.bytes_server_to_client);
    ours.emplace("bytes", std::move(bytes));
  }
  if (facts.probe || (facts.handshake && !own_handshake)) {
    json::object probe(sp);
    if (facts.probe) {
      probe.emplace("status", to_string(facts.probe->status));
      put(probe, "failure", facts.probe->failure);
      probe["elapsed_ms"] = std::llround(facts.probe->elapsed_ms);  // whole ms, readable
    }
    if (facts.handshake && !own_handshake) {  // the side probe's own handshake (tunnel)
      const auto& hs = *facts.handshake;
      put(probe, "tls_version", hs.tls_version);
      if (!hs.cipher.empty()) {
        const auto& names = iana_cipher_names();
        const auto it = names.find(hs.cipher);
        probe.emplace("cipher", str(it != names.end() ? it->second : hs.cipher, sp));
      }
      put(probe, "alpn", hs.alpn);
      probe.emplace("established", hs.outcome == inspect::HandshakeOutcome::ok);
    }
    ours.emplace("probe", std::move(probe));
  }
  if (facts.handshake) {
    const auto& hs = *facts.handshake;
    // Certificate facts survive a failed verification: the chain is written whenever seen.
    json::array chain(sp);
    chain.reserve(hs.chain.size());
    for (const auto& cert : hs.chain)
      chain.emplace_back(splicer && !cert.sha256_hex().empty()
                             ? splicer->value(certificate_key('c', cert), sp,
                                              [&](Sp heap) { return chain_element(cert, heap); })
                             : json::value(chain_element(cert, sp)));
    ours.emplace("chain", std::move(chain));
    // Revocation and transparency facts (issue 16): the staple and the SCTs that came.
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(facts.end);
    const auto ocsp = [&](Sp) {
      return ocsp_log_object(hs, certs::TimePoint(at.time_since_epoch())).value_or(json::object());
    };
    const auto scts = [&](Sp) { return scts_log_object(hs).value_or(json::object()); };
    if (!hs.chain.empty()) {
      // Without a staple or lookups the OCSP part is the leaf's must-staple alone; a staple's
      // verdict depends on the time, so it is checked for each record.
      const bool keyed =
          splicer && std::none_of(hs.chain.begin(), hs.chain.end(),
                                  [](const auto& c) { return c.sha256_hex().empty(); });
      const bool ocsp_fixed = hs.ocsp_staple.empty() && hs.revocation_lookups.empty();
      ours["ocsp"] = keyed && ocsp_fixed ? splicer->value(handshake_key('o', hs), sp, ocsp)
                                         : json::value(ocsp(sp), sp);
      ours["scts"] =
          keyed ? splicer->value(handshake_key('t', hs), sp, scts) : json::value(scts(sp), sp);
    }
    if (hs.outcome != inspect::HandshakeOutcome::ok) {
      json::object failure(sp);
      failure.emplace("kind", failure_name(hs.failure));
      put(failure, "detail", hs.failure_detail);
      put(failure, "alert", hs.alert);
      ours.emplace("handshake_failure", std::move(failure));
    }
  }
  if (facts.verify) {
    json::object verify({{"ok", facts.verify->ok}, {"openssl_code", facts.verify->openssl_code}},
                        sp);
    put(verify, "openssl_text", facts.verify->openssl_text);
    ours.emplace("verify", std::move(verify));
  }
  json::array findings(sp);
  findings.reserve(facts.findings.size());
  for (const auto& f : facts.findings)
    findings.emplace_back(splicer ? splicer->value(finding_key(f), sp,
                                                   [&](Sp heap) { return finding_object(f, heap); })
                                  : json::value(finding_object(f, sp)));
  ours.emplace("findings", std::move(findings));
  if (facts.compare) {
    json::object compare(sp);
    put(compare, "origin_address", facts.compare->origin_address);
    put(compare, "origin_sha256", facts.compare->origin_sha256);
    if (facts.compare->origin_not_before)
      compare.emplace("origin_not_before",
                      timestamp_text(*facts.compare->origin_not_before).view());
    if (facts.compare->origin_not_after)
      compare.emplace("origin_not_after", timestamp_text(*facts.compare->origin_not_after).view());
    ours.emplace("compare", std::move(compare));
  }
  record.emplace("tlsprobe", std::move(ours));
  return record;
}

}  // namespace

json::object make_connection_record(const ConnectionFacts& facts, const RecordOptions& options) {
  return build_record(facts, options, {});
}

std::string connection_record_line(const ConnectionFacts& facts, const RecordOptions& options) {
  // A tunnel's record is about 100 values and 6 KB of text. Built in an arena on the stack,
  // they cost no malloc and no free each, and the arena's trivial deallocation lets the
  // record's destruction skip its walk of the tree. A bigger record continues on the heap.
  alignas(std::max_align_t) unsigned char buffer[24 * 1024];
  json::monotonic_resource arena(buffer, sizeof buffer);
  // Certificates and findings recur in every tunnel to a host: their text is memoised.
  static FragmentMemo memo(kFragmentMemoBytes);
  Splicer splicer(memo);
  const json::object record = build_record(facts, options, &arena, &splicer);
  return splicer.splice(json::serialize(record));
}

std::string to_json_line(const boost::json::object& record) {
  return boost::json::serialize(record);
}

}  // namespace tlsprobe::proxy
