#include "inspect/html_scan.hpp"

#include "certs/ascii.hpp"
#include "inspect/hsts_memory.hpp"

#include <cctype>
#include <unordered_set>

namespace tlsprobe::inspect {
namespace {

// Distinct URLs remembered for dedup and counting: bounds memory on hostile pages.
constexpr std::size_t max_distinct = 10000;

using certs::ascii_istarts_with;
using certs::ascii_lower;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Position of `needle` (lower case) in s from `from`, ASCII case-insensitive; npos if none.
std::size_t ifind(std::string_view s, std::string_view needle, std::size_t from) {
  if (needle.empty() || s.size() < needle.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= s.size(); ++i)
    if (ascii_lower(s[i]) == needle[0] && ascii_istarts_with(s.substr(i), needle)) return i;
  return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Decodes the few character references that matter in URLs. Minimal on purpose: named
// references beyond these five never form "http://", and non-ASCII numeric ones are kept as
// written.
std::string decode_entities(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    if (v[i] != '&') {
      out.push_back(v[i++]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> named[] = {
        {"&amp;", '&'}, {"&quot;", '"'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}};
    bool done = false;
    for (auto [name, ch] : named) {
      if (ascii_istarts_with(v.substr(i), name)) {
        out.push_back(ch);
        i += name.size();
        done = true;
        break;
      }
    }
    if (done) continue;
    if (i + 2 < v.size() && v[i + 1] == '#') {
      std::size_t j = i + 2;
      bool hex = j < v.size() && ascii_lower(v[j]) == 'x';
      if (hex) ++j;
      unsigned long code = 0;
      std::size_t digits = 0;
      while (j < v.size() && digits < 8) {
        char c = ascii_lower(v[j]);
        int d = c >= '0' && c <= '9' ? c - '0' : (hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
        if (d < 0) break;
        code = code * (hex ? 16 : 10) + static_cast<unsigned long>(d);
        ++j, ++digits;
      }
      if (digits > 0 && code > 0 && code < 0x80) {
        out.push_back(static_cast<char>(code));
        i = (j < v.size() && v[j] == ';') ? j + 1 : j;
        continue;
      }
    }
    out.push_back(v[i++]);
  }
  return out;
}

struct Attribute {
  std::string name;  // lower case
  std::string_view raw_value;
};

class Scanner {
 public:
  Scanner(std::string_view html, const HtmlScanOptions& options) : s_(html), options_(options) {}

  HtmlScanResult run() {
    std::size_t i = 0;
    while (i < s_.size()) {
      std::size_t lt = s_.find('<', i);
      if (lt == std::string_view::npos) break;
      i = lt + 1;
      std::string_view rest = s_.substr(lt);
      if (rest.starts_with("<!--")) {
        auto end = s_.find("-->", lt + 4);
        if (end == std::string_view::npos) break;  // unterminated comment hides the rest
        i = end + 3;
        continue;
      }
      if (rest.starts_with("<!") || rest.starts_with("<?") || rest.starts_with("</")) {
        if (ascii_istarts_with(rest, "</head")) body_started_ = true;
        auto end = s_.find('>', lt + 1);
        if (end == std::string_view::npos) break;
        i = end + 1;
        continue;
      }
      // Tag name: letters and digits after '<'; "<" followed by anything else is text.
      std::size_t j = lt + 1;
      std::string tag;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '-'))
        tag.push_back(ascii_lower(s_[j++]));
      if (tag.empty()) continue;
      attrs_.clear();
      std::size_t end = parse_attributes(j);
      if (end == std::string_view::npos) break;  // tag cut off by the end: not loaded
      i = end;
      on_tag(tag);
      // Raw-text elements: their content is not markup (a "<img src=http://…>" inside a
      // script string is not loaded by the parser).
      if (tag == "script" || tag == "style" || tag == "textarea" || tag == "title") {
        auto close = ifind(s_, "</" + tag, i);
        if (close == std::string_view::npos) break;
        i = close;
      }
    }
    return std::move(result_);
  }

 private:
  // Parses attributes from `j` up to and including '>'; returns the position after '>', or
  // npos when the input ends first. Values are views into the input.
  std::size_t parse_attributes(std::size_t j) {
    const std::size_t n = s_.size();
    while (j < n) {
      while (j < n && (is_space(s_[j]) || s_[j] == '/')) ++j;
      if (j >= n) return std::string_view::npos;
      if (s_[j] == '>') return j + 1;
      Attribute a;
      while (j < n && !is_space(s_[j]) && s_[j] != '=' && s_[j] != '>' && s_[j] != '/') {
        if (a.name.size() < 64) a.name.push_back(ascii_lower(s_[j]));
        ++j;
      }
      if (a.name.empty()) {  // a stray '=' or similar: skip one character
        ++j;
        continue;
      }
      std::size_t k = j;
      while (k < n && is_space(s_[k])) ++k;
      if (k < n && s_[k] == '=') {
        ++k;
        while (k < n && is_space(s_[k])) ++k;
        if (k >= n) return std::string_view::npos;
        if (s_[k] == '"' || s_[k] == '\'') {
          char q = s_[k];
          auto close = s_.find(q, k + 1);
          if (close == std::string_view::npos) return std::string_view::npos;
          a.raw_value = s_.substr(k + 1, close - k - 1);
          j = close + 1;
        } else {
          std::size_t start = k;
          while (k < n && !is_space(s_[k]) && s_[k] != '>') ++k;
          a.raw_value = s_.substr(start, k - start);
          j = k;
        }
      }
      attrs_.push_back(a);
    }
    return std::string_view::npos;
  }

  const Attribute* attr(std::string_view name) const {
    for (const auto& a : attrs_)
      if (a.name == name) return &a;  // the first one wins, as in HTML
    return nullptr;
  }

  void check_url(std::string_view raw) {
    std::string url = decode_entities(raw);
    std::string_view v = trim(url);
    if (!ascii_istarts_with(v, "http://")) return;
    std::string u(v);
    if (seen_.size() >= max_distinct || !seen_.insert(u).second) return;
    // What the browser upgrades before any request leaves is not mixed content.
    if (result_.meta_upgrade_insecure_requests) {
      ++result_.upgraded_by_csp;
      return;
    }
    if (options_.upgraded_host) {
      std::string_view authority = std::string_view(u).substr(7);
      authority = authority.substr(0, authority.find_first_of("/?#"));
      const std::string host = hsts_host(authority);
      if (!host.empty() && options_.upgraded_host(host)) {
        ++result_.upgraded_by_hsts;
        return;
      }
    }
    ++result_.count;
    switch (kind_) {
      case MixedKind::auto_upgraded:
        ++result_.auto_upgraded;
        break;
      case MixedKind::blocked:
        ++result_.blocked;
        break;
      case MixedKind::form:
        ++result_.forms;
        break;
    }
    if (result_.insecure.size() < options_.max_resources) {
      result_.insecure.push_back(std::move(u));
      result_.kinds.push_back(kind_);
      result_.elements.push_back(element_);
    }
  }

  void check_attr(std::string_view name) {
    if (const Attribute* a = attr(name)) check_url(a->raw_value);
  }

  // <meta http-equiv="Content-Security-Policy" content="...">, honoured in the head only
  // (HTML's "content security policy" pragma ignores a meta outside <head>).
  void on_meta() {
    const Attribute* equiv = attr("http-equiv");
    const Attribute* content = attr("content");
    if (!equiv || !content || body_started_) return;
    const std::string e = ascii_lower(decode_entities(equiv->raw_value));
    if (trim(e) != "content-security-policy") return;
    if (csp_upgrades_insecure_requests(decode_entities(content->raw_value)))
      result_.meta_upgrade_insecure_requests = true;
  }

  // srcset: comma-separated "URL [descriptor]" candidates (HTML §4.8.4.3.1, simplified:
  // commas inside URLs are rare in srcset and only shorten a URL here).
  void check_srcset() {
    const Attribute* a = attr("srcset");
    if (!a) return;
    std::string decoded = decode_entities(a->raw_value);
    std::string_view v = decoded;
    while (!v.empty()) {
      auto comma = v.find(',');
      std::string_view cand = trim(v.substr(0, comma));
      auto sp = cand.find_first_of(" \t\n\r\f");
      check_url(cand.substr(0, sp));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }

  // The first rel token that makes a link load something, or empty.
  std::string link_loads() const {
    const Attribute* rel = attr("rel");
    if (!rel) return {};
    const std::string r = ascii_lower(decode_entities(rel->raw_value));
    std::string_view v = r;
    while (!v.empty()) {
      while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
      std::size_t end = 0;
      while (end < v.size() && !is_space(v[end])) ++end;
      std::string_view token = v.substr(0, end);
      if (token == "stylesheet" || token == "icon" || token == "preload" ||
          token == "modulepreload" || token == "apple-touch-icon")
        return std::string(token);
      v.remove_prefix(end);
    }
    return {};
  }

  void as(MixedKind kind, std::string element) {
    kind_ = kind;
    element_ = std::move(element);
  }

  void on_tag(const std::string& tag) {
    // Elements that only the body holds end the head (the parser closes it implicitly).
    if (tag == "body" || tag == "img" || tag == "iframe" || tag == "frame" || tag == "form" ||
        tag == "video" || tag == "audio" || tag == "object" || tag == "embed" || tag == "div" ||
        tag == "p")
      body_started_ = true;
    if (tag == "meta") {
      on_meta();
    } else if (tag == "script" || tag == "iframe" || tag == "frame" || tag == "embed" ||
               tag == "track") {
      as(MixedKind::blocked, tag);
      check_attr("src");
    } else if (tag == "audio") {
      as(MixedKind::auto_upgraded, tag);
      check_attr("src");
    } else if (tag == "img" || tag == "source") {
      as(MixedKind::auto_upgraded, tag);
      check_attr("src");
      check_srcset();
    } else if (tag == "video") {
      as(MixedKind::auto_upgraded, tag);
      check_attr("src");
      check_attr("poster");
    } else if (tag == "link") {
      const std::string rel = link_loads();
      if (rel.empty()) return;
      // Icons are images; stylesheets and preloads (scripts, fonts…) are blockable.
      const bool icon = rel == "icon" || rel == "apple-touch-icon";
      as(icon ? MixedKind::auto_upgraded : MixedKind::blocked, "link rel=" + rel);
      check_attr("href");
    } else if (tag == "form") {
      as(MixedKind::form, "form action");
      check_attr("action");
    } else if (tag == "object") {
      as(MixedKind::blocked, tag);
      check_attr("data");
    }
  }

  std::string_view s_;
  const HtmlScanOptions& options_;
  std::vector<Attribute> attrs_;
  std::unordered_set<std::string> seen_;
  HtmlScanResult result_;
  MixedKind kind_ = MixedKind::blocked;  // of the element being looked at
  std::string element_;
  bool body_started_ = false;  // a meta CSP is honoured only in the head
};

}  // namespace

std::string_view to_string(MixedKind k) {
  switch (k) {
    case MixedKind::auto_upgraded:
      return "auto_upgraded";
    case MixedKind::blocked:
      return "blocked";
    case MixedKind::form:
      return "form";
  }
  return "blocked";
}

bool csp_upgrades_insecure_requests(std::string_view policy) {
  // Directives are separated by ';', policies by ','; a directive's name is its first token,
  // ASCII case-insensitive (CSP 3 §2.2.1).
  while (!policy.empty()) {
    const auto sep = policy.find_first_of(";,");
    std::string_view d = trim(policy.substr(0, sep));
    std::size_t end = 0;
    while (end < d.size() && !is_space(d[end])) ++end;
    const std::string_view name = d.substr(0, end);
    if (name.size() == 25 && ascii_istarts_with(name, "upgrade-insecure-requests")) return true;
    if (sep == std::string_view::npos) break;
    policy.remove_prefix(sep + 1);
  }
  return false;
}

HtmlScanResult find_insecure_subresources(std::string_view html, const HtmlScanOptions& options) {
  bool truncated = html.size() > options.max_input;
  if (truncated) html = html.substr(0, options.max_input);
  auto result = Scanner(html, options).run();
  result.input_truncated = truncated;
  return result;
}

}  // namespace tlsprobe::inspect
