// What the request-smuggling tests read off the wire, strictly:
// - parse_strict_request(): one request exactly as an RFC 9112 origin must accept it (origin-form
//   target, one Host, at most one Content-Length of digits, a Transfer-Encoding whose last coding
//   is chunked and no Content-Length with it, no obs-fold, CRLF only, a chunked body with clean
//   chunk lines). Anything looser is "bad": a proxy that forwards it lets two parsers disagree.
// - parse_responses(): the responses a client received, leniently (status, framing), so a test
//   can count them.
#pragma once

#include "certs/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlsprobe::framing_test {

struct SeenRequest {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> fields;  // lower-case names, in order
  std::string body;

  std::size_t count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(fields.begin(), fields.end(),
                                                  [&](const auto& f) { return f.first == name; }));
  }
  std::string get(std::string_view name) const {
    for (const auto& f : fields)
      if (f.first == name) return f.second;
    return {};
  }
};

enum class Parse { complete, incomplete, bad };

struct StrictResult {
  Parse status = Parse::incomplete;
  std::size_t consumed = 0;  // bytes of this request (complete only)
  SeenRequest request;
  std::string why;  // bad: what was wrong
};

inline bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline StrictResult parse_strict_request(std::string_view in) {
  StrictResult r;
  const auto bad = [&](std::string why) {
    r.status = Parse::bad;
    r.why = std::move(why);
    return r;
  };
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    for (std::size_t i = 0; i < in.size(); ++i)
      if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) return bad("bare LF in the head");
    return r;  // incomplete
  }
  const std::string_view head = in.substr(0, head_end + 2);
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < head.size();) {
    const auto eol = head.find("\r\n", pos);
    lines.push_back(head.substr(pos, eol - pos));
    pos = eol + 2;
  }
  for (const auto line : lines)
    for (const char c : line)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return bad("control character in the head");
  // Request line: method SP origin-form SP version.
  const auto rl = lines.front();
  const auto sp1 = rl.find(' '), sp2 = rl.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return bad("bad request line");
  r.request.method = std::string(rl.substr(0, sp1));
  r.request.target = std::string(rl.substr(sp1 + 1, sp2 - sp1 - 1));
  r.request.version = std::string(rl.substr(sp2 + 1));
  if (r.request.method.empty() || !std::all_of(r.request.method.begin(), r.request.method.end(),
                                               [](char c) { return is_tchar(c); }))
    return bad("bad method");
  if (r.request.target.empty() || r.request.target.front() != '/' ||
      r.request.target.find(' ') != std::string::npos)
    return bad("target not in origin-form: " + r.request.target);
  if (r.request.version != "HTTP/1.1" && r.request.version != "HTTP/1.0")
    return bad("bad version " + r.request.version);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (line.empty()) return bad("empty header line");
    if (line.front() == ' ' || line.front() == '\t') return bad("obs-fold");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("header line without a name");
    const auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return is_tchar(c); }))
      return bad("bad header name");
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    r.request.fields.emplace_back(certs::ascii_lower(name), std::string(value));
  }
  if (r.request.count("host") != 1) return bad("not exactly one Host");
  const auto cl_count = r.request.count("content-length");
  const auto te_count = r.request.count("transfer-encoding");
  if (cl_count > 1) return bad("several Content-Length fields");
  if (te_count > 1) return bad("several Transfer-Encoding fields");
  if (cl_count && te_count) return bad("Content-Length and Transfer-Encoding");
  std::size_t pos = head_end + 4;
  if (cl_count) {
    const auto v = r.request.get("content-length");
    if (v.empty() || v.size() > 12 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("Content-Length not a number: " + v);
    const auto n = std::strtoull(v.c_str(), nullptr, 10);
    if (in.size() < pos + n) return r;  // incomplete
    r.request.body = std::string(in.substr(pos, n));
    pos += n;
  } else if (te_count) {
    const auto te = certs::ascii_lower(r.request.get("transfer-encoding"));
    const auto last = te.rfind(',');
    std::string_view final_coding =
        std::string_view(te).substr(last == std::string::npos ? 0 : last + 1);
    while (!final_coding.empty() && final_coding.front() == ' ') final_coding.remove_prefix(1);
    if (final_coding != "chunked") return bad("Transfer-Encoding not ending in chunked: " + te);
    for (int chunks = 0;; ++chunks) {
      if (chunks > 100000) return bad("too many chunks");
      const auto eol = in.find("\r\n", pos);
      if (eol == std::string_view::npos) return r;
      auto size_line = in.substr(pos, eol - pos);
      size_line = size_line.substr(0, size_line.find(';'));
      if (size_line.empty() || size_line.size() > 15 ||
          !std::all_of(size_line.begin(), size_line.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        return bad("bad chunk size line");
      const auto size = std::strtoull(std::string(size_line).c_str(), nullptr, 16);
      pos = eol + 2;
      if (size == 0) {
        for (int t = 0;; ++t) {  // trailer fields, then the empty line
          const auto tl = in.find("\r\n", pos);
          if (tl == std::string_view::npos) return r;
          const bool empty = tl == pos;
          pos = tl + 2;
          if (empty) break;
          if (t > 100) return bad("too many trailer lines");
        }
        break;
      }
      if (in.size() < pos + size + 2) return r;
      r.request.body.append(in.substr(pos, size));
      if (in.substr(pos + size, 2) != "\r\n") return bad("chunk data not followed by CRLF");
      pos += size + 2;
    }
  }
  r.status = Parse::complete;
  r.consumed = pos;
  return r;
}

// Every complete request in `bytes`, strictly; `bad` says why parsing stopped early, and
// `leftover` counts bytes of an unfinished request at the end.
struct StrictStream {
  std::vector<SeenRequest> requests;
  std::string bad;
  std::size_t leftover = 0;
};

inline StrictStream parse_strict_stream(std::string_view bytes) {
  StrictStream out;
  for (int i = 0; i < 1000 && !bytes.empty(); ++i) {
    auto r = parse_strict_request(bytes);
    if (r.status == Parse::bad) {
      out.bad = r.why;
      return out;
    }
    if (r.status == Parse::incomplete) break;
    out.requests.push_back(std::move(r.request));
    bytes.remove_prefix(r.consumed);
  }
  out.leftover = bytes.size();
  return out;
}

// The responses in what a client received: their status codes, in order. A response is
// framed by Content-Length, chunked, or the end of the bytes.
inline std::vector<int> parse_responses(std::string_view in) {
  std::vector<int> statuses;
  for (int i = 0; i < 100 && !in.empty(); ++i) {
    const auto head_end = in.find("\r\n\r\n");
    if (head_end == std::string_view::npos || in.substr(0, 5) != "HTTP/") break;
    const std::string head = certs::ascii_lower(in.substr(0, head_end + 2));
    const int status = std::atoi(std::string(in.substr(9, 3)).c_str());
    statuses.push_back(status);
    in.remove_prefix(head_end + 4);
    if (status / 100 == 1) continue;
    const auto field = [&](std::string_view name) -> std::string {
      const auto at = head.find("\r\n" + std::string(name) + ":");
      if (at == std::string::npos) return {};
      const auto start = at + 3 + name.size();
      auto v = head.substr(start, head.find("\r\n", start) - start);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return v;
    };
    if (field("transfer-encoding").find("chunked") != std::string::npos) {
      for (;;) {
        const auto eol = in.find("\r\n");
        if (eol == std::string_view::npos) return statuses;
        const auto size = std::strtoull(std::string(in.substr(0, eol)).c_str(), nullptr, 16);
        in.remove_prefix(eol + 2);
        if (size == 0) {
          const auto end = in.find("\r\n");
          in.remove_prefix(end == std::string_view::npos ? in.size() : end + 2);
          break;
        }
        if (in.size() < size + 2) return statuses;
        in.remove_prefix(size + 2);
      }
    } else if (const auto cl = field("content-length"); !cl.empty()) {
      const auto n = std::strtoull(cl.c_str(), nullptr, 10);
      in.remove_prefix(std::min<std::size_t>(n, in.size()));
    } else {
      break;  // until the close
    }
  }
  return statuses;
}

}  // namespace tlsprobe::framing_test
