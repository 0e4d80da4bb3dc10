// A small, strict reader of the Prometheus text exposition format 0.0.4, for tests: it
// checks the line grammar (HELP/TYPE comments, `name{label="value",...} number`, escapes)
// and returns the samples keyed by a canonical "name{a=\"x\",b=\"y\"}" with labels sorted.
#pragma once

#include <cctype>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace testmetrics {

struct Exposition {
  std::map<std::string, std::string> help, type;  // metric family -> text / type
  std::map<std::string, double> samples;          // canonical key -> value
  std::vector<std::string> errors;                // one per malformed line
};

inline std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

inline std::string canonical(const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return name;
  std::string key = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) key += ',';
    first = false;
    key += k + "=\"" + escape(v) + "\"";
  }
  return key + "}";
}

inline bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

inline Exposition parse_exposition(const std::string& text) {
  Exposition out;
  if (!text.empty() && text.back() != '\n') out.errors.push_back("no final newline");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto sp = rest.find(' ');
      if (sp == std::string::npos) {
        out.errors.push_back("comment: " + line);
        continue;
      }
      (line[2] == 'H' ? out.help : out.type)[rest.substr(0, sp)] = rest.substr(sp + 1);
      continue;
    }
    if (line[0] == '#') continue;
    std::size_t i = 0;
    while (i < line.size() && name_char(line[i], i == 0)) ++i;
    const std::string name = line.substr(0, i);
    if (name.empty()) {
      out.errors.push_back("name: " + line);
      continue;
    }
    std::map<std::string, std::string> labels;
    bool bad = false;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t start = i;
        while (i < line.size() && name_char(line[i], i == start)) ++i;
        const std::string label = line.substr(start, i - start);
        if (label.empty() || line.compare(i, 2, "=\"") != 0) {
          bad = true;
          break;
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            const char e = line[++i];
            if (e == 'n')
              value += '\n';
            else if (e == '\\' || e == '"')
              value += e;
            else
              bad = true;
          } else {
            value += line[i];
          }
          ++i;
        }
        if (i >= line.size()) {
          bad = true;
          break;
        }
        ++i;  // closing quote
        labels[label] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (bad || i >= line.size()) {
        out.errors.push_back("labels: " + line);
        continue;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      out.errors.push_back("value: " + line);
      continue;
    }
    const std::string number = line.substr(i + 1);
    char* end = nullptr;
    const double v = number == "+Inf" ? 1e308 : std::strtod(number.c_str(), &end);
    if (number != "+Inf" && (end == number.c_str() || *end != '\0')) {
      out.errors.push_back("number: " + line);
      continue;
    }
    out.samples[canonical(name, labels)] = v;
  }
  return out;
}

// The sample's value, or -1 when it is absent.
inline double sample(const Exposition& e, const std::string& name,
                     const std::map<std::string, std::string>& labels) {
  auto it = e.samples.find(canonical(name, labels));
  return it == e.samples.end() ? -1 : it->second;
}

}  // namespace testmetrics
