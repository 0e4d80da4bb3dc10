// Text helpers for the log reader: times, escaping for terminals, HTML and CSV.
// Every string printed by `tlsprobe logs` comes from a log whose certificate fields are
// attacker-controlled, so nothing is printed without one of the escapes below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::logs {

// Milliseconds since the Unix epoch (UTC); the reader's one time type.
using Millis = std::int64_t;
inline constexpr Millis no_time = INT64_MIN;
inline constexpr Millis ms_per_day = 86'400'000;

// RFC 3339 ("2026-06-01T12:00:00Z", "2026-06-01T12:00:00.123+02:00", "2026-06-01" as midnight
// UTC) to milliseconds; nullopt on anything else.
std::optional<Millis> parse_rfc3339_ms(std::string_view text);
// A --since/--until argument: RFC 3339, or a duration before `now` ("90s", "30m", "2h", "7d",
// "2w").
std::optional<Millis> parse_time_arg(std::string_view text, Millis now);
// "2026-06-01T12:00:00Z" (seconds) or with `millis` "2026-06-01T12:00:00.123Z".
std::string format_ms(Millis t, bool millis = false);
// "2026-06-01".
std::string format_date(Millis t);
Millis now_ms();
// Whole days from `now` to `t`, rounded toward minus infinity (expired yesterday = -1).
std::int64_t days_between(Millis now, Millis t);

// For terminals: control characters, DEL, C1 controls, bidi overrides and invalid UTF-8
// become visible escapes ("\x1b", "\u202E"); everything else is kept.
std::string escape_text(std::string_view s);
// For HTML text and attribute values: & < > " ' plus escape_text's treatment of controls.
std::string escape_html(std::string_view s);
// One CSV field (RFC 4180 quoting); a leading = + - @ is neutralised with a ' so that
// spreadsheets do not evaluate certificate text as a formula.
std::string escape_csv(std::string_view s);

// `s` with invalid UTF-8 sequences replaced by U+FFFD, for JSON output (the reader accepts
// logs with raw bytes; what it writes is always valid JSON).
std::string to_valid_utf8(std::string_view s);

// `text` in the colour of `severity` ("error" red, "warning" yellow, "info" dim, "ok"
// green) when `on` (--color); `text` itself otherwise.
std::string colour_by_severity(std::string_view text, std::string_view severity, bool on);

// Shell-style glob, case-insensitive (host names).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace tlsprobe::logs
