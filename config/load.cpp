#include "config/load.hpp"

#include "config/address.hpp"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace tlsprobe::config {

namespace {

std::string format_what(const std::string& file, std::uint32_t line, std::uint32_t column,
                        const std::string& message) {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

// ASCII-only, like certs::ascii_lower (certs/ascii.hpp), which config cannot use: config is a
// separate library that must not depend on certs (and OpenSSL). Keys, hosts and enum names only.
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Levenshtein distance, for "did you mean" on unknown keys (keys are short: O(n*m) is fine).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

using Handler = std::function<void(const toml::key&, const toml::node&)>;
struct KeySpec {
  std::string_view name;
  Handler handle;
};

// Walks a TOML document and fills a Config; every failure throws ConfigError at a node.
class Loader {
 public:
  explicit Loader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& key,
                         const std::string& message) const {
    throw ConfigError(source_, where.begin.line, where.begin.column, key, message);
  }

  // Dispatches each key of a table to its handler; an unknown key is an error at the key
  // itself, so typos never pass silently.
  void walk(const toml::table& table, const std::string& prefix,
            const std::vector<KeySpec>& specs) const {
    // No structured bindings here: clang 14 cannot capture them in the lambda below.
    for (auto&& entry : table) {
      const toml::key& k = entry.first;
      const toml::node& v = entry.second;
      auto it = std::find_if(specs.begin(), specs.end(),
                             [&](const KeySpec& s) { return s.name == k.str(); });
      if (it == specs.end()) {
        std::string msg = "unknown key '" + prefix + std::string(k.str()) + "'";
        std::string_view best;
        std::size_t best_d = 3;  // suggest only close matches
        for (const auto& s : specs) {
          auto d = edit_distance(k.str(), s.name);
          if (d < best_d) best_d = d, best = s.name;
        }
        if (!best.empty()) msg += " (did you mean '" + prefix + std::string(best) + "'?)";
        fail(k.source(), prefix + std::string(k.str()), msg);
      }
      it->handle(k, v);
    }
  }

  std::string str(const toml::node& v, const std::string& key) const {
    if (!v.is_string()) fail(v.source(), key, key + ": expected a string");
    return v.as_string()->get();
  }
  std::string nonempty_str(const toml::node& v, const std::string& key) const {
    auto s = str(v, key);
    if (s.empty()) fail(v.source(), key, key + ": must not be empty");
    return s;
  }
  bool boolean(const toml::node& v, const std::string& key) const {
    if (!v.is_boolean()) fail(v.source(), key, key + ": expected true or false");
    return v.as_boolean()->get();
  }
  std::int64_t integer(const toml::node& v, const std::string& key, std::int64_t min,
                       std::int64_t max) const {
    if (!v.is_integer()) fail(v.source(), key, key + ": expected an integer");
    auto i = v.as_integer()->get();
    if (i < min || i > max)
      fail(v.source(), key,
           key + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
    return i;
  }
  std::uint32_t positive(const toml::node& v, const std::string& key) const {
    return static_cast<std::uint32_t>(integer(v, key, 1, 0xffffffffll));
  }
  // An integer (seconds) or a string with a unit; zero only when allow_zero.
  Duration duration(const toml::node& v, const std::string& key, bool allow_zero) const {
    Duration d{};
    if (v.is_integer()) {
      auto i = v.as_integer()->get();
      if (i < 0) fail(v.source(), key, key + ": must not be negative");
      if (i > 100'000'000) fail(v.source(), key, key + ": duration too large");
      d = std::chrono::seconds(i);
    } else if (v.is_string()) {
      const auto& text = v.as_string()->get();
      if (!text.empty() && text.front() == '-')
        fail(v.source(), key, key + ": must not be negative");
      auto p = parse_duration(text);
      if (!p) fail(v.source(), key, key + ": " + p.error);
      d = *p;
    } else {
      fail(v.source(), key, key + ": expected seconds or a duration string like \"10s\"");
    }
    if (!allow_zero && d.count() == 0) fail(v.source(), key, key + ": must be greater than zero");
    return d;
  }
  const toml::table& table(const toml::node& v, const std::string& key) const {
    if (!v.is_table()) fail(v.source(), key, key + ": expected a table ([" + key + "])");
    return *v.as_table();
  }
  std::vector<std::string> strings(
      const toml::node& v, const std::string& key,
      const std::function<std::string(const toml::node&, const std::string&)>& each) const {
    if (!v.is_array()) fail(v.source(), key, key + ": expected an array of strings");
    std::vector<std::string> out;
    std::size_t i = 0;
    for (const auto& e : *v.as_array()) {
      out.push_back(each(e, key + "[" + std::to_string(i++) + "]"));
    }
    return out;
  }
  // "ADDR:PORT" normalized to "host:port" ("[v6]:port"); the port defaults to default_port
  // (0 = required). `listening`: an address we bind, where port 0 means "any free port".
  std::string host_port(const toml::node& v, const std::string& key, std::uint16_t default_port,
                        bool listening = false) const {
    auto s = str(v, key);
    auto hp = listening ? parse_listen_address(s, default_port) : parse_host_port(s, default_port);
    if (!hp) fail(v.source(), key, key + ": " + hp.error);
    HostPort n = *hp;
    n.host = lower(n.host);
    return format_host_port(n);
  }
  std::string host_name(const toml::node& v, const std::string& key) const {
    auto s = nonempty_str(v, key);
    if (s.find(':') != std::string::npos && !is_ip_literal(s))
      fail(v.source(), key, key + ": a host name without a port");
    if (!is_ip_literal(s)) {
      auto hp = parse_host_port(s, 443);
      if (!hp) fail(v.source(), key, key + ": " + hp.error);
    }
    return lower(s);
  }
  template <class E>
  E enumeration(const toml::node& v, const std::string& key,
                std::optional<E> (*parse)(std::string_view), const char* allowed) const {
    auto s = str(v, key);
    auto e = parse(s);
    if (!e) fail(v.source(), key, key + ": must be " + allowed + ", not \"" + s + "\"");
    return *e;
  }

  Config load(const toml::table& root) {
    Config c;
    const Loader& L = *this;
    walk(root, "",
         {
             {"listen", [&](auto&, auto& v) { c.listen = L.host_port(v, "listen", 8080, true); }},
             {"allow", [&](auto&, auto& v) { c.allow = L.cidrs(v, "allow"); }},
             {"allow_destinations",
              [&](auto&, auto& v) { c.allow_destinations = L.cidrs(v, "allow_destinations"); }},
             {"admin_allow", [&](auto&, auto& v) { c.admin_allow = L.cidrs(v, "admin_allow"); }},
             {"auth", [&](auto&, auto& v) { c.auth = L.auth(v); }},
             {"timeouts", [&](auto&, auto& v) { L.timeouts(v, c.timeouts); }},
             {"limits", [&](auto&, auto& v) { L.limits(v, c.limits); }},
             {"probe_cache_ttl",
              [&](auto&, auto& v) { c.probe_cache_ttl = L.duration(v, "probe_cache_ttl", true); }},
             {"trust", [&](auto&, auto& v) { L.trust(v, c.trust); }},
             {"warn_days",
              [&](auto&, auto& v) {
                c.warn_days = static_cast<int>(L.integer(v, "warn_days", 0, 3650));
              }},
             {"revocation", [&](auto&, auto& v) { c.revocation = L.boolean(v, "revocation"); }},
             {"crl_files",
              [&](auto&, auto& v) {
                c.crl_files =
                    L.strings(v, "crl_files", [&](const toml::node& e, const std::string& k) {
                      return L.nonempty_str(e, k);
                    });
              }},
             {"ct_log_list",
              [&](auto&, auto& v) { c.ct_log_list = L.nonempty_str(v, "ct_log_list"); }},
             {"log", [&](auto&, auto& v) { L.log(v, c.log); }},
             {"intercept", [&](auto&, auto& v) { L.intercept(v, c.intercept); }},
             {"mode",
              [&](auto&, auto& v) {
                c.mode = L.enumeration<Mode>(v, "mode", &parse_mode, "\"forward\" or \"reverse\"");
              }},
             {"upstream",
              [&](auto&, auto& v) {
                c.upstream = L.str(v, "upstream");
                auto u = parse_url(c.upstream);
                if (!u) L.fail(v.source(), "upstream", "upstream: " + u.error);
              }},
             {"upstream_sni",
              [&](auto&, auto& v) { c.upstream_sni = L.host_name(v, "upstream_sni"); }},
             {"allow_hosts",
              [&](auto&, auto& v) {
                c.allow_hosts =
                    L.strings(v, "allow_hosts", [&](const toml::node& e, const std::string& k) {
                      // "*.example.com": every name below example.com.
                      auto s = L.nonempty_str(e, k);
                      const bool wildcard = s.rfind("*.", 0) == 0;
                      if (wildcard && s.size() > 2) {
                        auto hp = parse_host_port(s.substr(2), 443);
                        if (!hp || s.find(':') != std::string::npos)
                          L.fail(e.source(), k, k + ": a host name or *.domain");
                        return lower(s);
                      }
                      return L.host_name(e, k);
                    });
              }},
             {"tls_cert", [&](auto&, auto& v) { c.tls_cert = L.nonempty_str(v, "tls_cert"); }},
             {"tls_key", [&](auto&, auto& v) { c.tls_key = L.nonempty_str(v, "tls_key"); }},
             {"admin",
              [&](auto&, auto& v) {
                auto s = L.str(v, "admin");
                c.admin = s == "off" ? s : L.host_port(v, "admin", 9464);
              }},
             {"watch_interval",
              [&](auto&, auto& v) {
                c.watch_interval = L.duration(v, "watch_interval", false);
                // "5ms" typed for "5m" would probe every site 200 times a second.
                if (c.watch_interval < kMinWatchInterval)
                  L.fail(v.source(), "watch_interval",
                         "watch_interval: must be at least 10s (a round probes every site and "
                         "edge), not " +
                             std::to_string(c.watch_interval.count()) + "ms");
              }},
             {"site", [&](auto&, auto& v) { L.sites(v, c.sites); }},
             {"resolve", [&](auto&, auto& v) { L.resolve(v, c.resolve); }},
         });
    return c;
  }

  // A list of CIDR strings ("10.0.0.0/8", "::1/128"), each checked.
  std::vector<std::string> cidrs(const toml::node& v, const std::string& key) const {
    return strings(v, key, [&](const toml::node& e, const std::string& k) {
      auto s = str(e, k);
      auto cidr = parse_cidr(s);
      if (!cidr) fail(e.source(), k, k + ": " + cidr.error);
      return s;
    });
  }

  Auth auth(const toml::node& v) const {
    const auto& t = table(v, "auth");
    Auth a;
    bool has_user = false, has_password = false;
    walk(t, "auth.",
         {
             {"user",
              [&](auto&, auto& n) {
                a.user = nonempty_str(n, "auth.user");
                // RFC 7617: the user-id in Basic credentials cannot contain a colon.
                if (a.user.find(':') != std::string::npos)
                  fail(n.source(), "auth.user", "auth.user: must not contain ':'");
                has_user = true;
              }},
             {"password",
              [&](auto&, auto& n) {
                a.password = nonempty_str(n, "auth.password");
                has_password = true;
              }},
         });
    if (!has_user || !has_password)
      fail(t.source(), "auth", "auth: both user and password are required");
    return a;
  }

  void timeouts(const toml::node& v, Timeouts& t) const {
    auto dur = [&](Duration& out, const char* name) {
      return KeySpec{name, [this, &out, name](auto&, auto& n) {
                       out = duration(n, std::string("timeouts.") + name, false);
                     }};
    };
    walk(table(v, "timeouts"), "timeouts.",
         {dur(t.connect, "connect"), dur(t.handshake, "handshake"), dur(t.header, "header"),
          dur(t.idle, "idle"), dur(t.probe, "probe"), dur(t.drain, "drain")});
  }

  void limits(const toml::node& v, Limits& l) const {
    auto pos = [&](std::uint32_t& out, const char* name) {
      return KeySpec{name, [this, &out, name](auto&, auto& n) {
                       out = positive(n, std::string("limits.") + name);
                     }};
    };
    walk(table(v, "limits"), "limits.",
         {pos(l.max_connections, "max_connections"), pos(l.max_header_bytes, "max_header_bytes"),
          pos(l.max_request_line, "max_request_line"),
          pos(l.max_connections_per_client, "max_connections_per_client")});
  }

  void trust(const toml::node& v, Trust& t) const {
    walk(table(v, "trust"), "trust.",
         {
             {"ca_files",
              [&](auto&, auto& n) {
                t.ca_files = strings(
                    n, "trust.ca_files",
                    [&](const toml::node& e, const std::string& k) { return nonempty_str(e, k); });
              }},
             {"system", [&](auto&, auto& n) { t.system = boolean(n, "trust.system"); }},
         });
  }

  void log(const toml::node& v, Log& l) const {
    walk(table(v, "log"), "log.",
         {
             {"file", [&](auto&, auto& n) { l.file = nonempty_str(n, "log.file"); }},
             {"max_size_mb",
              [&](auto&, auto& n) { l.max_size_mb = positive(n, "log.max_size_mb"); }},
             {"max_files", [&](auto&, auto& n) { l.max_files = positive(n, "log.max_files"); }},
             {"stderr_findings",
              [&](auto&, auto& n) { l.stderr_findings = boolean(n, "log.stderr_findings"); }},
             {"keep_query", [&](auto&, auto& n) { l.keep_query = boolean(n, "log.keep_query"); }},
         });
  }

  void intercept(const toml::node& v, Intercept& i) const {
    walk(table(v, "intercept"), "intercept.",
         {
             {"enabled", [&](auto&, auto& n) { i.enabled = boolean(n, "intercept.enabled"); }},
             {"state_dir", [&](auto&, auto& n) { i.state_dir = str(n, "intercept.state_dir"); }},
             {"on_upstream_error",
              [&](auto&, auto& n) {
                i.on_upstream_error = enumeration<UpstreamErrorPolicy>(
                    n, "intercept.on_upstream_error", &parse_upstream_error_policy,
                    "\"explain\", \"mirror\" or \"pass\"");
              }},
             {"no_intercept",
              [&](auto&, auto& n) {
                i.no_intercept = strings(n, "intercept.no_intercept",
                                         [&](const toml::node& e, const std::string& k) {
                                           return lower(nonempty_str(e, k));
                                         });
              }},
             {"pin_ttl",
              [&](auto&, auto& n) { i.pin_ttl = duration(n, "intercept.pin_ttl", false); }},
         });
  }

  void sites(const toml::node& v, std::vector<Site>& out) const {
    if (!v.is_array_of_tables())
      fail(v.source(), "site", "site: expected [[site]] tables (an array of tables)");
    std::set<std::string> hosts;
    std::size_t idx = 0;
    for (const auto& e : *v.as_array()) {
      std::string p = "site[" + std::to_string(idx++) + "]";
      const auto& t = *e.as_table();
      Site s;
      const toml::node* host_node = nullptr;
      const toml::node* edges_node = nullptr;
      bool has_origin_sni = false;
      walk(t, p + ".",
           {
               {"host",
                [&](auto&, auto& n) {
                  s.host = host_name(n, p + ".host");
                  host_node = &n;
                }},
               {"origin", [&](auto&, auto& n) { s.origin = host_port(n, p + ".origin", 443); }},
               {"origin_sni",
                [&](auto&, auto& n) {
                  s.origin_sni = host_name(n, p + ".origin_sni");
                  has_origin_sni = true;
                }},
               {"edges",
                [&](auto&, auto& n) {
                  edges_node = &n;
                  s.edges =
                      strings(n, p + ".edges", [&](const toml::node& x, const std::string& k) {
                        return host_port(x, k, 443);
                      });
                }},
               {"edge_cert",
                [&](auto&, auto& n) {
                  s.edge_cert = enumeration<EdgeCert>(n, p + ".edge_cert", &parse_edge_cert,
                                                      "\"same\" or \"own\"");
                }},
           });
      if (!host_node) fail(t.source(), p + ".host", p + ": a [[site]] needs a host");
      if (edges_node && !s.edges.empty() && s.origin.empty())
        fail(edges_node->source(), p + ".edges",
             p + ".edges: edges are compared with the origin, but this site has no origin");
      if (!hosts.insert(s.host).second)
        fail(host_node->source(), p + ".host", p + ".host: duplicate site \"" + s.host + "\"");
      if (!has_origin_sni) s.origin_sni = s.host;
      out.push_back(std::move(s));
    }
  }

  void resolve(const toml::node& v, std::map<std::string, std::string>& out) const {
    for (auto&& [k, n] : table(v, "resolve")) {
      std::string key = "resolve.\"" + std::string(k.str()) + "\"";
      // Errors about the key point at the key (toml++ records where each key starts).
      const auto& at_key = k.source().begin.line != 0 ? k.source() : n.source();
      if (n.is_table())  // www.example.com = "..." unquoted: TOML reads dotted keys as tables
        fail(at_key, key,
             key + ": put a host name with dots in quotes: \"" + std::string(k.str()) +
                 ".…\" = \"ADDRESS\"");
      auto hp = parse_host_port(k.str(), 0);
      // curl-style host-only key ("www.example.com" = ...): that host on every port; a
      // "HOST:PORT" key for the same host wins for its port.
      const auto host_only = hp ? decltype(hp){} : parse_host_port(k.str(), 1);
      if (!hp && !host_only)
        fail(at_key, key, key + ": expected \"HOST\" or \"HOST:PORT\" as the key: " + hp.error);
      auto addr = str(n, key);
      auto ip = parse_ip(addr);
      if (!ip) fail(n.source(), key, key + ": \"" + addr + "\" is not an IP address");
      HostPort norm = hp ? *hp : *host_only;
      norm.host = lower(norm.host);
      if (addr.size() >= 2 && addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
      out[hp ? format_host_port(norm) : norm.host] = addr;
    }
  }

 private:
  std::string source_;
};

}  // namespace

ConfigError::ConfigError(std::string file_, std::uint32_t line_, std::uint32_t column_,
                         std::string key_, std::string message_)
    : std::runtime_error(format_what(file_, line_, column_, message_)),
      file(std::move(file_)),
      line(line_),
      column(column_),
      key(std::move(key_)),
      message(std::move(message_)) {}

Config parse_config(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(std::string(source_name), where.line, where.column, "",
                      std::string(e.description()));
  }
  Loader loader(source_name);
  return loader.load(root);
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw ConfigError(path, 0, 0, "", std::string("cannot open: ") + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    int err = errno;
    throw ConfigError(path, 0, 0, "", std::string("cannot read: ") + std::strerror(err));
  }
  return parse_config(text.str(), path);
}

std::optional<std::string> secrets_exposure_warning(const std::string& path, const Config& cfg) {
  if (!cfg.auth) return std::nullopt;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  const auto readable = st.st_mode & (S_IRGRP | S_IROTH);
  if (!readable) return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return path + " holds the [auth] password and is readable by " +
         ((st.st_mode & S_IROTH) ? std::string("others") : std::string("its group")) + " (mode " +
         mode + "); run: chmod 600 " + path;
}

}  // namespace tlsprobe::config
