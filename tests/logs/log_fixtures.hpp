// Shared helpers for the log tests: connection records built with the real builder from
// test-PKI certificates, and temporary log files (plain, rotated, gzip).
#pragma once

#include "inspect/codes.hpp"
#include "pki/test_pki.hpp"
#include "proxy/observe/log_record.hpp"
#include "support/temp_dir.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tlsprobe::logtest {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testsupport::TempDir;

inline std::chrono::system_clock::time_point at(certs::TimePoint t,
                                                std::chrono::milliseconds extra = 0ms) {
  return std::chrono::system_clock::time_point(t.time_since_epoch()) + extra;
}

// A leaf spec by field name (CertSpec grows; positional initialisation would break).
inline testpki::CertSpec spec(const std::string& cn, std::vector<std::string> names,
                              certs::TimePoint not_before, certs::TimePoint not_after,
                              const std::string& organization = "tlsprobe test") {
  testpki::CertSpec s;
  s.common_name = cn;
  s.organization = organization;
  s.dns_names = std::move(names);
  s.not_before = not_before;
  s.not_after = not_after;
  return s;
}

// A direct tunnel record for `host` with `chain`, closed at fixed_now() + `offset`.
inline proxy::ConnectionFacts tunnel_facts(const std::string& host, const certs::Chain& chain,
                                           std::chrono::seconds offset = 0s) {
  proxy::ConnectionFacts f;
  f.end = at(testpki::fixed_now() + offset, 250ms);
  f.start = f.end - 1500ms;
  f.mode = proxy::LogMode::tunnel;
  f.client_address = "127.0.0.1";
  f.client_port = 50123;
  f.destination_domain = host;
  f.destination_address = "192.0.2.10";
  f.destination_port = 443;
  f.bytes_client_to_server = 517;
  f.bytes_server_to_client = 4096;
  inspect::ClientHelloObservation hello;
  hello.sni = host;
  hello.alpn = {"h2", "http/1.1"};
  hello.versions = {"1.3", "1.2"};
  hello.connect_host = host + ":443";
  f.client_hello = hello;
  inspect::HandshakeObservation hs;
  hs.host = host;
  hs.address = "192.0.2.10:443";
  hs.sni = host;
  hs.tls_version = "1.3";
  hs.cipher = "TLS_AES_128_GCM_SHA256";
  hs.alpn = "h2";
  hs.chain = chain;
  f.handshake = hs;
  f.verify = proxy::VerifyFacts{true, 0, "ok"};
  f.probe = proxy::ProbeFacts{proxy::ProbeStatus::ok, "", 42.5};
  return f;
}

inline inspect::Finding finding(std::string_view code, inspect::Severity severity,
                                const std::string& subject,
                                inspect::Role role = inspect::Role::direct) {
  inspect::Finding f;
  f.code = std::string(code);
  f.severity = severity;
  f.role = role;
  f.subject = subject;
  f.message = "message for " + std::string(code);
  f.remedy = "remedy for " + std::string(code);
  f.evidence["depth"] = "0";
  f.equivalents["openssl"] = "X509_V_ERR_TEST";
  return f;
}

// The line as the proxy writes it (connection_record_line, with memoised certificates and
// findings); it must be the same text as the record object's (make_connection_record,
// everything written in place and read back).
inline std::string line_of(const proxy::ConnectionFacts& f) {
  std::string line = proxy::connection_record_line(f);
  CHECK(line == proxy::to_json_line(proxy::make_connection_record(f)));
  return line;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines,
                        bool append = false, bool final_newline = true) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out << lines[i];
    if (i + 1 < lines.size() || final_newline) out << '\n';
  }
}

inline void write_gzip(const std::string& path, const std::vector<std::string>& lines) {
  gzFile gz = gzopen(path.c_str(), "wb");
  for (const auto& l : lines) {
    gzwrite(gz, l.data(), static_cast<unsigned>(l.size()));
    gzwrite(gz, "\n", 1);
  }
  gzclose(gz);
}

// The evaluation time the tests pass as --at (fixed_now, RFC 3339).
inline std::string at_arg() { return proxy::format_timestamp_s(testpki::fixed_now()); }

}  // namespace tlsprobe::logtest
