// inspect/finding.hpp: the order findings are written and announced in.
#include "inspect/finding.hpp"

#include <catch2/catch.hpp>

using namespace tlsprobe::inspect;

namespace {

Finding named(std::string code, Severity severity) {
  Finding f;
  f.code = std::move(code);
  f.severity = severity;
  return f;
}

std::vector<std::string> codes_of(const Findings& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.code);
  return out;
}

}  // namespace

TEST_CASE("sort_by_severity puts errors first and keeps the order within a severity", "[finding]") {
  Findings fs = {named("w1", Severity::warning), named("i1", Severity::info),
                 named("e1", Severity::error), named("w2", Severity::warning),
                 named("e2", Severity::error)};
  sort_by_severity(fs);
  CHECK(codes_of(fs) == std::vector<std::string>{"e1", "e2", "w1", "w2", "i1"});

  // Already in order (the usual case, returned as it is) and the empty list.
  sort_by_severity(fs);
  CHECK(codes_of(fs) == std::vector<std::string>{"e1", "e2", "w1", "w2", "i1"});
  Findings none;
  sort_by_severity(none);
  CHECK(none.empty());

  // One out of place at the end.
  fs.push_back(named("e3", Severity::error));
  sort_by_severity(fs);
  CHECK(codes_of(fs) == std::vector<std::string>{"e1", "e2", "e3", "w1", "w2", "i1"});
}
