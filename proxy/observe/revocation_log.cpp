#include "proxy/observe/revocation_log.hpp"

#include "certs/ct.hpp"
#include "inspect/revocation.hpp"
#include "proxy/observe/utf8.hpp"

#include <boost/json/array.hpp>

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace tlsprobe::proxy {

namespace json = boost::json;

namespace {

std::optional<certs::OcspVerdict> staple_of(const inspect::HandshakeObservation& h,
                                            certs::TimePoint at) {
  if (h.chain.empty() || h.ocsp_staple.empty()) return std::nullopt;
  const auto issuer = inspect::find_issuer(h.chain.front(), h.chain);
  if (!issuer) return std::nullopt;
  certs::OcspCheckOptions o;
  o.at = at;
  return certs::check_ocsp_response(h.ocsp_staple, h.chain.front(), *issuer, o);
}

json::value time_or_null(const std::optional<certs::TimePoint>& t) {
  return t ? json::value(certs::format_rfc3339(*t)) : json::value(nullptr);
}

}  // namespace

std::optional<json::object> ocsp_log_object(const inspect::HandshakeObservation& h,
                                            certs::TimePoint at) {
  if (h.chain.empty()) return std::nullopt;
  json::object o;
  o["stapled"] = !h.ocsp_staple.empty();
  o["must_staple"] = certs::has_must_staple(h.chain.front());
  if (const auto v = staple_of(h, at)) {
    o["status"] = v->cert_status.empty() ? v->response_status : v->cert_status;
    o["valid"] = v->valid();
    if (!v->valid()) o["problem"] = v->problem;
    o["produced_at"] = time_or_null(v->produced_at);
    o["this_update"] = time_or_null(v->this_update);
    o["next_update"] = time_or_null(v->next_update);
    o["responder"] = sanitize_utf8(v->responder);
  }
  if (!h.revocation_lookups.empty()) {
    json::array lookups;
    for (const auto& l : h.revocation_lookups) {
      json::object j{{"kind", l.kind}, {"url", sanitize_utf8(l.url)}, {"ok", l.ok}};
      if (!l.error.empty()) j["error"] = sanitize_utf8(l.error);
      lookups.push_back(std::move(j));
    }
    o["lookups"] = std::move(lookups);
  }
  return o;
}

std::optional<json::object> scts_log_object(const inspect::HandshakeObservation& h) {
  if (h.chain.empty()) return std::nullopt;
  std::int64_t embedded = 0;
  if (auto* list = static_cast<STACK_OF(SCT)*>(
          X509_get_ext_d2i(h.chain.front().x509(), NID_ct_precert_scts, nullptr, nullptr))) {
    embedded = sk_SCT_num(list);
    SCT_LIST_free(list);
  }
  ERR_clear_error();
  std::int64_t stapled = 0;
  if (!h.ocsp_staple.empty()) {
    if (const auto issuer = inspect::find_issuer(h.chain.front(), h.chain)) {
      certs::OcspCheckOptions o;
      o.at = h.chain.front().not_before();  // only the SCT list is read here
      stapled = static_cast<std::int64_t>(
          certs::check_ocsp_response(h.ocsp_staple, h.chain.front(), *issuer, o).scts.size());
    }
  }
  return json::object{{"embedded", embedded},
                      {"tls_extension", static_cast<std::int64_t>(h.tls_scts.size())},
                      {"ocsp_staple", stapled}};
}

std::optional<certs::TimePoint> staple_next_update(const inspect::HandshakeObservation& h,
                                                   certs::TimePoint at) {
  const auto v = staple_of(h, at);
  if (!v || v->problem == "malformed" || v->problem == "not_successful") return std::nullopt;
  return v->next_update;
}

}  // namespace tlsprobe::proxy
