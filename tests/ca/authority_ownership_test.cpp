// The CA state is ours alone (issue 12 item 2). Before: `ca init` and the proxy took a CA key
// and certificate owned by another user, followed symbolic links, and kept a pre-existing
// 0777 state directory as it was. Now each is refused with one line naming the path and the
// fix, nothing is chmod'ed that tlsprobe did not create, and nothing is written.
//
// Ownership needs a file of another user: as root (CI) the tests chown to uid 65534; as an
// ordinary user they use a directory root owns ("/"), the one foreign object they can name.
#include "ca/ca_test_util.hpp"
#include "certs/authority.hpp"
#include "support/process.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>

using namespace tlsprobe;
using catest::error_of;
using catest::mode_of;
using catest::TempDir;
using certs::Authority;
using certs::AuthorityError;

namespace {

constexpr uid_t kOtherUid = 65534;  // "nobody"

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

uid_t owner_of(const catest::fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_uid;
}

}  // namespace

TEST_CASE("a group- or world-writable state directory is refused and left as it is",
          "[authority][ownership]") {
  for (mode_t mode : {mode_t{0777}, mode_t{0770}, mode_t{0702}, mode_t{01777}}) {
    TempDir tmp{"ca"};
    const auto dir = tmp.path / "state";
    REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
    REQUIRE(::chmod(dir.c_str(), mode) == 0);
    const std::string msg = error_of([&] { Authority::load_or_create(dir); });
    CAPTURE(mode, msg);
    CHECK(contains(msg, dir.string()));
    CHECK(contains(msg, "writable by group or others"));
    CHECK(contains(msg, "chmod 700"));
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(mode_of(dir) == mode);  // never chmod'ed: not ours to repair
    CHECK_FALSE(catest::fs::exists(Authority::cert_path(dir)));
    CHECK_FALSE(catest::fs::exists(Authority::key_path(dir)));
  }
}

TEST_CASE("an existing CA in a directory opened to others is refused by load and export",
          "[authority][ownership]") {
  TempDir tmp{"ca"};
  Authority::load_or_create(tmp.path);
  REQUIRE(::chmod(tmp.path.c_str(), 0777) == 0);
  CHECK(contains(error_of([&] { Authority::load_or_create(tmp.path); }), "chmod 700"));
  CHECK(contains(error_of([&] { Authority::load(tmp.path); }), "chmod 700"));
  CHECK(contains(error_of([&] { Authority::read_certificate(tmp.path); }), "chmod 700"));
  REQUIRE(::chmod(tmp.path.c_str(), 0700) == 0);  // the control: the same CA, fixed
  CHECK_NOTHROW(Authority::load(tmp.path));
}

TEST_CASE("a certificate others may write is refused", "[authority][ownership]") {
  TempDir tmp{"ca"};
  Authority::load_or_create(tmp.path);
  const auto cert = Authority::cert_path(tmp.path);
  for (mode_t mode : {mode_t{0664}, mode_t{0646}, mode_t{0666}}) {
    REQUIRE(::chmod(cert.c_str(), mode) == 0);
    const std::string msg = error_of([&] { Authority::load(tmp.path); });
    CAPTURE(mode, msg);
    CHECK(msg.rfind(cert.string() + ": ", 0) == 0);
    CHECK(contains(msg, "writable by group or others"));
    CHECK(mode_of(cert) == mode);
  }
  REQUIRE(::chmod(cert.c_str(), 0644) == 0);
  CHECK_NOTHROW(Authority::load(tmp.path));
}

TEST_CASE("symbolic links in the CA state are refused", "[authority][ownership]") {
  TempDir tmp{"ca"};
  const auto real = tmp.path / "real";
  Authority::load_or_create(real);  // a good CA, ours, 0600/0644 in 0700
  const auto state = tmp.path / "state";
  REQUIRE(::mkdir(state.c_str(), 0700) == 0);

  SECTION("the key is a link to a good key") {
    catest::fs::copy_file(Authority::cert_path(real), Authority::cert_path(state));
    catest::fs::create_symlink(Authority::key_path(real), Authority::key_path(state));
    for (int i = 0; i < 2; ++i) {
      const std::string msg = error_of([&] {
        if (i == 0) Authority::load_or_create(state);
        if (i == 1) Authority::load(state);
      });
      CAPTURE(msg);
      CHECK(msg.rfind(Authority::key_path(state).string() + ": ", 0) == 0);
      CHECK(contains(msg, "symbolic link"));
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
  SECTION("the certificate is a link") {
    catest::fs::create_symlink(Authority::cert_path(real), Authority::cert_path(state));
    const std::string msg = error_of([&] { Authority::load_or_create(state); });
    CHECK(msg.rfind(Authority::cert_path(state).string() + ": ", 0) == 0);
    CHECK(contains(msg, "symbolic link"));
    CHECK(contains(error_of([&] { Authority::read_certificate(state); }), "symbolic link"));
  }
  SECTION("a dangling key link is never written through") {
    const auto target = tmp.path / "planted-key.pem";
    catest::fs::create_symlink(target, Authority::key_path(state));
    const std::string msg = error_of([&] { Authority::load_or_create(state); });
    CHECK(contains(msg, Authority::key_path(state).string()));
    CHECK_FALSE(catest::fs::exists(target));
  }
  SECTION("the state directory is a link to a good state directory") {
    const auto link = tmp.path / "link";
    catest::fs::create_directory_symlink(real, link);
    const std::string msg = error_of([&] { Authority::load_or_create(link); });
    CAPTURE(msg);
    CHECK(msg.rfind(link.string() + ": ", 0) == 0);
    CHECK(contains(msg, "symbolic link"));
    CHECK(contains(error_of([&] { Authority::load(link); }), "symbolic link"));
  }
  SECTION("control: the real files load") { CHECK_NOTHROW(Authority::load(real)); }
}

TEST_CASE("CA files or a state directory of another user are refused", "[authority][ownership]") {
  if (::geteuid() != 0) {
    // An ordinary user cannot make a file of someone else's; "/" is root's.
    const std::string msg = error_of([] { Authority::load_or_create("/"); });
    CAPTURE(msg);
    CHECK(msg.rfind("/: owned by uid 0, not by you", 0) == 0);
    CHECK(contains(error_of([] { Authority::load("/"); }), "not by you"));
    WARN("not root: the chown'ed key and certificate cases run as root only (CI)");
    return;
  }
  TempDir tmp{"ca"};
  Authority::load_or_create(tmp.path);
  const auto key = Authority::key_path(tmp.path);
  const auto cert = Authority::cert_path(tmp.path);
  SECTION("the key, 0600 but another user's") {
    REQUIRE(::chown(key.c_str(), kOtherUid, kOtherUid) == 0);
    const std::string msg = error_of([&] { Authority::load_or_create(tmp.path); });
    CAPTURE(msg);
    CHECK(msg.rfind(key.string() + ": owned by uid 65534, not by you (uid 0)", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(owner_of(key) == kOtherUid);  // untouched
    CHECK(mode_of(key) == 0600);
  }
  SECTION("the certificate") {
    REQUIRE(::chown(cert.c_str(), kOtherUid, kOtherUid) == 0);
    CHECK(error_of([&] {
            Authority::load(tmp.path);
          }).rfind(cert.string() + ": owned by uid 65534", 0) == 0);
    CHECK(contains(error_of([&] { Authority::read_certificate(tmp.path); }), "not by you"));
  }
  SECTION("the state directory") {
    REQUIRE(::chown(tmp.path.c_str(), kOtherUid, kOtherUid) == 0);
    const std::string msg = error_of([&] { Authority::load_or_create(tmp.path); });
    CHECK(msg.rfind(tmp.path.string() + ": owned by uid 65534", 0) == 0);
    REQUIRE(::chown(tmp.path.c_str(), 0, 0) == 0);  // so that TempDir can clean up
  }
  SECTION("control: all ours") { CHECK_NOTHROW(Authority::load(tmp.path)); }
}

TEST_CASE("ca init and the intercepting proxy refuse a 0777 state directory with one line",
          "[authority][ownership][cli]") {
  TempDir tmp{"ca"};
  const auto dir = tmp.path / "state";
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  REQUIRE(::chmod(dir.c_str(), 0777) == 0);
  const auto init = testsupport::run_tlsprobe({"ca", "init", "--state-dir", dir.string()},
                                              std::chrono::seconds(30));
  CHECK(init.exit_code == 64);
  CHECK(init.err.rfind("tlsprobe ca: " + dir.string() + ": ", 0) == 0);
  CHECK(contains(init.err, "chmod 700"));
  CHECK(std::count(init.err.begin(), init.err.end(), '\n') == 1);
  // Before the fix the proxy started (and ran until killed): the limit shows it exits at once.
  const auto proxy = testsupport::run_tlsprobe(
      {"proxy", "--intercept", "--state-dir", dir.string(), "--listen", "127.0.0.1:0", "--admin",
       "off", "--log", (tmp.path / "log.jsonl").string()},
      std::chrono::seconds(20));
  CHECK_FALSE(proxy.timed_out);
  CHECK(proxy.exit_code == 64);
  CHECK(contains(proxy.err, "chmod 700"));
  CHECK(mode_of(dir) == 0777);
  CHECK_FALSE(catest::fs::exists(Authority::key_path(dir)));
}
