// InterceptPolicy: which CONNECT destinations the intercepting proxy terminates, and what the
// client sees when the upstream fails verification (DESIGN.md section 5, issue 4 point 4).
//
// - `no_intercept` host globs are tunnelled untouched (banks, pinned apps the user knows of).
// - A client that rejected our minted certificate for a host (TLS alert unknown_ca or
//   bad_certificate: a pinned app, or a client that does not trust the tlsprobe CA) gets that
//   host tunnelled, so the app keeps working. The fallback is keyed by (client address, host)
//   and expires after `pin_ttl` (default 10 minutes): one client's rejection never turns
//   interception off for other clients, nor for ever (issue 12 item 9). The entries can be
//   listed and cleared (admin listener, proxy/session/pins_admin.hpp) and are counted in metrics.
//   The memory is bounded: expired entries are dropped first, then nothing more is pinned.
// Thread-safe: sessions on every thread ask and report.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlsprobe::proxy {

// What the client gets when the upstream failed verification is config::UpstreamErrorPolicy:
// explain (a trusted minted leaf over which only tlsprobe's own 502 page is served), mirror
// (a leaf from a throwaway untrusted CA: the client shows its own error) or pass (forward
// anyway; findings only go to the log).

enum class InterceptDecision { intercept, no_intercept, pinned };
std::string_view to_string(InterceptDecision d);

// Shell-style glob, ASCII case-insensitive: '*' any run of characters (dots included, so
// "*.bank.example" also covers "a.b.bank.example"), '?' one character. Linear time.
bool host_glob_match(std::string_view pattern, std::string_view host);

// One (client, host) fallback to tunnelling.
struct Pin {
  std::string client;  // client IP address, as logged in client.address
  std::string host;    // normalized host name (or IP literal) of the CONNECT
  std::chrono::system_clock::time_point since;
  std::chrono::seconds expires_in{0};  // left at the time of the listing
};

class InterceptPolicy {
 public:
  static constexpr std::size_t kMaxPinnedHosts = 10'000;
  static constexpr std::chrono::seconds kDefaultPinTtl{600};
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

  // `now` is the clock expiry is measured with (tests pass a fake one).
  explicit InterceptPolicy(std::vector<std::string> no_intercept = {},
                           std::size_t max_pinned = kMaxPinnedHosts,
                           std::chrono::seconds pin_ttl = kDefaultPinTtl, SteadyNow now = {});

  // Host as named in CONNECT (name or IP literal); compared normalized (lower case, no dot).
  // `client` is the client's address text: only its own unexpired rejection pins the host.
  InterceptDecision decide(std::string_view client, std::string_view host) const;
  // `client` refused our certificate for `host`: tunnel that pair for pin_ttl. True when it
  // was not pinned before (the caller logs the change once); a repeated rejection after the
  // entry expired pins again. A full memory (after dropping expired entries) pins nothing.
  bool mark_pinned(std::string_view client, std::string_view host);
  // Unexpired entries, oldest first.
  std::vector<Pin> pins() const;
  // Removes every entry; returns how many there were (expired ones included).
  std::size_t clear_pins();
  // Unexpired entries.
  std::size_t pinned_count() const;
  std::chrono::seconds pin_ttl() const { return pin_ttl_; }

 private:
  struct Entry {
    std::chrono::steady_clock::time_point expires;
    std::chrono::system_clock::time_point since;
  };
  std::chrono::steady_clock::time_point now() const;
  void drop_expired(std::chrono::steady_clock::time_point now);  // mutex_ held

  std::vector<std::string> no_intercept_;
  std::size_t max_pinned_;
  std::chrono::seconds pin_ttl_;
  SteadyNow now_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Entry> pinned_;  // (client, host)
};

}  // namespace tlsprobe::proxy
