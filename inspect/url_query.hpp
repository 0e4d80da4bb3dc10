// Query strings out of logged URLs (issue 12 item 8). A URL's query (and fragment) carries
// secrets often enough (OAuth `code=`, `api_key=`, session ids, signed-URL signatures) that
// nothing tlsprobe writes to a log or to stderr keeps it unless asked to ([log] keep_query).
// Pure string functions: no parsing beyond the first '?' or '#'.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::inspect {

// `url` (absolute, or an origin-form target "/p?q") up to its first '?' or '#':
// "https://h/p?code=1#x" -> "https://h/p". Unchanged when it has neither.
std::string_view without_query(std::string_view url);

// The query of `url` without the '?' and without a fragment ("https://h/p?a=1#x" -> "a=1");
// nullopt when there is no '?' before a '#'.
std::optional<std::string_view> query_of(std::string_view url);

// `url` as it may be shown: itself when `keep_query`, else without_query(url).
inline std::string shown_url(std::string_view url, bool keep_query) {
  return std::string(keep_query ? url : without_query(url));
}

}  // namespace tlsprobe::inspect
