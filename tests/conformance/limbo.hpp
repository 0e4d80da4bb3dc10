// x509-limbo (C2SP's public X.509 path-validation vectors, tests/data/limbo) run through
// tlsprobe's pure diagnosis, and through OpenSSL's own X509_verify_cert on the same inputs
// for a side-by-side. Used by tests/conformance (every SERVER case) and tests/probe_e2e
// (a sample served by real TLS servers).
//
// Inputs of one case, as a TLS client would have them: the chain as sent = peer
// certificate + untrusted_intermediates, the anchors = trusted_certs only (no system
// trust), the evaluation time = validation_time (or kDefaultTime when the case has none:
// its certificates are valid from 1970 to 2969), the name = expected_peer_name.
// max_chain_depth and extended_key_usage are not inputs (a TLS client always asks for
// serverAuth and has no depth option). A case's CRLs are given as `probe --crl` gives them
// (DiagnoseOptions::crls), and to OpenSSL with X509_V_FLAG_CRL_CHECK (as curl --crlfile).
#pragma once

#include "certs/certificate.hpp"
#include "certs/crl.hpp"
#include "certs/pem.hpp"
#include "certs/trust_store.hpp"
#include "inspect/diagnose.hpp"

#include <openssl/err.h>
#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace limbo {

using namespace tlsprobe;

inline const certs::TimePoint kDefaultTime = *certs::parse_rfc3339("2026-06-01T00:00:00Z");

struct Case {
  std::string id, family, expected, description;
  std::string peer_pem, peer_key_pem;
  std::vector<std::string> intermediate_pems, trusted_pems, crl_pems;
  certs::TimePoint at = kDefaultTime;
  std::string host;  // DNS name or IP literal; empty = no name check
  bool is_ip = false;
};

inline std::string data_dir() { return std::string(TLSPROBE_TEST_DATA) + "/limbo"; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every SERVER testcase of limbo.json, in file order.
inline std::vector<Case> load_server_cases() {
  const auto doc = boost::json::parse(read_file(data_dir() + "/limbo.json"));
  std::vector<Case> out;
  for (const auto& v : doc.at("testcases").as_array()) {
    const auto& t = v.as_object();
    if (t.at("validation_kind").as_string() != "SERVER") continue;
    Case c;
    c.id = std::string(t.at("id").as_string());
    c.family = c.id.substr(0, c.id.find("::"));
    c.expected = std::string(t.at("expected_result").as_string());
    c.description = std::string(t.at("description").as_string());
    c.peer_pem = std::string(t.at("peer_certificate").as_string());
    if (auto* k = t.if_contains("peer_certificate_key"); k && k->is_string())
      c.peer_key_pem = std::string(k->as_string());
    for (const auto& p : t.at("untrusted_intermediates").as_array())
      c.intermediate_pems.emplace_back(p.as_string());
    for (const auto& p : t.at("trusted_certs").as_array())
      c.trusted_pems.emplace_back(p.as_string());
    if (auto* crls = t.if_contains("crls"); crls && crls->is_array())
      for (const auto& p : crls->as_array()) c.crl_pems.emplace_back(p.as_string());
    if (const auto& vt = t.at("validation_time"); vt.is_string()) {
      std::string s(vt.as_string());
      if (s.size() > 6 && s.compare(s.size() - 6, 6, "+00:00") == 0)
        s.replace(s.size() - 6, 6, "Z");
      auto tp = certs::parse_rfc3339(s);
      if (!tp) throw std::runtime_error(c.id + ": bad validation_time " + s);
      c.at = *tp;
    }
    if (const auto& n = t.at("expected_peer_name"); n.is_object()) {
      c.host = std::string(n.at("value").as_string());
      c.is_ip = n.at("kind").as_string() == "IP";
    }
    out.push_back(std::move(c));
  }
  return out;
}

// A chain of PEM texts; throws certs::PemError when one does not parse.
inline certs::Chain parse_all(const std::vector<std::string>& pems) {
  certs::Chain out;
  for (const auto& p : pems)
    for (auto& c : certs::read_pem_chain(p)) out.push_back(std::move(c));
  return out;
}

struct Verdict {
  std::string verdict;  // SUCCESS, FAILURE, SUCCESS+profile (only cert.profile warnings)
  std::string codes;    // sorted, unique codes of error and warning findings, "," joined
  inspect::Findings findings;
};

// The handshake a client would have made to the case's server.
inline inspect::Observations observations_for(const Case& c, certs::Chain chain) {
  inspect::HandshakeObservation h;
  h.role = inspect::Role::direct;
  h.host = c.host;
  h.port = 443;
  h.address = "127.0.0.1:443";
  if (!c.is_ip && !c.host.empty()) h.sni = c.host;
  h.outcome = inspect::HandshakeOutcome::ok;
  h.tls_version = "1.3";
  h.cipher = "TLS_AES_128_GCM_SHA256";
  h.chain = std::move(chain);
  inspect::Observations o;
  o.host = c.host;
  o.port = 443;
  o.target = c.host + ":443";
  o.handshakes.push_back(std::move(h));
  return o;
}

inline Verdict verdict_of(const inspect::Findings& fs) {
  Verdict v;
  v.findings = fs;
  std::set<std::string> codes;
  bool error = false, profile = false;
  for (const auto& f : fs) {
    if (f.severity == inspect::Severity::error) error = true;
    if (f.code == "cert.profile") profile = true;
    if (f.severity != inspect::Severity::info) codes.insert(f.code);
  }
  v.verdict = error ? "FAILURE" : profile ? "SUCCESS+profile" : "SUCCESS";
  for (const auto& code : codes) v.codes += (v.codes.empty() ? "" : ",") + code;
  if (v.codes.empty()) v.codes = "-";
  return v;
}

inline Verdict tlsprobe_verdict(const Case& c) {
  certs::Chain chain, anchors;
  try {
    chain = parse_all({c.peer_pem});
    auto more = parse_all(c.intermediate_pems);
    chain.insert(chain.end(), more.begin(), more.end());
    anchors = parse_all(c.trusted_pems);
  } catch (const std::exception&) {
    // A certificate OpenSSL cannot parse never reaches diagnosis: a TLS client fails the
    // handshake on it (the prober reports tls.handshake_failed).
    return Verdict{"FAILURE", "unparseable", {}};
  }
  const auto trust = certs::TrustStore::from_anchors(anchors);
  inspect::DiagnoseOptions o;
  o.at = c.at;
  o.trust = &trust;
  for (const auto& pem : c.crl_pems)
    for (auto& crl : certs::Crl::parse(pem, c.id + " CRL")) o.crls.push_back(std::move(crl));
  return verdict_of(inspect::diagnose(observations_for(c, std::move(chain)), o));
}

// OpenSSL 3's own verdict on the same inputs: X509_verify_cert with default flags, the
// ssl_server purpose a TLS client sets, the case's time and name. "SUCCESS" or
// "FAILURE:<code>" (the first error, as openssl verify prints it).
inline std::string openssl_verdict(const Case& c) {
  certs::Chain chain, intermediates, anchors;
  try {
    chain = parse_all({c.peer_pem});
    intermediates = parse_all(c.intermediate_pems);
    anchors = parse_all(c.trusted_pems);
  } catch (const std::exception&) {
    return "FAILURE:unparseable";
  }
  certs::X509StorePtr store{X509_STORE_new()};
  for (const auto& a : anchors) X509_STORE_add_cert(store.get(), a.x509());
  certs::X509StackPtr untrusted{sk_X509_new_null()};
  for (const auto& i : intermediates) {
    X509_up_ref(i.x509());
    sk_X509_push(untrusted.get(), i.x509());
  }
  certs::X509StoreCtxPtr ctx{X509_STORE_CTX_new()};
  X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().x509(), untrusted.get());
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(c.at.time_since_epoch().count()));
  certs::X509CrlStackPtr crls{sk_X509_CRL_new_null()};
  for (const auto& pem : c.crl_pems)
    for (const auto& crl : certs::Crl::parse(pem, c.id)) {
      X509_CRL_up_ref(crl.get());
      sk_X509_CRL_push(crls.get(), crl.get());
    }
  if (!c.crl_pems.empty()) {
    X509_STORE_CTX_set0_crls(ctx.get(), crls.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
  }
  if (!c.host.empty()) {
    if (c.is_ip)
      X509_VERIFY_PARAM_set1_ip_asc(param, c.host.c_str());
    else
      X509_VERIFY_PARAM_set1_host(param, c.host.c_str(), c.host.size());
  }
  const int rc = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return rc == 1 ? "SUCCESS" : "FAILURE:" + std::to_string(err);
}

// Agreement with the expected result: a FAILURE case counts when tlsprobe reports an
// error, or when only its profile lint sees the problem (a cert.profile warning).
inline bool tlsprobe_right(const std::string& expected, const std::string& verdict) {
  if (expected == "SUCCESS") return verdict != "FAILURE";
  return verdict == "FAILURE" || verdict == "SUCCESS+profile";
}
inline bool openssl_right(const std::string& expected, const std::string& verdict) {
  return (expected == "SUCCESS") == (verdict == "SUCCESS");
}

struct Row {
  std::string id, expected, tlsprobe, openssl, codes;
};

inline std::string format_row(const Row& r) {
  return r.id + "\t" + r.expected + "\t" + r.tlsprobe + "\t" + r.openssl + "\t" + r.codes;
}

inline const char* kTableHeader = "# id\texpected\ttlsprobe\topenssl\tcodes";

inline std::vector<Row> read_table(const std::string& path) {
  std::vector<Row> rows;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      auto tab = line.find('\t', start);
      cols.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() != 5) throw std::runtime_error("bad row: " + line);
    rows.push_back(Row{cols[0], cols[1], cols[2], cols[3], cols[4]});
  }
  return rows;
}

}  // namespace limbo
