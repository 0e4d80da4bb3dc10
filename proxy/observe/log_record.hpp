// One connection-log record (DESIGN.md section 6, schema in docs/log-format.md): pure
// functions that turn what a connection or a probe saw into one ECS-shaped JSON object.
// The proxy sessions fill a ConnectionFacts and the connection log writes
// connection_record_line() of it; the watcher keeps make_connection_record(), the same
// record as an object.
//
// Certificate fields are attacker-controlled: every string copied from a certificate,
// a ClientHello or a finding is made valid UTF-8 first (invalid bytes become U+FFFD), so
// the serialized line is always valid JSON whatever the input.
#pragma once

#include "proxy/observe/logged_finding.hpp"
#include "proxy/observe/shared_value.hpp"

#include "proxy/observe/utf8.hpp"

#include "inspect/finding.hpp"
#include "inspect/observation.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

// Bumped only when a field changes meaning or type; adding fields keeps the number.
// 2 (issue 17): x509 common names are arrays, finding evidence values are typed (numbers are
// JSON numbers), and a tunnel's tls.version/cipher/established are the client's connection
// (read from its ServerHello) where they were the side probe's (now tlsprobe.probe.*).
inline constexpr int log_schema_version = 2;

// How the connection reached tlsprobe (`tlsprobe.mode`).
enum class LogMode { tunnel, intercept, forward, reverse, watch, probe };
std::string_view to_string(LogMode m);

// State of the side probe attached to a connection (`tlsprobe.probe.status`).
enum class ProbeStatus { ok, cached, failed, pending };
std::string_view to_string(ProbeStatus s);

struct ProbeFacts {
  ProbeStatus status = ProbeStatus::ok;
  std::string failure;  // why the probe failed, empty otherwise
  double elapsed_ms = 0;
};

// Result of verifying the upstream chain (`tlsprobe.verify`).
struct VerifyFacts {
  bool ok = false;
  int openssl_code = 0;  // X509_V_ERR_* (0 = ok)
  std::string openssl_text;
};

// Edge records: what the origin presented, for comparison (`tlsprobe.compare`).
struct CompareFacts {
  std::string origin_address;  // "ip:port"
  std::string origin_sha256;   // uppercase hex of the origin leaf's DER
  std::optional<certs::TimePoint> origin_not_before, origin_not_after;
};

// HTTP facts seen inside an intercepted or reverse-proxied connection (last exchange).
struct HttpFacts {
  std::string method;
  std::string url;      // absolute URL as requested (query redacted by make_connection_record)
  int status = 0;       // 0 = no response
  std::string version;  // "1.1", "1.0" (`http.version`)
  std::string
      user_agent;  // as the client sent it, at most kMaxUserAgent bytes (`user_agent.original`)
};

// A tunnel's view of the client's own TLS connection, which tlsprobe relays without
// terminating (`tls.version`, `tls.cipher`, `tls.established` of a tunnel record): read from
// the server's cleartext ServerHello and the record headers (proxy/tls/tunnel_tls_watch.hpp).
struct TunnelTls {
  std::string version;       // "1.3", "1.2", …; empty when no ServerHello was read
  std::string cipher;        // IANA name; empty when no ServerHello was read
  bool established = false;  // application data went both ways after the handshake
};

// A User-Agent longer than this is cut (the header limit allows 32 KiB; a log line should not).
inline constexpr std::size_t kMaxUserAgent = 1024;

// Fills the request side of `http` from a request head's version (Beast's 10/11) and User-Agent.
void note_request(HttpFacts& http, unsigned version, std::string_view user_agent);

// Everything one log record says. Optional parts are left out of the record when unset.
struct ConnectionFacts {
  std::chrono::system_clock::time_point start{}, end{};  // end = "@timestamp"
  LogMode mode = LogMode::tunnel;
  inspect::Role role = inspect::Role::direct;  // direct, edge or origin

  std::string client_address;  // empty for watch/probe records
  std::uint16_t client_port = 0;
  std::string destination_domain;   // host name asked for; empty when only an address is known
  std::string destination_address;  // IP actually dialled (no port)
  std::uint16_t destination_port = 0;

  std::optional<std::uint64_t> bytes_client_to_server, bytes_server_to_client;

  std::optional<inspect::ClientHelloObservation> client_hello;
  // Tunnel records whose client spoke TLS: the client's connection (`tls.*`).
  std::optional<TunnelTls> tunnel_tls;
  // The upstream handshake (tunnel: the side probe's, shared with its cache entry), with
  // its chain as presented.
  SharedValue<inspect::HandshakeObservation> handshake;
  std::optional<VerifyFacts> verify;
  std::optional<ProbeFacts> probe;
  FindingList findings;  // shared with the side probe's cache entry where they come from it
  std::optional<CompareFacts> compare;
  std::optional<HttpFacts> http;
  std::string reason;  // event.reason: why the connection ended, free text, optional
  // The proxy refused the connection or could not serve it (upstream connect failure, an
  // error response such as 502/504): event.outcome "failure" (DESIGN.md section 7).
  bool failed = false;
};

// How much of what was seen a record keeps.
struct RecordOptions {
  // false (default): `url.full` without its query or fragment and no `url.query` (queries
  // carry OAuth codes, API keys, session ids: issue 12 item 8); true ([log] keep_query):
  // `url.full` as requested and `url.query` beside it.
  bool keep_query = false;
};

// Builds the record. Pure: same facts, same object. The object is the line's text read back
// (one writer for both), for callers that keep or edit records; the proxy writes lines.
boost::json::object make_connection_record(const ConnectionFacts& facts,
                                           const RecordOptions& options = {});

// One line of JSON without the trailing newline.
std::string to_json_line(const boost::json::object& record);

// to_json_line(make_connection_record(facts, options)), the same text, written for the hot
// path (every connection's line): straight to text (proxy/observe/json_text_writer.hpp),
// with certificate, OCSP and SCT parts from a memo (fragment_memo.hpp) and each finding's
// text kept with the finding (logged_finding.hpp).
std::string connection_record_line(const ConnectionFacts& facts, const RecordOptions& options = {});

// Helpers, exposed for tests and for other writers of tlsprobe JSON.

// "2026-06-01T12:00:00.123Z": RFC 3339, UTC, milliseconds.
std::string format_timestamp_ms(std::chrono::system_clock::time_point t);
// "2026-06-01T12:00:00Z": RFC 3339, UTC, seconds (certificate dates).
std::string format_timestamp_s(certs::TimePoint t);
// "EC 256 prime256v1", "RSA 2048".
std::string describe_key(const certs::KeyInfo& key);

}  // namespace tlsprobe::proxy
