// The intercepting proxy's upstream handshake asks for a stapled OCSP response like the
// prober does: an upstream that staples is not reported as ocsp.not_stapled (it was: the
// upstream TLS never sent status_request), and a resumed upstream session keeps the staple
// of its full handshake in the record.
#include "http_peers.hpp"
#include "intercept_fixture.hpp"
#include "pki/revocation_pki.hpp"

#include <boost/json/serialize.hpp>

using namespace tlsprobe;
using namespace tlsprobe::intercept_test;
using testsupport::ServedChain;

namespace {

// root -> intermediate -> leaf for good.test, valid now, the leaf naming an OCSP responder
// (nothing listens there: only the staple is read).
testpki::Hierarchy make_stapling_pki() {
  const auto now = testpki::now();
  auto root = testpki::make_root({.common_name = "Staple Root",
                                  .not_before = now - std::chrono::hours(24),
                                  .not_after = now + std::chrono::days(3650)});
  auto intermediate = testpki::issue(root, {.common_name = "Staple Intermediate",
                                            .not_before = now - std::chrono::hours(24),
                                            .not_after = now + std::chrono::days(1825),
                                            .is_ca = true});
  auto leaf = testpki::issue(intermediate, {.common_name = "good.test",
                                            .dns_names = {"good.test"},
                                            .not_before = now - std::chrono::hours(24),
                                            .not_after = now + std::chrono::days(90),
                                            .ocsp_url = "http://127.0.0.1:9/ocsp"});
  return {std::move(root), std::move(intermediate), std::move(leaf)};
}

struct StapleLab {
  testpki::Hierarchy pki = make_stapling_pki();
  std::string fresh_staple() const {
    const auto now = testpki::now();
    testpki::OcspSpec spec;
    spec.this_update = now - std::chrono::hours(1);
    spec.next_update = now + std::chrono::days(3);
    return testpki::make_ocsp_response(pki.intermediate, pki.leaf.cert, spec);
  }
  ProxyOptions proxy_options() const {
    return {.anchors = {pki.root.cert}, .resolve = {{"good.test", "127.0.0.1"}}};
  }
};

bool has_code(const boost::json::object& line, std::string_view code) {
  for (const auto& f : line.at("tlsprobe").at("findings").as_array())
    if (f.at("code").as_string() == code) return true;
  return false;
}

std::vector<boost::json::object> intercept_lines(InterceptingProxy& proxy) {
  std::vector<boost::json::object> out;
  for (auto& l : proxy.log_lines())
    if (l.at("tlsprobe").at("mode").as_string() == "intercept") out.push_back(std::move(l));
  return out;
}

void fetch(InterceptingProxy& proxy, std::uint16_t upstream_port) {
  ProxyClient c(proxy.port(), "good.test", upstream_port, proxy.ca_path(), "good.test");
  const auto r = c.request("GET", "/", "good.test");
  CHECK(r.head.status() == 200);
}

}  // namespace

TEST_CASE("intercept: an upstream that staples OCSP is not reported as not stapling",
          "[revocation]") {
  StapleLab lab;
  ScriptedUpstream up(ServedChain::of(lab.pki), [](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (req.complete) io.write(http_response(200, "OK", "ok"));
  });
  up.staple(lab.fresh_staple());
  InterceptingProxy proxy(lab.proxy_options());
  // Until an upstream connection resumes the session of an earlier one (the TLS 1.3 ticket
  // arrives after the handshake, so the second connection may still miss it), at most 6.
  std::size_t fetches = 0;
  while (fetches < 6 && (fetches < 2 || proxy.interceptor().upstream().resumed() == 0)) {
    fetch(proxy, up.port());
    ++fetches;
  }
  const auto resumed = proxy.interceptor().upstream().resumed();
  const auto lines = intercept_lines(proxy);
  REQUIRE(lines.size() == fetches);
  for (const auto& line : lines) {
    INFO(boost::json::serialize(line));
    CHECK_FALSE(has_code(line, "ocsp.not_stapled"));
    CHECK(line.at("tlsprobe").at("ocsp").at("stapled").as_bool());
    CHECK(line.at("tlsprobe").at("ocsp").at("status").as_string() == "good");
  }
  // A later upstream connection resumed an earlier one's session (no staple is sent in a
  // resumed handshake): its record still shows the staple.
  INFO("fetches " << fetches << ", upstream handshakes " << up.handshakes());
  CHECK(resumed >= 1);
}

TEST_CASE("intercept: an upstream that does not staple is reported (ocsp.not_stapled)",
          "[revocation]") {
  StapleLab lab;
  ScriptedUpstream up(ServedChain::of(lab.pki), [](TlsIo& io) {
    const auto req = io.read_message(false, 5s);
    if (req.complete) io.write(http_response(200, "OK", "ok"));
  });
  InterceptingProxy proxy(lab.proxy_options());
  fetch(proxy, up.port());
  const auto lines = intercept_lines(proxy);
  REQUIRE(lines.size() == 1);
  INFO(boost::json::serialize(lines.front()));
  CHECK(has_code(lines.front(), "ocsp.not_stapled"));
  CHECK_FALSE(lines.front().at("tlsprobe").at("ocsp").at("stapled").as_bool());
}
