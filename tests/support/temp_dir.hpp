// One temp-dir helper for every test: a private directory (mkdtemp: a fresh name, mode 0700)
// under the system temp dir, named "tlsprobe-<tag>-XXXXXX" so a leftover says which test made
// it. TempDir removes it with everything in it when it goes away; make_temp_dir() makes one
// that the caller owns (fixtures that remove it themselves, or hand it to a child process).
#pragma once

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

struct TempDir {
  explicit TempDir(std::string_view tag = "test") : path(make_temp_dir(tag)) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string str() const { return path.string(); }
  std::filesystem::path operator/(const std::string& name) const { return path / name; }

  const std::filesystem::path path;
};

}  // namespace tlsprobe::testsupport
