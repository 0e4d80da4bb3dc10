// One temp-dir helper for every test: a private directory (mkdtemp: a fresh name, mode 0700)
// under the system temp dir, named "tlsprobe-<tag>-XXXXXX" so a leftover says which test made
// it. TempDir removes it with everything in it when it goes away, unless TLSPROBE_KEEP_TEMP is
// set (non-empty, not "0"): then it stays for a post-mortem and its path goes to stderr.
// make_temp_dir() makes one that the caller owns (a child process's directory, kept by
// whoever removes it).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace tlsprobe::testsupport {

// Throws std::runtime_error when the directory cannot be made (a test cannot go on without it).
inline std::filesystem::path make_temp_dir(std::string_view tag) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("tlsprobe-" + std::string(tag) + "-XXXXXX"))
          .string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  return tmpl;
}

// TLSPROBE_KEEP_TEMP=1: temporary directories outlive the test (debugging a failure).
inline bool keep_temp_dirs() {
  const char* keep = std::getenv("TLSPROBE_KEEP_TEMP");
  return keep != nullptr && *keep != '\0' && std::string_view(keep) != "0";
}

// Removes `dir` and everything in it, or keeps it (and says where) under TLSPROBE_KEEP_TEMP.
inline void remove_temp_dir(const std::filesystem::path& dir) {
  if (dir.empty()) return;
  if (keep_temp_dirs()) {
    std::fprintf(stderr, "TLSPROBE_KEEP_TEMP: kept %s\n", dir.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

struct TempDir {
  explicit TempDir(std::string_view tag = "test") : path(make_temp_dir(tag)) {}
  ~TempDir() { remove_temp_dir(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string str() const { return path.string(); }
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
  // The path of `name` in it, as text (for argv and file APIs that take strings).
  std::string file(const std::string& name) const { return (path / name).string(); }

  const std::filesystem::path path;
};

}  // namespace tlsprobe::testsupport
