#include "logs/record.hpp"

#include <boost/json/parse_options.hpp>

namespace tlsprobe::logs {

namespace json = boost::json;

int severity_rank(std::string_view severity) {
  if (severity == "error") return 2;
  if (severity == "warning") return 1;
  if (severity == "info") return 0;
  return -1;
}

std::string_view severity_name(int rank) {
  switch (rank) {
    case 2:
      return "error";
    case 1:
      return "warning";
    case 0:
      return "info";
    default:
      return "ok";
  }
}

void RecordView::clear() {
  timestamp = domain = address = outcome = mode = role = sni = error_code = {};
  time = no_time;
  port = 0;
  host.clear();
  leaf = CertView{};
  has_leaf = false;
  chain.clear();
  findings.clear();
  worst = -1;
  probe_status = probe_failure = {};
}

namespace {

json::parse_options reader_options() {
  json::parse_options opt;
  // Logs written by other tools may carry raw certificate bytes; read them rather than
  // dropping the record (all output escapes them).
  opt.allow_invalid_utf8 = true;
  opt.max_depth = 64;
  return opt;
}

const json::object* obj(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* arr(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v ? v->if_array() : nullptr;
}

std::string_view str(const json::object* o, std::string_view key) {
  if (o == nullptr) return {};
  const json::value* v = o->if_contains(key);
  if (v == nullptr) return {};
  const json::string* s = v->if_string();
  return s ? std::string_view(*s) : std::string_view();
}

std::int64_t integer(const json::object* o, std::string_view key) {
  if (o == nullptr) return 0;
  const json::value* v = o->if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return 0;
}

CertView chain_cert(const json::object& o) {
  CertView c;
  c.subject = str(&o, "subject");
  c.issuer = str(&o, "issuer");
  c.serial = str(&o, "serial");
  c.not_before = str(&o, "not_before");
  c.not_after = str(&o, "not_after");
  c.key = str(&o, "key");
  c.signature_algorithm = str(&o, "signature_algorithm");
  c.sha256 = str(&o, "sha256");
  c.names = arr(&o, "names");
  if (auto t = parse_rfc3339_ms(c.not_after)) c.not_after_ms = *t;
  return c;
}

}  // namespace

RecordParser::RecordParser()
    : arena_buffer_(std::make_unique<unsigned char[]>(arena_size)),
      arena_(arena_buffer_.get(), arena_size),
      parser_(&arena_, reader_options(), temp_.data(), temp_.size()) {}

bool RecordParser::parse(std::string_view line, RecordView& out) {
  out.clear();
  root_ = nullptr;  // drop references into the arena before releasing it
  arena_.release();
  parser_.reset(&arena_);
  boost::system::error_code ec;
  parser_.write(line.data(), line.size(), ec);
  if (ec) return false;
  root_ = parser_.release();
  const json::object* rec = root_.if_object();
  if (rec == nullptr) return false;

  out.timestamp = str(rec, "@timestamp");
  if (auto t = parse_rfc3339_ms(out.timestamp)) out.time = *t;
  const json::object* dest = obj(rec, "destination");
  out.domain = str(dest, "domain");
  out.address = str(dest, "address");
  out.port = integer(dest, "port");
  out.outcome = str(obj(rec, "event"), "outcome");
  out.error_code = str(obj(rec, "error"), "code");

  const json::object* tls = obj(rec, "tls");
  out.sni = str(obj(tls, "client"), "server_name");
  const json::object* ours = obj(rec, "tlsprobe");
  out.mode = str(ours, "mode");
  out.role = str(ours, "role");
  const json::object* probe = obj(ours, "probe");
  out.probe_status = str(probe, "status");
  out.probe_failure = str(probe, "failure");

  if (const json::array* chain = arr(ours, "chain")) {
    out.chain.reserve(chain->size());
    for (const auto& v : *chain)
      if (const json::object* c = v.if_object()) out.chain.push_back(chain_cert(*c));
  }
  if (const json::object* server = obj(tls, "server")) {
    CertView& leaf = out.leaf;
    leaf.sha256 = str(obj(server, "hash"), "sha256");
    leaf.subject = str(server, "subject");
    leaf.issuer = str(server, "issuer");
    leaf.not_before = str(server, "not_before");
    leaf.not_after = str(server, "not_after");
    const json::object* x509 = obj(server, "x509");
    leaf.serial = str(x509, "serial_number");
    leaf.signature_algorithm = str(x509, "signature_algorithm");
    leaf.names = arr(x509, "alternative_names");
    if (auto t = parse_rfc3339_ms(leaf.not_after)) leaf.not_after_ms = *t;
    out.has_leaf = !leaf.sha256.empty() || !leaf.subject.empty();
  }
  if (!out.has_leaf && !out.chain.empty()) {
    out.leaf = out.chain.front();
    out.has_leaf = true;
  }
  if (out.has_leaf && !out.chain.empty()) {
    // The chain element has the key description that tls.server lacks.
    if (out.leaf.key.empty()) out.leaf.key = out.chain.front().key;
    if (out.leaf.names == nullptr) out.leaf.names = out.chain.front().names;
  }

  if (const json::array* findings = arr(ours, "findings")) {
    out.findings.reserve(findings->size());
    for (const auto& v : *findings) {
      const json::object* f = v.if_object();
      if (f == nullptr) continue;
      FindingView fv;
      fv.code = str(f, "code");
      fv.severity = str(f, "severity");
      fv.role = str(f, "role");
      fv.subject = str(f, "subject");
      fv.message = str(f, "message");
      fv.remedy = str(f, "remedy");
      fv.rank = severity_rank(fv.severity);
      if (fv.rank > out.worst) out.worst = fv.rank;
      out.findings.push_back(fv);
    }
  }

  if (!out.domain.empty()) {
    out.host.assign(out.domain);
  } else if (!out.address.empty()) {
    out.host.assign(out.address);
  } else if (!out.sni.empty()) {
    out.host.assign(out.sni);
  } else {
    out.host.assign("(unknown)");
  }
  if (out.port != 0 && out.port != 443) {
    if (out.domain.empty() && out.address.find(':') != std::string_view::npos)
      out.host = "[" + out.host + "]";  // IPv6 literal
    out.host += ':';
    out.host += std::to_string(out.port);
  }
  return true;
}

}  // namespace tlsprobe::logs
