#include "proxy/session/reverse_service.hpp"

#include "certs/ascii.hpp"
#include "certs/leaf_minter.hpp"
#include "certs/pem.hpp"
#include "proxy/http/error_page.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tlsprobe::proxy {

namespace {

// "Example.COM:8443" -> "example.com", "[::1]:443" -> "::1", trailing dot removed.
std::string host_of(std::string_view host_header) {
  std::string_view h = host_header;
  if (!h.empty() && h.front() == '[') {
    const auto close = h.find(']');
    h = close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1);
  } else if (h.find(':') == h.rfind(':')) {  // "host:port" (one colon at most)
    h = h.substr(0, h.find(':'));
  }
  std::string out = certs::ascii_lower(h);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(flag) + " " + path + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Offers http/1.1 only (DESIGN.md section 7: "Offering only http/1.1 in ALPN is fine"): a
// client that offers it gets it, one that offers only h2 gets no ALPN and speaks HTTP/1.1.
int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                  unsigned int inlen, void*) {
  static const unsigned char ours[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

boost::asio::ssl::context make_server_context(const ReverseOptions& o) {
  certs::SslCtxPtr ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx)
    throw std::runtime_error("cannot create a TLS server context: " + certs::openssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_http11, nullptr);
  // A CDN reconnects often; resumption saves it full handshakes (server-side cache).
  SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const unsigned char*>("tlsprobe-rev"),
                                 12);
  if (!o.tls_chain.empty()) {
    if (SSL_CTX_use_certificate(ctx.get(), o.tls_chain.front().x509()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), o.tls_key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1)
      throw std::runtime_error("--tls-cert/--tls-key: the key does not match the certificate (" +
                               certs::openssl_errors() + ")");
    for (std::size_t i = 1; i < o.tls_chain.size(); ++i)
      if (SSL_CTX_add1_chain_cert(ctx.get(), o.tls_chain[i].x509()) != 1)
        throw std::runtime_error("--tls-cert: chain certificate refused: " +
                                 certs::openssl_errors());
  }
  // asio::ssl::context takes ownership of the native handle (documented constructor).
  return boost::asio::ssl::context(ctx.release());
}

}  // namespace

bool valid_host_header(std::string_view host_header) {
  if (host_header.empty()) return true;
  const auto a = parse_authority(host_header, 443);
  if (!a) return false;
  if (is_ip_literal(a->host)) return true;
  // parse_authority allows the characters; labels must not be empty ("a..b", ".a"), except
  // for the root label after a final dot.
  std::string_view h = a->host;
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  if (h.empty()) return false;
  for (std::size_t start = 0;;) {
    const auto dot = h.find('.', start);
    const auto label = h.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string ReverseRoute::key() const {
  return config::format_host_port(connect.host, connect.port) + "|" + (sni ? *sni : "\x01");
}

std::optional<HostPort> parse_upstream_url(std::string_view url) {
  constexpr std::string_view scheme = "https://";
  if (url.size() <= scheme.size() || certs::ascii_lower(url.substr(0, scheme.size())) != scheme)
    return std::nullopt;
  std::string_view rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@") != std::string_view::npos) return std::nullopt;
  auto a = parse_authority(rest, 443);
  if (!a || a->port == 0) return std::nullopt;
  a->host = certs::ascii_lower(a->host);
  return a;
}

ReverseOptions reverse_options_from_config(const config::Config& cfg, const std::string& state_dir,
                                           std::shared_ptr<const certs::TrustStore> trust,
                                           DiagnoseFunction diagnose) {
  ReverseOptions o;
  if (cfg.upstream.empty())
    throw std::runtime_error("reverse mode needs --upstream https://ORIGIN[:PORT]");
  auto up = parse_upstream_url(cfg.upstream);
  if (!up)
    throw std::runtime_error("--upstream " + cfg.upstream +
                             ": expected https://HOST[:PORT] (the origin is reached over TLS)");
  o.upstream.address = *up;
  if (!cfg.upstream_sni.empty()) o.upstream.sni = certs::ascii_lower(cfg.upstream_sni);
  for (const auto& site : cfg.sites) {
    if (site.origin.empty()) continue;
    auto a = parse_authority(site.origin, 443);
    if (!a) throw std::runtime_error("[[site]] " + site.host + ": bad origin " + site.origin);
    ReverseOrigin origin;
    origin.address = *a;
    if (!site.origin_sni.empty()) origin.sni = certs::ascii_lower(site.origin_sni);
    o.sites[host_of(site.host)] = origin;
  }
  // Every [[site]] host is served, with or without an origin of its own (those without go
  // to the upstream); serves_host() adds the site SNIs, --upstream-sni and the upstream.
  for (const auto& site : cfg.sites) o.allowed_hosts.push_back(host_of(site.host));
  for (const auto& h : cfg.allow_hosts) o.allowed_hosts.push_back(certs::ascii_lower(h));
  if (cfg.tls_cert.empty() != cfg.tls_key.empty())
    throw std::runtime_error("--tls-cert and --tls-key go together");
  if (!cfg.tls_cert.empty()) {
    try {
      o.tls_chain = certs::read_pem_file(cfg.tls_cert);
      auto key = certs::read_private_key_pem(read_file(cfg.tls_key, "--tls-key"), cfg.tls_key);
      o.tls_key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
    } catch (const certs::PemError& e) {
      throw std::runtime_error(e.what());
    }
  } else {
    try {
      const auto dir =
          state_dir.empty() ? certs::default_state_dir() : std::filesystem::path(state_dir);
      o.authority = certs::Authority::load_or_create(dir).authority;
    } catch (const certs::AuthorityError& e) {
      throw std::runtime_error(std::string(e.what()) + " (or give --tls-cert and --tls-key)");
    }
  }
  o.trust = std::move(trust);
  o.diagnose = std::move(diagnose);
  o.verify_cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.probe_cache_ttl);
  return o;
}

ReverseService::ReverseService(ReverseOptions options)
    : options_(std::move(options)), server_ctx_(make_server_context(options_)) {
  if (!options_.trust) throw std::runtime_error("reverse mode: no trust store");
  const auto add_served = [this](const std::string& name) {
    const auto h = host_of(name);
    if (h.rfind("*.", 0) == 0)
      served_suffixes_.push_back(h.substr(1));
    else if (!h.empty())
      served_hosts_.insert(h);
  };
  add_served(options_.upstream.address.host);
  if (options_.upstream.sni) add_served(*options_.upstream.sni);
  for (const auto& [host, origin] : options_.sites) {
    add_served(host);
    if (origin.sni) add_served(*origin.sni);
  }
  for (const auto& h : options_.allowed_hosts) add_served(h);
  UpstreamTls::Options uo{*options_.trust};
  uo.verdict_ttl = options_.verify_cache_ttl;
  uo.diagnose = options_.diagnose;
  origin_tls_ = std::make_unique<UpstreamTls>(std::move(uo));
  if (options_.tls_chain.empty()) {
    if (!options_.authority) throw std::runtime_error("reverse mode: no certificate and no CA");
    minter_ = std::make_unique<certs::LeafMinter>(*options_.authority);
    mints_ = std::make_unique<certs::MintCache>(*minter_);
  }
}

ReverseService::~ReverseService() = default;

ReverseRoute ReverseService::route(std::string_view host_header) const {
  ReverseRoute r;
  r.request_host = host_of(host_header);
  const ReverseOrigin* origin = &options_.upstream;
  if (auto it = options_.sites.find(r.request_host); it != options_.sites.end()) {
    origin = &it->second;
    r.from_site = true;
  }
  r.connect = origin->address;
  if (origin->sni) {
    r.sni = origin->sni;
  } else if (!r.request_host.empty()) {
    r.sni = r.request_host;
  } else {
    r.sni = origin->address.host;  // HTTP/1.0 without Host: the origin's own name
  }
  // An IP literal is never sent as SNI (RFC 6066 section 3, DESIGN.md section 8).
  if (r.sni && (r.sni->empty() || is_ip_literal(*r.sni))) {
    r.name = *r.sni;
    r.sni.reset();
  } else {
    r.name = *r.sni;
  }
  return r;
}

bool ReverseService::serves_host(std::string_view request_host) const {
  if (request_host.empty()) return true;
  const std::string h(request_host);
  if (served_hosts_.count(h) > 0) return true;
  return std::any_of(served_suffixes_.begin(), served_suffixes_.end(), [&](const std::string& s) {
    return h.size() > s.size() && h.compare(h.size() - s.size(), s.size(), s) == 0;
  });
}

bool ReverseService::present(SSL* ssl, const std::optional<std::string>& sni, std::string& detail) {
  if (!mints_) return true;  // the configured certificate is on the context already
  // The client's name, else the upstream's: a CDN without SNI still gets a certificate for
  // the origin it believes it reaches.
  std::string name = sni && !sni->empty() ? *sni : options_.upstream.address.host;
  auto minted = mints_->get(nullptr, name);
  if (!minted) {
    detail = "cannot mint a certificate for " + name + ": " + minted.detail;
    return false;
  }
  if (!certs::use_minted_leaf(ssl, *minted.leaf)) {
    detail = "cannot use the minted certificate: " + certs::openssl_errors();
    return false;
  }
  return true;
}

std::string render_origin_refusal(const inspect::Findings& findings, std::string_view accept,
                                  std::string_view origin, const certs::Certificate* leaf) {
  // The intercept side's page (proxy/http/error_page.hpp), about the origin only: what the
  // client itself did (client.*) is for the log, not for the page.
  inspect::Findings about_origin;
  for (const auto& f : findings)
    if (f.role != inspect::Role::client) about_origin.push_back(f);
  const auto page = render_error_page(about_origin, accepts_html(accept), origin, leaf);
  std::string out = "HTTP/1.1 " + std::to_string(page.status) +
                    " Bad Gateway\r\nContent-Type: " + page.content_type +
                    "\r\nContent-Length: " + std::to_string(page.body.size()) + "\r\n";
  for (const auto& [name, value] : page.headers) out += name + ": " + value + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += page.body;
  return out;
}

}  // namespace tlsprobe::proxy
