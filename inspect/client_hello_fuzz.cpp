// libFuzzer target for parse_client_hello: the first bytes of every tunnelled connection come
// from an untrusted client. Besides "no crash, no out-of-bounds read" (ASan), it checks the
// parser's contract: an ok result consumed no more than it was given, parsing exactly those
// bytes again gives the same answer, and a strict prefix of an ok input is never "ok" with
// other facts. Built only with TLSPROBE_FUZZ=ON (clang); runs without arguments.
#include "inspect/client_hello.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

using namespace tlsprobe::inspect;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const auto full = parse_client_hello(bytes);
  (void)to_string(full.status);
  (void)looks_like_http(bytes);
  if (full.status != ClientHelloStatus::ok) return 0;

  const auto& hello = full.hello;
  // abort() makes libFuzzer save the input: these are contract violations, not crashes.
  if (hello.bytes_consumed == 0 || hello.bytes_consumed > size) std::abort();
  if (hello.bytes_consumed > max_client_hello_bytes) std::abort();
  (void)to_observation(hello);

  // The same records alone parse to the same ClientHello (the proxy replays exactly them).
  const auto again = parse_client_hello(bytes.first(hello.bytes_consumed));
  if (again.status != ClientHelloStatus::ok || again.hello.sni != hello.sni ||
      again.hello.alpn != hello.alpn || again.hello.versions != hello.versions)
    std::abort();
  // One byte short of the records is a valid prefix: the parser must ask for more.
  const auto shorter = parse_client_hello(bytes.first(hello.bytes_consumed - 1));
  if (shorter.status == ClientHelloStatus::ok) std::abort();
  return 0;
}
