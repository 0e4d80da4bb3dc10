// Whether this test binary is built with ASan or TSan (the tlsprobe binary the tests start
// is then instrumented too): their quarantine and shadow memory make RSS comparisons
// meaningless, so memory checks only warn in such builds; backpressure checks still run.
#pragma once

namespace tlsprobe::testsupport {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif
#else
inline constexpr bool sanitized_build = false;
#endif

}  // namespace tlsprobe::testsupport
