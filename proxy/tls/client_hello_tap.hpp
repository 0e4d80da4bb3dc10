// ClientHelloTap: the tunnel's incremental ClientHello reader. It keeps a copy of the
// first client bytes (never more than its limit, 64 KiB by default as Envoy's inspector)
// and asks inspect::parse_client_hello after each read, so a ClientHello split over many
// TCP segments or TLS records is read as soon as its last byte arrives. The tunnel forwards
// the bytes themselves without waiting for it.
#pragma once

#include "inspect/client_hello.hpp"
#include "inspect/observation.hpp"
#include "proxy/tls/hello_status.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tlsprobe::proxy {

enum class TapState {
  reading,    // a valid prefix so far
  tls,        // a ClientHello was parsed: hello() is set
  not_tls,    // the first bytes are not TLS (plain HTTP, SSH, …): passed through
  invalid,    // TLS framing but a malformed ClientHello
  too_large,  // the limit was reached before the ClientHello ended
  truncated,  // the client stopped sending (closed) in the middle of a ClientHello
};

class ClientHelloTap {
 public:
  explicit ClientHelloTap(std::size_t limit) : limit_(limit) {}

  // Adds the next client bytes. Returns true when this call ended the reading state.
  bool feed(const char* data, std::size_t n) {
    if (state_ != TapState::reading) return false;
    const std::size_t take = std::min(n, limit_ - bytes_.size());
    bytes_.insert(bytes_.end(), reinterpret_cast<const std::uint8_t*>(data),
                  reinterpret_cast<const std::uint8_t*>(data) + take);
    const auto r = inspect::parse_client_hello(bytes_);
    switch (r.status) {
      case inspect::ClientHelloStatus::need_more:
        if (bytes_.size() < limit_) return false;
        state_ = TapState::too_large;
        break;
      case inspect::ClientHelloStatus::not_tls:
        state_ = TapState::not_tls;
        detail_ = r.error;
        break;
      case inspect::ClientHelloStatus::invalid:
        state_ = TapState::invalid;
        detail_ = r.error;
        break;
      case inspect::ClientHelloStatus::too_large:
        state_ = TapState::too_large;
        break;
      case inspect::ClientHelloStatus::ok:
        state_ = TapState::tls;
        hello_ = inspect::to_observation(r.hello);
        break;
    }
    bytes_.clear();
    bytes_.shrink_to_fit();  // the copy is not needed any more
    return true;
  }

  // The client closed while the tap was still reading.
  void finish() {
    if (state_ != TapState::reading) return;
    state_ = bytes_.empty() ? TapState::not_tls : TapState::truncated;
    bytes_.clear();
    bytes_.shrink_to_fit();
  }

  TapState state() const { return state_; }
  // The shared vocabulary (proxy/tls/hello_status.hpp); reading answers error.
  HelloStatus status() const {
    switch (state_) {
      case TapState::tls:
        return HelloStatus::ok;
      case TapState::not_tls:
        return HelloStatus::not_tls;
      case TapState::invalid:
        return HelloStatus::invalid;
      case TapState::too_large:
        return HelloStatus::too_large;
      case TapState::truncated:
        return HelloStatus::truncated;
      case TapState::reading:
        break;
    }
    return HelloStatus::error;
  }
  // `event.reason` when the tap ended without a ClientHello (empty for one).
  std::string reason() const { return hello_failure_reason(status(), detail_); }
  const std::string& detail() const { return detail_; }  // parser's reason, when any
  const inspect::ClientHelloObservation& hello() const { return hello_; }

 private:
  std::size_t limit_;
  TapState state_ = TapState::reading;
  std::vector<std::uint8_t> bytes_;
  std::string detail_;
  inspect::ClientHelloObservation hello_;
};

}  // namespace tlsprobe::proxy
