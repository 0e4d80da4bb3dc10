#include "inspect/interception_products.hpp"

#include "certs/ascii.hpp"

#include <array>
#include <string>

namespace tlsprobe::inspect {

namespace {

using P = std::string_view;

// The names below are the ones these products put in their CA certificates (defaults that
// administrators rarely change) or the vendor's organisation name.
constexpr std::array<P, 1> kZscaler = {"zscaler"};
constexpr std::array<P, 1> kNetskope = {"netskope"};
constexpr std::array<P, 1> kPaloAlto = {"palo alto networks"};
constexpr std::array<P, 2> kFortinet = {"fortinet", "fortigate"};
constexpr std::array<P, 3> kBlueCoat = {"blue coat", "bluecoat", "proxysg"};
constexpr std::array<P, 2> kUmbrella = {"cisco umbrella", "opendns"};
constexpr std::array<P, 2> kForcepoint = {"forcepoint", "websense"};
constexpr std::array<P, 1> kMcafee = {"mcafee web gateway"};
constexpr std::array<P, 1> kSophos = {"sophos"};
constexpr std::array<P, 1> kKaspersky = {"kaspersky"};
constexpr std::array<P, 3> kAvast = {"avast", "avg technologies", "web/mail shield"};
constexpr std::array<P, 2> kEset = {"eset ssl filter", "eset, spol"};
constexpr std::array<P, 1> kBitdefender = {"bitdefender"};
constexpr std::array<P, 1> kMitmproxy = {"mitmproxy"};
constexpr std::array<P, 1> kCharles = {"charles proxy"};
constexpr std::array<P, 2> kFiddler = {"do_not_trust_fiddlerroot", "fiddler"};
constexpr std::array<P, 1> kBurp = {"portswigger"};

constexpr std::array kProducts = {
    InterceptionProduct{"Zscaler", "cloud security proxy", kZscaler},
    InterceptionProduct{"Netskope", "cloud security proxy", kNetskope},
    InterceptionProduct{"Palo Alto Networks (SSL forward proxy)", "firewall TLS decryption",
                        kPaloAlto},
    InterceptionProduct{"Fortinet FortiGate (SSL deep inspection)", "firewall TLS decryption",
                        kFortinet},
    InterceptionProduct{"Blue Coat / Symantec ProxySG", "corporate web proxy", kBlueCoat},
    InterceptionProduct{"Cisco Umbrella", "cloud security proxy", kUmbrella},
    InterceptionProduct{"Forcepoint (Websense)", "corporate web proxy", kForcepoint},
    InterceptionProduct{"McAfee Web Gateway", "corporate web proxy", kMcafee},
    InterceptionProduct{"Sophos", "firewall or antivirus HTTPS scanning", kSophos},
    InterceptionProduct{"Kaspersky", "antivirus HTTPS scanning", kKaspersky},
    InterceptionProduct{"Avast / AVG", "antivirus HTTPS scanning", kAvast},
    InterceptionProduct{"ESET (SSL/TLS filtering)", "antivirus HTTPS scanning", kEset},
    InterceptionProduct{"Bitdefender", "antivirus HTTPS scanning", kBitdefender},
    InterceptionProduct{"mitmproxy", "debugging proxy", kMitmproxy},
    InterceptionProduct{"Charles Proxy", "debugging proxy", kCharles},
    InterceptionProduct{"Fiddler", "debugging proxy", kFiddler},
    InterceptionProduct{"Burp Suite (PortSwigger)", "debugging proxy", kBurp},
};

}  // namespace

std::span<const InterceptionProduct> interception_products() { return kProducts; }

std::optional<InterceptionProduct> recognise_interception_ca(std::string_view dn) {
  // Lower case, and without RFC 4514's escapes ("O=ESET\, spol. s r.o.").
  std::string lower;
  lower.reserve(dn.size());
  for (char c : dn)
    if (c != '\\') lower.push_back(certs::ascii_lower(c));
  for (const auto& p : kProducts)
    for (auto pattern : p.patterns)
      if (lower.find(pattern) != std::string::npos) return p;
  return std::nullopt;
}

}  // namespace tlsprobe::inspect
