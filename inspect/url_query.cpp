#include "inspect/url_query.hpp"

namespace tlsprobe::inspect {

std::string_view without_query(std::string_view url) {
  return url.substr(0, url.find_first_of("?#"));
}

std::optional<std::string_view> query_of(std::string_view url) {
  const auto hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  return url.substr(q + 1);
}

}  // namespace tlsprobe::inspect
