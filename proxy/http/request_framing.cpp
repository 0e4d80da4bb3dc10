#include "proxy/http/request_framing.hpp"

#include "certs/ascii.hpp"
#include "proxy/http/http_util.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <vector>

namespace tlsprobe::proxy {

namespace http = boost::beast::http;

namespace {

class FramingCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "request framing"; }
  std::string message(int ev) const override {
    switch (static_cast<FramingError>(ev)) {
      case FramingError::obs_fold:
        return "a header line is folded (obs-fold, RFC 9112 section 5.2)";
    }
    return "request framing error";
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// The transfer codings of every Transfer-Encoding field in order (several fields are one
// comma-separated list, RFC 9110 section 5.3), each without its parameters, lower case.
// nullopt when an element is empty or not a token (e.g. "chunked;" with nothing after).
std::optional<std::vector<std::string>> transfer_codings(const http::fields& f) {
  std::vector<std::string> out;
  for (auto it = f.find(http::field::transfer_encoding);
       it != f.end() && it->name() == http::field::transfer_encoding; ++it) {
    std::string_view v = it->value();
    for (;;) {
      const auto comma = v.find(',');
      auto element = trim(v.substr(0, comma));
      const auto semi = element.find(';');
      auto name = trim(element.substr(0, semi));
      // Empty list elements are allowed (RFC 9110 section 5.6.1) except the whole field.
      if (!name.empty()) {
        if (!is_token(name)) return std::nullopt;
        // transfer-parameter = token BWS "=" BWS ( token / quoted-string ), each after ';'.
        for (auto params = semi == std::string_view::npos ? std::string_view{}
                                                          : element.substr(semi + 1);
             semi != std::string_view::npos;) {
          const auto next = params.find(';');
          const auto param = params.substr(0, next);
          const auto eq = param.find('=');
          if (eq == std::string_view::npos || !is_token(trim(param.substr(0, eq))) ||
              trim(param.substr(eq + 1)).empty())
            return std::nullopt;
          if (next == std::string_view::npos) break;
          params.remove_prefix(next + 1);
        }
        out.push_back(certs::ascii_lower(name));
      } else if (semi != std::string_view::npos) {
        return std::nullopt;  // parameters without a coding
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool known_coding(std::string_view c) {
  // The registered codings a client may apply to a request body before chunked.
  static constexpr std::array<std::string_view, 6> known = {"chunked", "gzip",     "x-gzip",
                                                            "deflate", "compress", "x-compress"};
  return std::find(known.begin(), known.end(), c) != known.end();
}

// "Example.COM:80" against an authority: same host (case-insensitive, brackets for IPv6) and
// same port, the scheme's default when Host names none.
bool host_matches(std::string_view host_field, const AbsoluteTarget& absolute) {
  const auto& target = absolute.authority;
  const auto parsed = parse_authority(trim(host_field), absolute.scheme == "https" ? 443 : 80);
  if (!parsed) return false;
  return certs::ascii_iequals(parsed->host, target.host) && parsed->port == target.port;
}

FramingVerdict refuse(http::status status, std::string reason) {
  FramingVerdict v;
  v.status = status;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

boost::system::error_code make_error_code(FramingError e) {
  static const FramingCategory category;
  return {static_cast<int>(e), category};
}

FramingVerdict check_request_framing(http::request_header<>& head) {
  FramingVerdict out;
  if (head.count(http::field::host) > 1)
    return refuse(http::status::bad_request, "bad request: several Host header fields");

  const bool has_te = head.find(http::field::transfer_encoding) != head.end();
  const bool has_cl = head.find(http::field::content_length) != head.end();
  if (has_te) {
    if (has_cl)
      return refuse(http::status::bad_request,
                    "bad request: Transfer-Encoding together with Content-Length");
    const auto codings = transfer_codings(head);
    if (!codings || codings->empty())
      return refuse(http::status::bad_request, "bad request: malformed Transfer-Encoding");
    if (codings->back() != "chunked")
      return refuse(http::status::bad_request,
                    "bad request: Transfer-Encoding does not end in chunked");
    if (std::count(codings->begin(), codings->end(), "chunked") > 1)
      return refuse(http::status::bad_request, "bad request: chunked applied more than once");
    for (const auto& c : *codings)
      if (!known_coding(c))
        return refuse(http::status::not_implemented,
                      "transfer coding \"" + c + "\" is not implemented");
    for (std::size_t i = 0; i < codings->size(); ++i)
      out.transfer_codings += (i ? ", " : "") + (*codings)[i];
    // RFC 9112 section 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty; the message
    // is read as chunked, and the connection must close after it.
    if (head.version() < 11) out.close_after = true;
  }

  if (has_cl) {
    // Beast accepted the fields only when every value is the same decimal number; the
    // origin gets exactly one field with it.
    std::string_view first = head.find(http::field::content_length)->value();
    first = trim(first.substr(0, first.find(',')));
    const std::string value(first);
    if (head.count(http::field::content_length) > 1 || head[http::field::content_length] != value)
      head.set(http::field::content_length, value);
  }

  const std::string_view target = head.target();
  if (target.find("://") != std::string_view::npos) {
    const auto absolute = parse_absolute_target(target);
    if (!absolute) return refuse(http::status::bad_request, "bad request: bad request target");
    const auto host = head.find(http::field::host);
    if (host != head.end() && !host_matches(host->value(), *absolute))
      return refuse(http::status::bad_request,
                    "bad request: the Host header does not name the request target's authority");
    out.origin_form = absolute->origin_form;
  }
  return out;
}

void restore_transfer_codings(http::request_header<>& head, const FramingVerdict& verdict) {
  if (verdict.transfer_codings.empty()) return;
  head.set(http::field::transfer_encoding, verdict.transfer_codings);
}

bool has_obs_fold(std::string_view raw) {
  for (auto at = raw.find("\r\n"); at != std::string_view::npos; at = raw.find("\r\n", at + 2)) {
    if (at + 2 >= raw.size()) break;
    const char next = raw[at + 2];
    if (next == ' ' || next == '\t') return true;
  }
  return false;
}

std::size_t find_head_end(std::string_view bytes) {
  std::size_t start = 0;
  while (bytes.substr(start, 2) == "\r\n") start += 2;
  const auto end = bytes.find("\r\n\r\n", start);
  return end == std::string_view::npos ? std::string_view::npos : end + 4;
}

}  // namespace tlsprobe::proxy
