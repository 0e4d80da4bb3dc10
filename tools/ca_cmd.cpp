// `tlsprobe ca init|export|path [--state-dir DIR] [--format pem|der]` (DESIGN.md sections 5, 8).
//
//   init    keeps an existing CA (exit 0, "kept the existing CA at …") or creates one
//           ("created …"); prints where it is and its SHA-256 fingerprint
//   export  writes the CA certificate to stdout, PEM unless --format der; it never creates a
//           CA (a fresh CA nobody trusts is not what a user exporting one wants): without one
//           it exits 64 "no CA yet: run `tlsprobe ca init`"
//   path    prints the CA certificate's path; exits 64 (path still printed) when it does not
//           exist yet, so `p=$(tlsprobe ca path) && cp "$p" …` fails early
// Usage and local errors exit 64 with one line on stderr, among them a CA state that is not
// the user's alone (another owner, a symbolic link, writable by others: certs/authority.hpp),
// which is refused as it is, never chmod'ed.
#include "certs/authority.hpp"
#include "commands.hpp"

#include "ca_hint.hpp"

#include <openssl/pem.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

namespace tlsprobe::tools {
namespace {

namespace fs = std::filesystem;
using certs::Authority;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tlsprobe ca: %s\n", message.c_str());
  return exit_usage;
}

void print_ca(const char* headline, const fs::path& dir, const certs::Certificate& ca) {
  std::printf("%s %s\n", headline, Authority::cert_path(dir).c_str());
  std::printf("  subject: %s\n", certs::escape_for_display(ca.subject()).c_str());
  std::printf("  valid until: %s\n", certs::format_rfc3339(ca.not_after()).c_str());
  std::printf("  SHA-256 fingerprint: %s\n", certs::colon_fingerprint(ca).c_str());
  std::printf("  key: %s (owner-only)\n", Authority::key_path(dir).c_str());
}

int do_init(const fs::path& dir) {
  auto [authority, created] = Authority::load_or_create(dir);
  print_ca(created ? "created the tlsprobe CA at" : "kept the existing CA at", dir,
           authority.certificate());
  if (created)
    std::printf(
        "Trust it on a client: `%s > tlsprobe-ca.pem`, or browse to "
        "http://tlsprobe.ca/ through the intercepting proxy.\n",
        ca_command("export", dir).c_str());
  return exit_ok;
}

int do_export(const fs::path& dir, const std::string& format) {
  std::error_code ec;
  if (!fs::exists(Authority::cert_path(dir), ec))
    return usage_error("no CA yet in " + dir.string() + ": run `" + ca_command("init", dir) + "`");
  const certs::Certificate ca = Authority::read_certificate(dir);
  if (format == "der") {
    if (::isatty(STDOUT_FILENO))
      return usage_error("DER is binary: redirect it to a file (`> tlsprobe-ca.crt`)");
    const std::string& der = ca.der();
    if (std::fwrite(der.data(), 1, der.size(), stdout) != der.size())
      return usage_error("cannot write to stdout");
  } else {
    certs::BioPtr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_X509(bio.get(), ca.x509()) != 1)
      return usage_error("cannot encode the CA certificate: " + certs::openssl_errors());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (std::fwrite(data, 1, static_cast<std::size_t>(len), stdout) !=
        static_cast<std::size_t>(len))
      return usage_error("cannot write to stdout");
  }
  if (std::fflush(stdout) != 0) return usage_error("cannot write to stdout");
  return exit_ok;
}

int do_path(const fs::path& dir) {
  const fs::path path = Authority::cert_path(dir);
  std::printf("%s\n", path.c_str());
  std::error_code ec;
  if (!fs::exists(path, ec))
    return usage_error("no CA yet in " + dir.string() + ": run `" + ca_command("init", dir) + "`");
  return exit_ok;
}

}  // namespace

int ca_main(int argc, char** argv) {
  CLI::App app{"Manage the tlsprobe interception CA.", "tlsprobe ca"};
  std::string action;
  std::string state_dir;
  std::string format = "pem";
  app.add_option("action", action, "init | export | path")
      ->required()
      ->check(CLI::IsMember({"init", "export", "path"}));
  auto* dir_opt = app.add_option("--state-dir", state_dir,
                                 "CA directory (default: $XDG_DATA_HOME/tlsprobe or "
                                 "~/.local/share/tlsprobe)");
  auto* format_opt = app.add_option("--format", format, "export format: pem (default) or der")
                         ->check(CLI::IsMember({"pem", "der"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (format_opt->count() > 0 && action != "export")
    return usage_error("--format applies to `ca export` only");

  try {
    const fs::path dir = dir_opt->count() > 0 ? fs::path(state_dir) : certs::default_state_dir();
    if (dir.empty()) return usage_error("--state-dir is empty");
    if (action == "init") return do_init(dir);
    if (action == "export") return do_export(dir, format);
    return do_path(dir);
  } catch (const std::exception& e) {  // AuthorityError: one line naming the file
    return usage_error(e.what());
  }
}

}  // namespace tlsprobe::tools
