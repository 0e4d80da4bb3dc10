// InterceptPolicy: which CONNECT destinations the intercepting proxy terminates, and what the
// client sees when the upstream fails verification (DESIGN.md section 5, issue 4 point 4).
//
// - `no_intercept` host globs are tunnelled untouched (banks, pinned apps the user knows of).
// - A host whose client rejected our minted certificate (TLS alert unknown_ca or
//   bad_certificate: a pinned app, or a client that does not trust the tlsprobe CA) is
//   remembered and tunnelled from then on, so the app keeps working; the memory is bounded.
// Thread-safe: sessions on every thread ask and report.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace tlsprobe::proxy {

// What the client gets when the upstream failed verification.
enum class OnUpstreamError {
  explain,  // a trusted minted leaf over which only tlsprobe's own 502 page is served
  mirror,   // a leaf from a throwaway untrusted CA: the client shows its own error
  pass,     // forward anyway; findings only go to the log
};
std::string_view to_string(OnUpstreamError p);

enum class InterceptDecision { intercept, no_intercept, pinned };
std::string_view to_string(InterceptDecision d);

// Shell-style glob, ASCII case-insensitive: '*' any run of characters (dots included, so
// "*.bank.example" also covers "a.b.bank.example"), '?' one character. Linear time.
bool host_glob_match(std::string_view pattern, std::string_view host);

class InterceptPolicy {
 public:
  static constexpr std::size_t kMaxPinnedHosts = 10'000;

  explicit InterceptPolicy(std::vector<std::string> no_intercept = {},
                           std::size_t max_pinned = kMaxPinnedHosts);

  // Host as named in CONNECT (name or IP literal); compared normalized (lower case, no dot).
  InterceptDecision decide(std::string_view host) const;
  // The client refused our certificate for `host`: tunnel it from now on. True when it was
  // not pinned before (the caller logs the change once). A full memory pins nothing more.
  bool mark_pinned(std::string_view host);
  std::size_t pinned_count() const;

 private:
  std::vector<std::string> no_intercept_;
  std::size_t max_pinned_;
  mutable std::mutex mutex_;
  std::unordered_set<std::string> pinned_;
};

}  // namespace tlsprobe::proxy
