// Every x509-limbo SERVER testcase through tlsprobe's pure diagnosis, against a checked-in
// verdict table (tests/data/limbo/verdicts.tsv). Any change of verdict or codes fails here;
// to accept one on purpose: TLSPROBE_UPDATE_LIMBO=1 ./build-dev/tests/tests_conformance,
// then review `git diff tests/data/limbo/`.
#include "conformance/limbo.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>

namespace {

struct Computed {
  limbo::Case c;
  limbo::Verdict v;
  std::string openssl;
  bool keyed() const { return !c.peer_key_pem.empty(); }
};

const std::vector<Computed>& computed() {
  static const std::vector<Computed> all = [] {
    std::vector<Computed> out;
    for (auto& c : limbo::load_server_cases()) {
      auto v = limbo::tlsprobe_verdict(c);
      auto o = limbo::openssl_verdict(c);
      out.push_back(Computed{std::move(c), std::move(v), std::move(o)});
    }
    return out;
  }();
  return all;
}

limbo::Row row_of(const Computed& k) {
  return limbo::Row{k.c.id, k.c.expected, k.v.verdict, k.openssl, k.v.codes};
}

struct Score {
  int n = 0, tlsprobe = 0, openssl = 0, via_profile = 0;
};

std::map<std::string, Score> scores(bool keyed_only) {
  std::map<std::string, Score> by_family;
  for (const auto& k : computed()) {
    if (keyed_only && !k.keyed()) continue;
    for (const auto& key : {k.c.family, std::string("all")}) {
      auto& s = by_family[key];
      ++s.n;
      if (limbo::tlsprobe_right(k.c.expected, k.v.verdict)) ++s.tlsprobe;
      if (limbo::openssl_right(k.c.expected, k.openssl)) ++s.openssl;
      if (k.c.expected == "FAILURE" && k.v.verdict == "SUCCESS+profile") ++s.via_profile;
    }
  }
  return by_family;
}

std::string summary_markdown() {
  std::ostringstream md;
  md << "| family | cases | tlsprobe right | of which via cert.profile | OpenSSL 3.0 right |\n"
     << "|---|---|---|---|---|\n";
  auto emit = [&](const std::map<std::string, Score>& s, const std::string& suffix) {
    for (const auto& [family, sc] : s) {
      if (family == "all") continue;
      md << "| " << family << suffix << " | " << sc.n << " | " << sc.tlsprobe << " | "
         << sc.via_profile << " | " << sc.openssl << " |\n";
    }
    const auto& a = s.at("all");
    md << "| **all" << suffix << "** | " << a.n << " | " << a.tlsprobe << " | " << a.via_profile
       << " | " << a.openssl << " |\n";
  };
  emit(scores(false), "");
  const auto keyed = scores(true);
  const auto& a = keyed.at("all");
  md << "| **keyed (servable)** | " << a.n << " | " << a.tlsprobe << " | " << a.via_profile << " | "
     << a.openssl << " |\n";
  return md.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("limbo: every SERVER case keeps its checked-in verdict", "[conformance][limbo]") {
  const std::string table = limbo::data_dir() + "/verdicts.tsv";
  if (std::getenv("TLSPROBE_UPDATE_LIMBO")) {
    std::string text = std::string(limbo::kTableHeader) + "\n";
    for (const auto& k : computed()) text += limbo::format_row(row_of(k)) + "\n";
    write_file(table, text);
    write_file(limbo::data_dir() + "/summary.md", summary_markdown());
    WARN("rewrote " << table << " and summary.md: review the diff");
  }
  const auto rows = limbo::read_table(table);
  const auto& now = computed();
  REQUIRE(now.size() == 198);
  REQUIRE(rows.size() == now.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto r = row_of(now[i]);
    INFO(r.id << "\n  table: " << limbo::format_row(rows[i])
              << "\n  now:   " << limbo::format_row(r)
              << "\n  (intended? TLSPROBE_UPDATE_LIMBO=1 tests_conformance, review the diff)");
    CHECK(limbo::format_row(rows[i]) == limbo::format_row(r));
  }
}

// TLSPROBE_LIMBO_SHOW=<id prefix> prints the findings of the matching cases (debugging).
TEST_CASE("limbo: show the findings of chosen cases", "[conformance][limbo][.show]") {
  const char* want = std::getenv("TLSPROBE_LIMBO_SHOW");
  if (!want) return;
  for (const auto& k : computed()) {
    if (k.c.id.rfind(want, 0) != 0) continue;
    std::cout << k.c.id << " expected " << k.c.expected << " openssl " << k.openssl << "\n";
    for (const auto& f : k.v.findings) {
      std::cout << "  " << f.code << " [" << tlsprobe::inspect::to_string(f.severity) << "] "
                << f.message << "\n";
    }
  }
}

TEST_CASE("limbo: where OpenSSL rejects, tlsprobe has an error finding", "[conformance][limbo]") {
  for (const auto& k : computed()) {
    if (k.openssl == "SUCCESS") continue;
    INFO(k.c.id << " openssl " << k.openssl << " tlsprobe " << k.v.verdict << " " << k.v.codes);
    CHECK(k.v.verdict == "FAILURE");
  }
}

TEST_CASE("limbo: every error finding is explained and names a certificate",
          "[conformance][limbo]") {
  for (const auto& k : computed()) {
    for (const auto& f : k.v.findings) {
      INFO(k.c.id << " " << f.code);
      CHECK(!f.message.empty());
      CHECK(!f.remedy.empty());
      CHECK(f.message.find('{') == std::string::npos);
      for (auto key : {"openssl", "chrome", "firefox", "curl"}) CHECK(f.equivalents.count(key));
      if (f.severity == tlsprobe::inspect::Severity::error) CHECK(f.evidence.count("certificate"));
    }
  }
}

TEST_CASE("limbo: tlsprobe agrees with the expected result at least as often as OpenSSL",
          "[conformance][limbo]") {
  const auto all = scores(false);
  for (const auto& [family, s] : all) {
    INFO(family << ": tlsprobe " << s.tlsprobe << ", OpenSSL " << s.openssl << " of " << s.n);
    CHECK(s.tlsprobe >= s.openssl);
  }
  const auto keyed = scores(true);
  INFO(summary_markdown());
  CHECK(keyed.at("all").tlsprobe >= 150);
}

TEST_CASE("limbo: each profile rule appears on its case and not on a clean one",
          "[conformance][limbo][profile]") {
  const std::pair<const char*, const char*> cases[] = {
      {"rfc5280::aki::leaf-missing-aki", "aki_missing"},
      {"rfc5280::ski::intermediate-missing-ski", "ski_missing"},
      {"rfc5280::serial::zero", "serial_zero"},
      {"rfc5280::serial::too-long", "serial_too_long"},
      {"webpki::forbidden-rsa-key-not-divisible-by-8-in-leaf", "rsa_modulus_not_multiple_of_8"},
      {"rfc5280::leaf-ku-keycertsign", "leaf_key_cert_sign"},
      {"rfc5280::root-non-critical-basic-constraints", "basic_constraints_not_critical"},
      {"webpki::eku::ee-anyeku", "leaf_any_eku"},
      {"webpki::eku::ee-without-eku", "leaf_without_eku"},
      {"webpki::cn::not-in-san", "cn_not_in_san"},
      {"rfc5280::san::underscore-dns", "dns_underscore"},
      {"webpki::san::public-suffix-multi-label-wildcard-san", "wildcard_public_suffix"},
  };
  for (const auto& [id, rule] : cases) {
    INFO(id << " " << rule);
    bool found = false, known = false;
    for (const auto& k : computed()) {
      if (k.c.id != id) continue;
      known = true;
      for (const auto& f : k.v.findings)
        if (f.code == "cert.profile" && f.evidence.at("rule") == rule) found = true;
    }
    CHECK(known);
    CHECK(found);
  }
  for (const auto& k : computed())
    if (k.c.id == "rfc5280::nc::permitted-dns-match" ||
        k.c.id == "pathlen::ee-with-intermediate-pathlen-0") {
      INFO(k.c.id);
      CHECK(k.v.codes == "-");
    }
}

TEST_CASE("limbo: each new error code on its case", "[conformance][limbo]") {
  const std::pair<const char*, const char*> cases[] = {
      {"rfc5280::intermediate-ca-without-ca-bit", "chain.not_a_ca"},
      {"pathlen::intermediate-violates-pathlen-0", "chain.path_length"},
      {"rfc5280::nc::excluded-dns-match", "chain.name_constraints"},
      {"cve::cve-2025-61727", "chain.name_constraints"},
      {"rfc5280::eku::ee-wrong-eku", "cert.bad_purpose"},
      {"rfc5280::unknown-critical-extension-intermediate", "cert.critical_extension"},
      {"rfc5280::duplicate-extensions", "cert.malformed"},
      {"webpki::forbidden-p192-root", "key.weak"},
      {"pathological::nc-dos-1", "chain.verify_failed"},
  };
  for (const auto& [id, code] : cases) {
    INFO(id << " " << code);
    bool found = false;
    for (const auto& k : computed())
      if (k.c.id == id) found = k.v.codes.find(code) != std::string::npos;
    CHECK(found);
  }
}

TEST_CASE("limbo: the crl family comes out right when its CRLs are passed",
          "[conformance][limbo][crl]") {
  int n = 0;
  for (const auto& k : computed()) {
    if (k.c.family != "crl") continue;
    ++n;
    INFO(k.c.id << " expected " << k.c.expected << " tlsprobe " << k.v.verdict << " " << k.v.codes);
    CHECK(!k.c.crl_pems.empty());
    CHECK(limbo::tlsprobe_right(k.c.expected, k.v.verdict));
    // Revoked is cert.revoked; a CRL that fails a check is revocation.unknown; nothing else.
    if (k.c.id == "crl::revoked-certificate-with-crl") CHECK(k.v.codes == "cert.revoked");
    if (k.c.expected == "SUCCESS") CHECK(k.v.codes == "-");
  }
  CHECK(n == 8);
}
