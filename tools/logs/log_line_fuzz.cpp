// libFuzzer target for the log reader's per-line path: RecordParser::parse (JSON into a
// RecordView through a reused arena), then what `tlsprobe logs grep|follow` do with a
// record (filter, one-line text, finding lines). Log files are written by tlsprobe but also
// edited, truncated and concatenated by people and pipelines: any line may be garbage.
// One parser serves every input, as in the reader, so arena reuse across lines is covered.
// Built only with TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "logs/filter.hpp"
#include "logs/record.hpp"
#include "logs/text.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace tlsprobe::logs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RecordParser parser;
  static RecordView view;
  const std::string_view line(reinterpret_cast<const char*>(data), size);

  (void)parse_rfc3339_ms(line);
  (void)escape_text(line);
  (void)to_valid_utf8(line);
  if (!parser.parse(line, view)) return 0;

  RecordFilter filter;
  filter.hosts = {"*.example.com", "127.0.0.1*"};
  filter.codes = {"chain.*"};
  filter.min_severity = 1;
  filter.role = "edge";
  filter.since = 0;
  filter.until = 4'102'444'800'000;  // 2100-01-01
  (void)filter.matches(view);
  (void)RecordFilter{}.matches(view);
  (void)one_line(view);
  (void)finding_lines(view);
  for (const auto& c : view.chain) (void)escape_html(c.subject);
  return 0;
}
