// libFuzzer target for parse_server_hello: the first bytes a tunnelled server sends are
// untrusted. Besides "no crash, no out-of-bounds read" (ASan), it checks the parser's
// contract: an ok result consumed no more than it was given nor than the bound, the same bytes
// alone parse to the same answer, and one byte fewer is never "ok". Built only with
// TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "inspect/server_hello.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

using namespace tlsprobe::inspect;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const auto full = parse_server_hello(bytes);
  (void)to_string(full.status);
  if (full.status != ServerHelloStatus::ok) return 0;

  const auto& hello = full.hello;
  // abort() makes libFuzzer save the input: these are contract violations, not crashes.
  if (hello.bytes_consumed == 0 || hello.bytes_consumed > size) std::abort();
  if (hello.bytes_consumed > max_server_hello_bytes) std::abort();
  if (hello.version.empty() || hello.cipher.empty()) std::abort();

  const auto again = parse_server_hello(bytes.first(hello.bytes_consumed));
  if (again.status != ServerHelloStatus::ok || again.hello.version != hello.version ||
      again.hello.cipher_suite != hello.cipher_suite ||
      again.hello.hello_retry_request != hello.hello_retry_request)
    std::abort();
  const auto shorter = parse_server_hello(bytes.first(hello.bytes_consumed - 1));
  if (shorter.status == ServerHelloStatus::ok) std::abort();
  return 0;
}
