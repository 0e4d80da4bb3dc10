#include "config/exposure.hpp"

#include "config/address.hpp"

namespace tlsprobe::config {

std::string admin_policy_error(std::string_view admin,
                               const std::vector<std::string>& admin_allow) {
  if (admin == "off") return {};
  auto hp = parse_listen_address(admin, 9464);
  if (!hp) return "admin address \"" + std::string(admin) + "\": " + hp.error;
  for (const auto& a : admin_allow)
    if (auto c = parse_cidr(a); !c) return "admin_allow \"" + a + "\": " + c.error;
  if (is_loopback(hp->host) || !admin_allow.empty()) return {};
  return "refusing to serve the admin listener on non-loopback address " + format_host_port(*hp) +
         " without --admin-allow CIDR (or `admin_allow` in the config): anyone who can reach "
         "it could read the metrics, which name every host clients visited";
}

std::function<bool(std::string_view)> admin_client_filter(
    const std::vector<std::string>& admin_allow) {
  std::vector<Cidr> allow;
  for (const auto& a : admin_allow)
    if (auto c = parse_cidr(a)) allow.push_back(*c);
  return [allow](std::string_view client) { return client_allowed(allow, client); };
}

bool admits_everyone(std::string_view cidr) {
  const auto c = parse_cidr(cidr);
  if (!c) return false;
  // IPv4 prefixes are stored over 128 bits: 0.0.0.0/0 is /96.
  return c->v4 ? c->prefix == 96 : c->prefix == 0;
}

std::vector<std::string> exposure_warnings(const Config& cfg) {
  std::vector<std::string> out;
  for (const auto& a : cfg.allow)
    if (admits_everyone(a))
      out.push_back("allow " + a + " admits every client address: anyone who can reach " +
                    cfg.listen + " can use the proxy");
  for (const auto& a : cfg.admin_allow)
    if (admits_everyone(a))
      out.push_back("admin_allow " + a +
                    " admits every client address: anyone who can reach the admin listener " +
                    cfg.admin + " reads its metrics");
  for (const auto& a : cfg.allow_destinations)
    if (admits_everyone(a))
      out.push_back("allow_destinations " + a +
                    " lets every client reach this host's loopback and link-local services "
                    "through the proxy");
  return out;
}

}  // namespace tlsprobe::config
