#include "revocation_output.hpp"

#include "certs/certificate.hpp"
#include "inspect/revocation.hpp"
#include "inspect/transparency.hpp"

#include <boost/json.hpp>

namespace tlsprobe::tools {

namespace json = boost::json;

namespace {

json::value time_or_null(const std::optional<certs::TimePoint>& t) {
  return t ? json::value(certs::format_rfc3339(*t)) : json::value(nullptr);
}

json::object ocsp_json(const certs::OcspVerdict& v) {
  json::object o;
  o["response_status"] = v.response_status;
  o["cert_status"] = v.cert_status.empty() ? json::value(nullptr) : json::value(v.cert_status);
  o["valid"] = v.valid();
  if (!v.valid()) {
    o["problem"] = v.problem;
    o["problem_detail"] = v.problem_detail;
  }
  o["produced_at"] = time_or_null(v.produced_at);
  o["this_update"] = time_or_null(v.this_update);
  o["next_update"] = time_or_null(v.next_update);
  o["responder"] = v.responder;
  if (!v.signer.empty()) o["signer"] = v.signer;
  o["delegated"] = v.delegated;
  if (v.cert_status == "revoked") {
    o["revocation_time"] = time_or_null(v.revocation_time);
    o["revocation_reason"] = v.revocation_reason;
  }
  o["scts"] = static_cast<std::uint64_t>(v.scts.size());
  return o;
}

json::object crl_json(const certs::CrlVerdict& v) {
  json::object o;
  o["status"] = std::string(certs::to_string(v.status));
  o["source"] = v.source;
  o["this_update"] = time_or_null(v.this_update);
  o["next_update"] = time_or_null(v.next_update);
  if (v.status == certs::CrlVerdict::Status::revoked) {
    o["revocation_time"] = time_or_null(v.revocation_time);
    o["reason"] = v.reason;
  }
  if (!v.problem.empty()) {
    o["problem"] = v.problem;
    o["problem_detail"] = v.problem_detail;
  }
  return o;
}

}  // namespace

std::optional<json::object> revocation_json(const inspect::HandshakeObservation& h,
                                            const inspect::DiagnoseOptions& options) {
  const auto f = inspect::revocation_facts(h, options);
  if (!f.applies) return std::nullopt;
  json::object o;
  o["stapled"] = f.stapled;
  o["must_staple"] = f.must_staple;
  json::array urls;
  for (const auto& u : f.ocsp_urls) urls.emplace_back(u);
  o["ocsp_urls"] = std::move(urls);
  json::array crl_urls;
  for (const auto& u : f.crl_urls) crl_urls.emplace_back(u);
  o["crl_urls"] = std::move(crl_urls);
  o["staple"] = f.staple ? json::value(ocsp_json(*f.staple)) : json::value(nullptr);
  json::array offline;
  for (const auto& c : f.offline) {
    auto j = crl_json(c.verdict);
    j["certificate"] = c.cert.subject();
    j["depth"] = c.depth;
    offline.push_back(std::move(j));
  }
  o["crls"] = std::move(offline);
  json::array online;
  for (const auto& l : f.online) {
    json::object j;
    j["kind"] = l.lookup.kind;
    j["url"] = l.lookup.url;
    j["ok"] = l.lookup.ok;
    if (!l.lookup.error.empty()) j["error"] = l.lookup.error;
    if (!l.lookup.nonce.empty()) j["nonce"] = l.lookup.nonce;
    j["from_cache"] = l.lookup.from_cache;
    j["elapsed_ms"] = static_cast<std::int64_t>(l.lookup.elapsed_ms);
    if (l.ocsp) j["ocsp"] = ocsp_json(*l.ocsp);
    if (l.crl) j["crl"] = crl_json(*l.crl);
    if (!l.crl_error.empty()) j["crl_error"] = l.crl_error;
    online.push_back(std::move(j));
  }
  o["online"] = std::move(online);
  o["summary"] = inspect::revocation_summary(f);
  return o;
}

std::optional<json::object> transparency_json(const inspect::HandshakeObservation& h,
                                              const inspect::DiagnoseOptions& options) {
  const auto f = inspect::transparency_facts(h, options);
  if (!f.applies) return std::nullopt;
  json::object o;
  o["log_list"] = f.log_list;
  o["policy_applies"] = f.policy_applies;
  o["compliant"] =
      f.log_list && f.policy_applies ? json::value(f.ct.compliant) : json::value(nullptr);
  o["lifetime_days"] = f.ct.lifetime_days;
  o["required_embedded"] = f.ct.required_embedded;
  json::array scts;
  for (const auto& s : f.ct.scts) {
    json::object j;
    j["source"] = s.source;
    j["log_id"] = s.log_id_hex;
    j["log"] = s.log_description;
    j["operator"] = s.log_operator;
    j["timestamp"] = time_or_null(s.timestamp);
    j["status"] = s.status;
    scts.push_back(std::move(j));
  }
  o["scts"] = std::move(scts);
  o["summary"] = inspect::transparency_summary(f);
  return o;
}

std::string revocation_text_lines(const inspect::HandshakeObservation& h,
                                  const inspect::DiagnoseOptions& options,
                                  const std::string& indent) {
  const auto r = inspect::revocation_facts(h, options);
  if (!r.applies) return {};
  const auto t = inspect::transparency_facts(h, options);
  return indent + "revocation: " + certs::escape_for_display(inspect::revocation_summary(r)) +
         "\n" + indent +
         "transparency: " + certs::escape_for_display(inspect::transparency_summary(t)) + "\n";
}

}  // namespace tlsprobe::tools
