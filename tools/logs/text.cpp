#include "logs/text.hpp"

#include <fnmatch.h>

#include <chrono>
#include <cstdio>

namespace tlsprobe::logs {

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Length of a valid UTF-8 sequence at s[i], 0 if invalid (RFC 3629).
std::size_t utf8_len(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

std::uint32_t decode(std::string_view s, std::size_t i, std::size_t n) {
  const auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(s[i + k]) & 0xFF; };
  switch (n) {
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    case 4:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    default:
      return b(0);
  }
}

// Code points that reorder or hide text on a terminal or page (Trojan Source, CVE-2021-42574).
bool is_bidi_or_invisible(std::uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
         cp == 0x200F || cp == 0x061C || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0xFEFF;
}

void append_escaped(std::string& out, std::string_view s, bool html) {
  char buf[16];
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_len(s, i);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    if (n == 1) {
      if (c < 0x20 || c == 0x7F) {
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      } else if (html && c == '&') {
        out += "&amp;";
      } else if (html && c == '<') {
        out += "&lt;";
      } else if (html && c == '>') {
        out += "&gt;";
      } else if (html && c == '"') {
        out += "&quot;";
      } else if (html && c == '\'') {
        out += "&#39;";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::uint32_t cp = decode(s, i, n);
    if ((cp >= 0x80 && cp < 0xA0) || is_bidi_or_invisible(cp)) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
}

}  // namespace

std::optional<Millis> parse_rfc3339_ms(std::string_view s) {
  int y, mo, d;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  Millis t = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * ms_per_day;
  if (s.size() == 10) return t;
  int h, mi, sec;
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  t += (h * 3600LL + mi * 60LL + sec) * 1000;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    int frac = 0, ndigits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (ndigits < 3) frac = frac * 10 + (s[pos] - '0');
      ++ndigits;
      ++pos;
    }
    if (ndigits == 0) return std::nullopt;
    for (int k = ndigits; k < 3; ++k) frac *= 10;
    t += frac;
  }
  if (pos >= s.size()) return std::nullopt;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return t;
  if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om)) return std::nullopt;
    const Millis offset = (oh * 3600LL + om * 60LL) * 1000;
    return s[pos] == '+' ? t - offset : t + offset;
  }
  return std::nullopt;
}

std::optional<Millis> parse_time_arg(std::string_view text, Millis now) {
  if (auto t = parse_rfc3339_ms(text)) return t;
  if (text.size() < 2) return std::nullopt;
  Millis unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = 60'000;
      break;
    case 'h':
      unit = 3'600'000;
      break;
    case 'd':
      unit = ms_per_day;
      break;
    case 'w':
      unit = 7 * ms_per_day;
      break;
    default:
      return std::nullopt;
  }
  Millis n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || n > 1'000'000'000) return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  return now - n * unit;
}

std::string format_ms(Millis t, bool millis) {
  if (t == no_time) return "";
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds{t}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[48];
  if (millis) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
  }
  return buf;
}

std::string format_date(Millis t) {
  std::string s = format_ms(t);
  return s.size() >= 10 ? s.substr(0, 10) : s;
}

Millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t days_between(Millis now, Millis t) {
  const Millis d = t - now;
  // Whole days rounded toward zero, like every other "days" tlsprobe prints.
  return d / ms_per_day;
}

std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s, false);
  return out;
}

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  append_escaped(out, s, true);
  return out;
}

std::string escape_csv(std::string_view s) {
  std::string text = escape_text(s);
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@'))
    text.insert(text.begin(), '\'');
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  const std::string p(pattern), t(text);
  return fnmatch(p.c_str(), t.c_str(), FNM_CASEFOLD) == 0;
}

std::string colour_by_severity(std::string_view text, std::string_view severity, bool on) {
  if (!on) return std::string(text);
  const char* code = severity == "error"     ? "\x1b[31m"
                     : severity == "warning" ? "\x1b[33m"
                     : severity == "ok"      ? "\x1b[32m"
                                             : "\x1b[2m";
  return code + std::string(text) + "\x1b[0m";
}

}  // namespace tlsprobe::logs
