// The connection-log record builder (proxy/observe/log_record.hpp): ECS field names and formats,
// error.code and event.outcome, certificate facts kept on failure, hostile strings.
#include "log_fixtures.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <functional>

using namespace tlsprobe;
using namespace tlsprobe::logtest;
namespace json = boost::json;

namespace {

// Parses with Boost.JSON's strict defaults (invalid UTF-8 rejected).
json::object parse_strict(const std::string& line) {
  json::value v = json::parse(line);
  return v.as_object();
}

const json::value& at_path(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = nullptr;
  const json::object* cur = &o;
  for (auto key : path) {
    REQUIRE(cur != nullptr);
    v = cur->if_contains(key);
    INFO("missing key " << key);
    REQUIRE(v != nullptr);
    cur = v->if_object();
  }
  return *v;
}

bool is_upper_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && !(c >= 'A' && c <= 'F')) return false;
  return true;
}

}  // namespace

TEST_CASE("a healthy tunnel record has the ECS fields in their formats", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  const auto facts = tunnel_facts("www.example.com", pki.fullchain());
  const std::string line = line_of(facts);
  CHECK(line.find('\n') == std::string::npos);
  const json::object r = parse_strict(line);

  CHECK(at_path(r, {"@timestamp"}).as_string() == "2026-06-01T00:00:00.250Z");
  CHECK(at_path(r, {"event", "kind"}).as_string() == "event");
  CHECK(at_path(r, {"event", "category"}).as_array().at(0).as_string() == "network");
  CHECK(at_path(r, {"event", "type"}).as_array().at(0).as_string() == "connection");
  CHECK(at_path(r, {"event", "outcome"}).as_string() == "success");
  CHECK(at_path(r, {"event", "duration"}).to_number<std::int64_t>() == 1'500'000'000);
  CHECK(r.if_contains("error") == nullptr);
  CHECK(at_path(r, {"client", "address"}).as_string() == "127.0.0.1");
  CHECK(at_path(r, {"client", "port"}).to_number<int>() == 50123);
  CHECK(at_path(r, {"destination", "domain"}).as_string() == "www.example.com");
  CHECK(at_path(r, {"destination", "address"}).as_string() == "192.0.2.10");
  CHECK(at_path(r, {"destination", "port"}).to_number<int>() == 443);
  CHECK(at_path(r, {"network", "bytes"}).to_number<int>() == 517 + 4096);

  // A tunnel's handshake is tlsprobe's side probe: its version, cipher and ALPN are under
  // tlsprobe.probe, never in tls.* (which describes the client's own connection).
  CHECK(at_path(r, {"tls"}).as_object().if_contains("version") == nullptr);
  CHECK(at_path(r, {"tls"}).as_object().if_contains("cipher") == nullptr);
  CHECK(at_path(r, {"tls"}).as_object().if_contains("established") == nullptr);
  CHECK(at_path(r, {"tlsprobe", "probe", "tls_version"}).as_string() == "1.3");
  CHECK(at_path(r, {"tlsprobe", "probe", "cipher"}).as_string() == "TLS_AES_128_GCM_SHA256");
  CHECK(at_path(r, {"tlsprobe", "probe", "alpn"}).as_string() == "h2");
  CHECK(at_path(r, {"tlsprobe", "probe", "established"}).as_bool());
  CHECK(at_path(r, {"tls", "client", "server_name"}).as_string() == "www.example.com");
  // ECS: ecs.version, .ip duplicates of raw addresses, source = client, observer, related.
  CHECK(at_path(r, {"ecs", "version"}).as_string() == "8.11.0");
  CHECK(at_path(r, {"client", "ip"}).as_string() == "127.0.0.1");
  CHECK(at_path(r, {"source", "ip"}).as_string() == "127.0.0.1");
  CHECK(at_path(r, {"source", "port"}).to_number<int>() == 50123);
  CHECK(at_path(r, {"client", "bytes"}).to_number<int>() == 517);
  CHECK(at_path(r, {"destination", "ip"}).as_string() == "192.0.2.10");
  CHECK(at_path(r, {"destination", "bytes"}).to_number<int>() == 4096);
  CHECK(at_path(r, {"observer", "type"}).as_string() == "proxy");
  CHECK(at_path(r, {"observer", "product"}).as_string() == "tlsprobe");
  CHECK(at_path(r, {"related", "ip"}).as_array().size() == 2);
  CHECK(at_path(r, {"related", "hosts"}).as_array().at(0).as_string() == "www.example.com");
  CHECK(at_path(r, {"related", "hash"}).as_array().at(0).as_string() == pki.leaf.cert.sha256_hex());
  CHECK(at_path(r, {"event", "dataset"}).as_string() == "tlsprobe.connection");
  CHECK(at_path(r, {"event", "start"}).as_string() == "2026-05-31T23:59:58.750Z");
  CHECK(at_path(r, {"event", "end"}).as_string() == "2026-06-01T00:00:00.250Z");
  const auto& leaf = pki.leaf.cert;
  const auto sha = at_path(r, {"tls", "server", "hash", "sha256"}).as_string();
  CHECK(sha == leaf.sha256_hex());
  CHECK(sha.size() == 64);
  CHECK(is_upper_hex(sha));
  const auto serial = at_path(r, {"tls", "server", "x509", "serial_number"}).as_string();
  CHECK(is_upper_hex(serial));
  CHECK(serial == leaf.serial_hex());
  CHECK(at_path(r, {"tls", "server", "not_after"}).as_string() ==
        proxy::format_timestamp_s(leaf.not_after()));
  // ECS normalises the x509 common names to arrays.
  CHECK(at_path(r, {"tls", "server", "x509", "subject", "common_name"})
            .as_array()
            .at(0)
            .as_string() == leaf.common_name());
  CHECK(
      at_path(r, {"tls", "server", "x509", "issuer", "common_name"}).as_array().at(0).as_string() ==
      pki.intermediate.cert.common_name());
  CHECK(at_path(r, {"tls", "server", "x509", "public_key_algorithm"}).as_string() == "EC");
  CHECK(at_path(r, {"tls", "server", "x509", "public_key_size"}).to_number<int>() == 256);
  CHECK(at_path(r, {"tls", "server", "x509", "public_key_curve"}).as_string() == "prime256v1");
  CHECK(at_path(r, {"tls", "server", "x509", "alternative_names"}).as_array().at(0).as_string() ==
        "www.example.com");

  CHECK(at_path(r, {"tlsprobe", "schema"}).to_number<int>() == proxy::log_schema_version);
  CHECK(at_path(r, {"tlsprobe", "mode"}).as_string() == "tunnel");
  CHECK(at_path(r, {"tlsprobe", "role"}).as_string() == "direct");
  CHECK(at_path(r, {"tlsprobe", "client_hello", "alpn"}).as_array().size() == 2);
  CHECK(at_path(r, {"tlsprobe", "bytes", "server_to_client"}).to_number<int>() == 4096);
  CHECK(at_path(r, {"tlsprobe", "probe", "status"}).as_string() == "ok");
  const auto& chain = at_path(r, {"tlsprobe", "chain"}).as_array();
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].at("sha256").as_string() == leaf.sha256_hex());
  CHECK(chain[0].at("key").as_string() == "EC 256 prime256v1");
  CHECK(chain[1].at("subject").as_string() == pki.intermediate.cert.subject());
  CHECK(at_path(r, {"tlsprobe", "verify", "ok"}).as_bool());
  CHECK(at_path(r, {"tlsprobe", "findings"}).as_array().empty());
}

TEST_CASE("error findings set error.code and event.outcome failure", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", {pki.leaf.cert});
  facts.findings.push_back(finding(inspect::codes::cert_expiring_soon, inspect::Severity::warning,
                                   "www.example.com:443"));
  facts.findings.push_back(
      finding(inspect::codes::chain_incomplete, inspect::Severity::error, "www.example.com:443"));
  facts.verify = proxy::VerifyFacts{false, 20, "unable to get local issuer certificate"};
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"event", "outcome"}).as_string() == "failure");
  CHECK(at_path(r, {"error", "code"}).as_string() == "chain.incomplete");
  // Certificate facts survive failed verification.
  CHECK(at_path(r, {"tls", "server", "hash", "sha256"}).as_string() == pki.leaf.cert.sha256_hex());
  CHECK(at_path(r, {"tlsprobe", "chain"}).as_array().size() == 1);
  CHECK(at_path(r, {"tlsprobe", "verify", "openssl_code"}).to_number<int>() == 20);
  const auto& findings = at_path(r, {"tlsprobe", "findings"}).as_array();
  REQUIRE(findings.size() == 2);
  const auto& f = findings[1].as_object();
  CHECK(f.at("code").as_string() == "chain.incomplete");
  CHECK(f.at("severity").as_string() == "error");
  CHECK(f.at("role").as_string() == "direct");
  CHECK(f.at("evidence").at("depth").to_number<int>() == 0);  // typed: a number
  CHECK(f.at("equivalents").at("openssl").as_string() == "X509_V_ERR_TEST");
  CHECK(f.at("browser_shows").as_bool() == false);
}

TEST_CASE("error.code is the finding a browser would show", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  facts.findings.push_back(
      finding(inspect::codes::cert_expired, inspect::Severity::error, "www.example.com:443"));
  auto shown = finding(inspect::codes::name_mismatch, inspect::Severity::error, "x");
  shown.browser_shows = true;
  facts.findings.push_back(shown);
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"error", "code"}).as_string() == "name.mismatch");
}

TEST_CASE("warnings alone keep event.outcome success", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  facts.findings.push_back(
      finding(inspect::codes::cert_expiring_soon, inspect::Severity::warning, "x"));
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"event", "outcome"}).as_string() == "success");
  CHECK(r.if_contains("error") == nullptr);
}

TEST_CASE("a client without SNI gets no tls.client.server_name", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  facts.client_hello->sni.reset();
  facts.handshake.edit().sni.reset();
  const json::object r = parse_strict(line_of(facts));
  // No SNI: no tls.client at all (ECS: no empty objects).
  CHECK(at_path(r, {"tls"}).as_object().if_contains("client") == nullptr);
  CHECK(at_path(r, {"tlsprobe", "client_hello"}).as_object().if_contains("sni") == nullptr);
}

TEST_CASE("a failed handshake is logged with outcome failure and no server", "[log_record]") {
  proxy::ConnectionFacts facts;
  facts.end = at(testpki::fixed_now());
  facts.start = facts.end - 10s;
  facts.mode = proxy::LogMode::watch;
  facts.role = inspect::Role::origin;
  facts.destination_domain = "origin.example.com";
  facts.destination_address = "198.51.100.7";
  facts.destination_port = 8443;
  inspect::HandshakeObservation hs;
  hs.outcome = inspect::HandshakeOutcome::unreachable;
  hs.failure = inspect::FailureKind::connect_timeout;
  hs.failure_detail = "timed out after 10 s";
  facts.handshake = hs;
  facts.probe = proxy::ProbeFacts{proxy::ProbeStatus::failed, "connect timeout", 10000};
  facts.findings.push_back(finding(inspect::codes::probe_unreachable, inspect::Severity::error, "x",
                                   inspect::Role::origin));
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"event", "outcome"}).as_string() == "failure");
  CHECK(at_path(r, {"error", "code"}).as_string() == "probe.unreachable");
  CHECK(at_path(r, {"tls", "established"}).as_bool() == false);
  CHECK(at_path(r, {"tls"}).as_object().if_contains("server") == nullptr);
  CHECK(at_path(r, {"tlsprobe", "role"}).as_string() == "origin");
  CHECK(at_path(r, {"tlsprobe", "mode"}).as_string() == "watch");
  CHECK(at_path(r, {"tlsprobe", "handshake_failure", "kind"}).as_string() == "connect_timeout");
  CHECK(at_path(r, {"tlsprobe", "probe", "status"}).as_string() == "failed");
  CHECK(r.if_contains("client") == nullptr);
}

TEST_CASE("edge records carry the origin comparison", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  facts.mode = proxy::LogMode::watch;
  facts.role = inspect::Role::edge;
  proxy::CompareFacts compare;
  compare.origin_address = "198.51.100.7:443";
  compare.origin_sha256 = std::string(64, 'A');
  compare.origin_not_after = testpki::fixed_now() + std::chrono::days(90);
  facts.compare = compare;
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"tlsprobe", "compare", "origin_address"}).as_string() == "198.51.100.7:443");
  CHECK(at_path(r, {"tlsprobe", "compare", "origin_sha256"}).as_string() == std::string(64, 'A'));
  CHECK(at_path(r, {"tlsprobe", "compare", "origin_not_after"}).as_string() ==
        "2026-08-30T00:00:00Z");
}

TEST_CASE("invalid UTF-8 and control characters still give valid JSON", "[log_record]") {
  CHECK(proxy::sanitize_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(proxy::sanitize_utf8("a\xff"
                             "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(proxy::sanitize_utf8("\xc3") == "\xEF\xBF\xBD");                  // truncated
  CHECK(proxy::sanitize_utf8("\xc0\xaf") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  CHECK(proxy::sanitize_utf8("\xed\xa0\x80") ==
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  // ASCII is copied whole (the fast path); decoding starts at the first byte above 0x7F,
  // also when it comes after a long ASCII prefix or is the last byte.
  CHECK(proxy::sanitize_utf8("") == "");
  CHECK(proxy::sanitize_utf8("plain ASCII, \x01 controls kept for the JSON escaper") ==
        "plain ASCII, \x01 controls kept for the JSON escaper");
  CHECK(proxy::sanitize_utf8(std::string(100, 'x') + "\xc3\xa9" + "y\xff") ==
        std::string(100, 'x') + "\xc3\xa9" + "y\xEF\xBF\xBD");
  CHECK(proxy::is_ascii(""));
  CHECK(proxy::is_ascii("plain \x01\x7f"));
  CHECK_FALSE(proxy::is_ascii("caf\xc3\xa9"));
  CHECK_FALSE(proxy::is_ascii(std::string(50, 'x') + "\x80"));
  std::string in_place = "plain";
  proxy::sanitize_utf8_in_place(in_place);
  CHECK(in_place == "plain");
  in_place = "caf\xc3\xa9 \xff";
  proxy::sanitize_utf8_in_place(in_place);
  CHECK(in_place == "caf\xc3\xa9 \xEF\xBF\xBD");

  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("evil\xff\xfe.example.com", pki.fullchain());
  facts.findings.push_back(finding(inspect::codes::name_mismatch, inspect::Severity::error,
                                   "CN=<script>\x1b[31m\xc0\xaf\"quote\"\n"));
  facts.client_hello->alpn.push_back("\x80\x81");
  const std::string line = line_of(facts);
  CHECK(line.find('\n') == std::string::npos);
  const json::object r = parse_strict(line);  // throws on invalid UTF-8 or escapes
  CHECK(at_path(r, {"destination", "domain"}).as_string() ==
        "evil\xEF\xBF\xBD\xEF\xBF\xBD.example.com");
  // The SNI is the same hostile name: related.hosts lists it once (the tree-built record
  // compared the raw name with the cleaned one it held, and listed it twice).
  CHECK(at_path(r, {"related", "hosts"}).as_array().size() == 1);
  const auto subject = at_path(r, {"tlsprobe", "findings"}).as_array()[0].at("subject").as_string();
  CHECK(std::string_view(subject).find("\x1b[31m") != std::string_view::npos);  // kept, escaped
  CHECK(line.find("\\u001b") != std::string::npos);
}

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds", "[log_record]") {
  using namespace std::chrono;
  const sys_days day = year{2026} / March / 9;
  CHECK(proxy::format_timestamp_ms(day + 7h + 5min + 3s + 42ms) == "2026-03-09T07:05:03.042Z");
  CHECK(proxy::format_timestamp_s(certs::TimePoint(day)) == "2026-03-09T00:00:00Z");
  // The ends of X.509's ranges (UTCTime 1950..2049, GeneralizedTime to 9999), before the
  // epoch, and the year 10000 that four digits cannot hold.
  CHECK(proxy::format_timestamp_s(certs::TimePoint(sys_days(year{1950} / January / 1))) ==
        "1950-01-01T00:00:00Z");
  CHECK(proxy::format_timestamp_s(certs::TimePoint(sys_days(year{2049} / December / 31) + 23h +
                                                   59min + 59s)) == "2049-12-31T23:59:59Z");
  CHECK(proxy::format_timestamp_s(certs::TimePoint(sys_days(year{9999} / December / 31))) ==
        "9999-12-31T00:00:00Z");
  CHECK(proxy::format_timestamp_ms(sys_days(year{1969} / December / 31) + 23h + 59min + 59s +
                                   999ms) == "1969-12-31T23:59:59.999Z");
  CHECK(proxy::format_timestamp_s(certs::TimePoint(sys_days(year{10000} / January / 2))) ==
        "10000-01-02T00:00:00Z");
  CHECK(proxy::describe_key(certs::KeyInfo{"RSA", 2048, ""}) == "RSA 2048");
}

TEST_CASE("a tunnel record's tls.* is the client's connection, read from its ServerHello",
          "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  // The client negotiated TLS 1.2 through the tunnel; the side probe (TLS 1.3) stays under
  // tlsprobe.probe.* (issue 17: the line used to say 1.3 for a 1.2 connection).
  facts.tunnel_tls = proxy::TunnelTls{"1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true};
  auto r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"tls", "version"}).as_string() == "1.2");
  CHECK(at_path(r, {"tls", "version_protocol"}).as_string() == "tls");
  CHECK(at_path(r, {"tls", "cipher"}).as_string() == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  CHECK(at_path(r, {"tls", "established"}).as_bool());
  CHECK(at_path(r, {"tlsprobe", "probe", "tls_version"}).as_string() == "1.3");
  CHECK(at_path(r, {"tlsprobe", "probe", "cipher"}).as_string() == "TLS_AES_128_GCM_SHA256");
  CHECK(at_path(r, {"tls", "client", "server_name"}).as_string() == "www.example.com");
  CHECK(at_path(r, {"message"}).as_string().find(" TLS 1.2") != std::string::npos);
  const auto& type = at_path(r, {"event", "type"}).as_array();
  CHECK(std::find(type.begin(), type.end(), json::value("protocol")) != type.end());

  // A client whose handshake failed (it rejected the certificate): established false.
  facts.tunnel_tls = proxy::TunnelTls{"1.3", "TLS_AES_128_GCM_SHA256", false};
  r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"tls", "version"}).as_string() == "1.3");
  CHECK_FALSE(at_path(r, {"tls", "established"}).as_bool());

  // The server refused (an alert, no ServerHello): no version or cipher, not established.
  facts.tunnel_tls = proxy::TunnelTls{};
  r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"tls"}).as_object().if_contains("version") == nullptr);
  CHECK(at_path(r, {"tls"}).as_object().if_contains("version_protocol") == nullptr);
  CHECK(at_path(r, {"tls"}).as_object().if_contains("cipher") == nullptr);
  CHECK_FALSE(at_path(r, {"tls", "established"}).as_bool());

  // SSL 3.0 is ECS's version "3.0" of protocol "ssl".
  facts.tunnel_tls = proxy::TunnelTls{"ssl3", "TLS_RSA_WITH_AES_128_CBC_SHA", true};
  r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"tls", "version"}).as_string() == "3.0");
  CHECK(at_path(r, {"tls", "version_protocol"}).as_string() == "ssl");
}

// Not run by default: prints the example record of docs/log-format.md
// (`tests_logs "[.example]"`), so that the documented line is one the code really writes.
TEST_CASE("example record for docs/log-format.md", "[.example]") {
  const auto pki = testpki::make_hierarchy({"shop.example.com", "www.shop.example.com"});
  auto facts = tunnel_facts("shop.example.com", {pki.leaf.cert});
  auto f =
      finding(inspect::codes::chain_incomplete, inspect::Severity::error, "shop.example.com:443");
  f.message = "The server sent only the leaf; the issuer is not in the trust store.";
  f.remedy = "Serve the full chain (leaf then intermediate), e.g. fullchain.pem.";
  f.browser_shows = true;
  facts.findings.push_back(f);
  facts.verify = proxy::VerifyFacts{false, 20, "unable to get local issuer certificate"};
  std::printf("%s\n", line_of(facts).c_str());
  SUCCEED();
}

TEST_CASE("intercept records: tls.* is the client's connection, IANA cipher names, HTTP parts",
          "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  facts.mode = proxy::LogMode::intercept;
  facts.handshake.edit().tls_version = "1.2";
  facts.handshake.edit().cipher = "ECDHE-ECDSA-AES128-GCM-SHA256";  // OpenSSL's name
  facts.http = proxy::HttpFacts{"GET", "https://www.example.com:8443/a/b.html?q=secret#top", 200,
                                "1.1", "curl/8.1"};
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"tls", "version"}).as_string() == "1.2");
  CHECK(at_path(r, {"tls", "cipher"}).as_string() == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  CHECK(at_path(r, {"tls", "established"}).as_bool());
  CHECK(at_path(r, {"url", "scheme"}).as_string() == "https");
  CHECK(at_path(r, {"http", "version"}).as_string() == "1.1");
  CHECK(at_path(r, {"user_agent", "original"}).as_string() == "curl/8.1");
  CHECK(at_path(r, {"url", "domain"}).as_string() == "www.example.com");
  CHECK(at_path(r, {"url", "port"}).to_number<int>() == 8443);
  CHECK(at_path(r, {"url", "path"}).as_string() == "/a/b.html");
  CHECK(at_path(r, {"url"}).as_object().if_contains("query") == nullptr);  // redacted by default
  CHECK(at_path(r, {"url", "original"}).as_string().find("secret") == json::string::npos);
  CHECK(at_path(r, {"event", "category"}).as_array().at(1).as_string() == "web");
  CHECK(at_path(r, {"network", "protocol"}).as_string() == "http");
  const std::string message(at_path(r, {"message"}).as_string());
  CHECK(message.find("intercept 127.0.0.1 -> www.example.com:443 GET 200") == 0);
}

TEST_CASE("an intercepted request whose upstream refused is a failure", "[log_record]") {
  auto facts = tunnel_facts("www.example.com", {});
  facts.mode = proxy::LogMode::intercept;
  facts.handshake.reset();
  facts.client_hello.reset();
  facts.failed = true;  // what intercept_session sets when connect_upstream fails
  facts.reason = "connection refused";
  const json::object r = parse_strict(line_of(facts));
  CHECK(at_path(r, {"event", "outcome"}).as_string() == "failure");
  CHECK(at_path(r, {"event", "reason"}).as_string() == "connection refused");
}

TEST_CASE("typed evidence and no empty strings or objects", "[log_record]") {
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  auto f = finding(inspect::codes::cert_expired, inspect::Severity::error, "x");
  f.evidence = {{"days_expired", "12"},    {"position", "leaf"},     {"sent", "true"},
                {"elapsed_ms", "10000.5"}, {"port", "not-a-number"}, {"serial", "0123"}};
  facts.findings = {f};
  facts.client_hello->alpn.clear();
  const json::object r = parse_strict(line_of(facts));
  const auto& ev = at_path(r, {"tlsprobe", "findings"}).as_array().at(0).at("evidence").as_object();
  CHECK(ev.at("days_expired").as_int64() == 12);
  CHECK(ev.at("position").as_string() == "leaf");
  CHECK(ev.at("sent").as_bool());
  CHECK(ev.at("elapsed_ms").as_double() == 10000.5);
  CHECK(ev.at("port").as_string() == "not-a-number");  // not a number: kept as text
  CHECK(ev.at("serial").as_string() == "0123");        // not a numeric key: text
  CHECK(at_path(r, {"tlsprobe", "client_hello"}).as_object().if_contains("alpn") == nullptr);
  // Nothing in the record is "" or {}.
  std::function<void(const json::value&, std::string)> walk = [&](const json::value& v,
                                                                  std::string path) {
    if (v.is_string()) {
      INFO(path);
      CHECK_FALSE(v.as_string().empty());
    } else if (v.is_object()) {
      INFO(path);
      CHECK_FALSE(v.as_object().empty());
      for (const auto& kv : v.as_object()) walk(kv.value(), path + "." + std::string(kv.key()));
    } else if (v.is_array()) {
      for (const auto& e : v.as_array()) walk(e, path + "[]");
    }
  };
  walk(r, "");
}

TEST_CASE("the message names an IPv6 destination with brackets", "[log_record]") {
  auto facts = tunnel_facts("", {});
  facts.destination_domain.clear();
  facts.destination_address = "2001:db8::10";
  facts.destination_port = 8443;
  const json::object r = parse_strict(line_of(facts));
  const std::string message(at_path(r, {"message"}).as_string());
  INFO(message);
  // Without brackets "2001:db8::10:8443" reads as another address.
  CHECK(message.find("[2001:db8::10]:8443") != std::string::npos);
  CHECK(message.find("2001:db8::10:8443") == std::string::npos);
}

TEST_CASE("a record larger than the line's stack arena is written whole", "[log_record]") {
  // connection_record_line builds in a 24 KiB arena on the stack and continues on the heap;
  // line_of checks the text against the heap-built record's.
  const auto pki = testpki::make_hierarchy({"www.example.com"});
  auto facts = tunnel_facts("www.example.com", pki.fullchain());
  for (int i = 0; i < 200; ++i) {
    auto f = finding(inspect::codes::name_mismatch, inspect::Severity::warning,
                     "subject " + std::to_string(i));
    f.message = std::string(300, 'm');
    facts.findings.push_back(f);
  }
  const std::string line = line_of(facts);
  CHECK(line.size() > 60 * 1024);
  const json::object r = parse_strict(line);
  CHECK(at_path(r, {"tlsprobe", "findings"}).as_array().size() == 200);
}
