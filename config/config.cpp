#include "config/config.hpp"

namespace tlsprobe::config {

std::string_view to_string(UpstreamErrorPolicy p) {
  switch (p) {
    case UpstreamErrorPolicy::explain:
      return "explain";
    case UpstreamErrorPolicy::mirror:
      return "mirror";
    case UpstreamErrorPolicy::pass:
      return "pass";
  }
  return "explain";
}

std::string_view to_string(Mode m) { return m == Mode::reverse ? "reverse" : "forward"; }

std::string_view to_string(EdgeCert e) { return e == EdgeCert::own ? "own" : "same"; }

std::optional<UpstreamErrorPolicy> parse_upstream_error_policy(std::string_view s) {
  if (s == "explain") return UpstreamErrorPolicy::explain;
  if (s == "mirror") return UpstreamErrorPolicy::mirror;
  if (s == "pass") return UpstreamErrorPolicy::pass;
  return std::nullopt;
}

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "forward") return Mode::forward;
  if (s == "reverse") return Mode::reverse;
  return std::nullopt;
}

std::optional<EdgeCert> parse_edge_cert(std::string_view s) {
  if (s == "same") return EdgeCert::same;
  if (s == "own") return EdgeCert::own;
  return std::nullopt;
}

}  // namespace tlsprobe::config
