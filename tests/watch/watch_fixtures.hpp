// Test PKI and servers for the watch tests: one test CA issuing the origin's current leaf
// for www.example.test and the copies an edge may still serve.
//
//   current      notBefore now-10d, notAfter now+80d   (the origin renewed to this)
//   old_valid    notBefore now-300d, notAfter now+60d  (stale copy, far from expiry: warning)
//   old_soon     notBefore now-300d, notAfter now+5d   (stale copy within warn_days: error)
//   old_expired  notBefore now-400d, notAfter now-3d   (stale copy, expired: error)
//   other_host   notBefore now-5d, names other.example.test (another site's cert: mismatch)
//   self_signed  same names as current, its own issuer (an origin nobody trusts)
// Servers send leaf + intermediate; the trust store holds the root only.
#pragma once

#include "pki/test_pki.hpp"
#include "support/loopback_server.hpp"
#include "support/tls_test_server.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace watchtest {

using namespace tlsprobe;
using std::chrono::days;

inline const std::string site_host = "www.example.test";

struct WatchPki {
  explicit WatchPki(certs::TimePoint at)
      : now(at),
        root(testpki::make_root({.common_name = "Watch Test Root",
                                 .not_before = at - days(3000),
                                 .not_after = at + days(3000)})),
        ca(testpki::issue(root, {.common_name = "Watch Test CA",
                                 .not_before = at - days(2000),
                                 .not_after = at + days(2000),
                                 .is_ca = true})),
        current(leaf({site_host}, at - days(10), at + days(80))),
        old_valid(leaf({site_host}, at - days(300), at + days(60))),
        old_soon(leaf({site_host}, at - days(300), at + days(5))),
        old_expired(leaf({site_host}, at - days(400), at - days(3))),
        other_host(leaf({"other.example.test"}, at - days(5), at + days(90))),
        self_signed(testpki::make_self_signed({.common_name = site_host,
                                               .dns_names = {site_host},
                                               .not_before = at - days(10),
                                               .not_after = at + days(80)})) {}

  testpki::Issued leaf(std::vector<std::string> names, certs::TimePoint nb,
                       certs::TimePoint na) const {
    return testpki::issue(
        ca, {.common_name = names.front(), .dns_names = names, .not_before = nb, .not_after = na});
  }

  // A server presenting `leaf` (+ the CA certificate unless self-signed) for every SNI.
  std::unique_ptr<testsupport::TlsTestServer> serve(const testpki::Issued& l) const {
    testsupport::TlsServerOptions o;
    const bool self = l.cert.issuer() == l.cert.subject();
    o.default_chain =
        testsupport::ServedChain::of(l, self ? certs::Chain{} : certs::Chain{ca.cert});
    o.workers = 2;
    return std::make_unique<testsupport::TlsTestServer>(std::move(o));
  }

  certs::TimePoint now;
  testpki::Issued root, ca, current, old_valid, old_soon, old_expired, other_host, self_signed;
};

// The record whose destination is `address` ("127.0.0.1:port"), or nullptr.
inline const boost::json::object* record_for(const std::vector<boost::json::object>& records,
                                             const std::string& address) {
  for (const auto& r : records) {
    const auto& d = r.at("destination").as_object();
    const std::string a = std::string(d.at("address").as_string()) + ":" +
                          std::to_string(d.at("port").to_number<int>());
    if (a == address) return &r;
  }
  return nullptr;
}

// Codes of the findings in a record, in order.
inline std::vector<std::string> codes_of(const boost::json::object& record) {
  std::vector<std::string> out;
  for (const auto& f : record.at("tlsprobe").at("findings").as_array())
    out.emplace_back(f.at("code").as_string());
  return out;
}

inline bool has_code(const boost::json::object& record, const std::string& code) {
  for (const auto& c : codes_of(record))
    if (c == code) return true;
  return false;
}

// The first finding with `code` in a record (as a JSON object), or nullptr.
inline const boost::json::object* finding_in(const boost::json::object& record,
                                             const std::string& code) {
  for (const auto& f : record.at("tlsprobe").at("findings").as_array())
    if (f.at("code").as_string() == code) return &f.as_object();
  return nullptr;
}

inline std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

}  // namespace watchtest
