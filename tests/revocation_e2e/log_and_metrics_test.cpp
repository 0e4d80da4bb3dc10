// The connection log's tlsprobe.ocsp / tlsprobe.scts objects and the staple metric, from a
// handshake observation with a staple (made in memory): present with a staple, and what a
// handshake without one says.
#include "pki/ct_pki.hpp"
#include "pki/revocation_pki.hpp"
#include "proxy/observe/connection_metrics.hpp"
#include "proxy/observe/log_record.hpp"
#include "proxy/observe/metrics.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace tlsprobe;

namespace {

inspect::HandshakeObservation observed(const testpki::Hierarchy& h, std::string staple,
                                       std::vector<std::string> tls_scts = {}) {
  inspect::HandshakeObservation o;
  o.role = inspect::Role::direct;
  o.host = "www.example.test";
  o.address = "192.0.2.7:443";
  o.sni = "www.example.test";
  o.tls_version = "1.3";
  o.chain = h.fullchain();
  o.ocsp_staple = std::move(staple);
  o.tls_scts = std::move(tls_scts);
  return o;
}

proxy::ConnectionFacts facts_of(inspect::HandshakeObservation o) {
  proxy::ConnectionFacts f;
  f.start = std::chrono::system_clock::time_point(testpki::fixed_now().time_since_epoch());
  f.end = f.start + std::chrono::milliseconds(20);
  f.mode = proxy::LogMode::probe;
  f.destination_domain = "www.example.test";
  f.destination_address = "192.0.2.7";
  f.destination_port = 443;
  f.handshake = std::move(o);
  return f;
}

}  // namespace

TEST_CASE("connection log: tlsprobe.ocsp and tlsprobe.scts", "[revocation][log]") {
  const auto h = testpki::make_hierarchy({"www.example.test"});
  const auto log = testpki::make_ct_log("Log", "Op");
  const auto staple = testpki::make_ocsp_response(h.intermediate, h.leaf.cert);
  auto record = proxy::make_connection_record(
      facts_of(observed(h, staple, {testpki::make_sct(log, h.leaf.cert, testpki::fixed_now())})));
  const auto& ours = record.at("tlsprobe").as_object();
  const auto& ocsp = ours.at("ocsp").as_object();
  CHECK(ocsp.at("stapled").as_bool());
  CHECK(ocsp.at("status").as_string() == "good");
  CHECK(ocsp.at("valid").as_bool());
  CHECK(ocsp.at("next_update").as_string() ==
        certs::format_rfc3339(testpki::fixed_now() + std::chrono::days(3)));
  CHECK(ocsp.at("responder").as_string() == h.intermediate.cert.subject());
  const auto& scts = ours.at("scts").as_object();
  CHECK(scts.at("tls_extension").as_int64() == 1);
  CHECK(scts.at("embedded").as_int64() == 0);
  CHECK(scts.at("ocsp_staple").as_int64() == 0);

  // No staple: stapled false and nothing else about it.
  record = proxy::make_connection_record(facts_of(observed(h, "")));
  const auto& none = record.at("tlsprobe").at("ocsp").as_object();
  CHECK_FALSE(none.at("stapled").as_bool());
  CHECK_FALSE(none.contains("status"));
}

TEST_CASE("metrics: tlsprobe_ocsp_staple_next_update_seconds follows the staple",
          "[revocation][metrics]") {
  const auto h = testpki::make_hierarchy({"www.example.test"});
  proxy::Metrics m;
  proxy::count_record(
      &m, facts_of(observed(h, testpki::make_ocsp_response(h.intermediate, h.leaf.cert))));
  const auto next = (testpki::fixed_now() + std::chrono::days(3)).time_since_epoch().count();
  const std::string text = m.render();
  INFO(text);
  CHECK(text.find(
            "tlsprobe_ocsp_staple_next_update_seconds{host=\"www.example.test\",role=\"direct\","
            "address=\"192.0.2.7:443\"} " +
            std::to_string(next)) != std::string::npos);
  proxy::Metrics without;
  proxy::count_record(&without, facts_of(observed(h, "")));
  CHECK(without.render().find("tlsprobe_ocsp_staple_next_update_seconds{") == std::string::npos);
}

TEST_CASE("connection log lines: a staple's verdict is checked at each record's time",
          "[revocation][log][fragment_memo]") {
  // connection_record_line memoises the chain's text; the OCSP part with a staple depends on
  // the record's time and must not be, and the SCT counts are keyed by what they count.
  const auto h = testpki::make_hierarchy({"www.example.test"});
  const auto log = testpki::make_ct_log("Log", "Op");
  const auto staple = testpki::make_ocsp_response(h.intermediate, h.leaf.cert);
  const auto sct = testpki::make_sct(log, h.leaf.cert, testpki::fixed_now());
  const auto ocsp_of = [](const proxy::ConnectionFacts& f) {
    const std::string line = proxy::connection_record_line(f);
    CHECK(line == proxy::to_json_line(proxy::make_connection_record(f)));
    return boost::json::parse(line).at("tlsprobe").as_object();
  };

  auto fresh = facts_of(observed(h, staple, {sct}));
  CHECK(ocsp_of(fresh).at("ocsp").at("valid").as_bool());
  auto stale = fresh;  // the same handshake, logged after the staple's next_update
  stale.end += std::chrono::days(4);
  const auto later = ocsp_of(stale);
  CHECK_FALSE(later.at("ocsp").at("valid").as_bool());
  CHECK(ocsp_of(fresh).at("ocsp").at("valid").as_bool());

  CHECK(later.at("scts").at("tls_extension").as_int64() == 1);
  const auto two = ocsp_of(facts_of(observed(h, staple, {sct, sct})));
  CHECK(two.at("scts").at("tls_extension").as_int64() == 2);
  const auto without = ocsp_of(facts_of(observed(h, "")));
  CHECK_FALSE(without.at("ocsp").at("stapled").as_bool());
  CHECK(without.at("scts").at("tls_extension").as_int64() == 0);
  CHECK(ocsp_of(facts_of(observed(h, ""))) == without);  // the memoised text
}
