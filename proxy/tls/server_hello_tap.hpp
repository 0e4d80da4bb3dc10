// ServerHelloTap: the tunnel's incremental ServerHello reader, the server->client twin of
// ClientHelloTap (proxy/tls/client_hello_tap.hpp). It asks inspect::parse_server_hello after
// each read of the server's first bytes; a ServerHello that arrives whole in the first read
// (nearly always) is parsed where it lies, without a copy. Only a split one is copied, never
// more than inspect::max_server_hello_bytes. Once decided it looks at nothing more.
#pragma once

#include "inspect/server_hello.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tlsprobe::proxy {

class ServerHelloTap {
 public:
  enum class State {
    reading,    // a valid prefix so far
    tls,        // a ServerHello was parsed: hello() is set
    not_tls,    // the server's first bytes are not TLS
    invalid,    // TLS framing but a malformed ServerHello
    alert,      // the server refused the handshake with an alert
    too_large,  // no ServerHello within inspect::max_server_hello_bytes
  };

  // Adds the next server bytes. Returns true when this call ended the reading state.
  bool feed(const char* data, std::size_t n) {
    if (state_ != State::reading) return false;
    const auto* p = reinterpret_cast<const std::uint8_t*>(data);
    if (bytes_.empty()) {
      if (decide(inspect::parse_server_hello({p, n}))) return true;
      const std::size_t take = std::min(n, inspect::max_server_hello_bytes);
      bytes_.assign(p, p + take);
      return false;
    }
    const std::size_t take = std::min(n, inspect::max_server_hello_bytes - bytes_.size());
    bytes_.insert(bytes_.end(), p, p + take);
    return decide(inspect::parse_server_hello(bytes_));
  }

  State state() const { return state_; }
  const std::string& detail() const { return detail_; }  // the parser's reason, when any
  const inspect::ServerHello& hello() const { return hello_; }

 private:
  // Applies a parser answer; true when it decided.
  bool decide(const inspect::ServerHelloResult& r) {
    switch (r.status) {
      case inspect::ServerHelloStatus::need_more:
        return false;
      case inspect::ServerHelloStatus::ok:
        state_ = State::tls;
        hello_ = r.hello;
        break;
      case inspect::ServerHelloStatus::not_tls:
        state_ = State::not_tls;
        break;
      case inspect::ServerHelloStatus::invalid:
        state_ = State::invalid;
        break;
      case inspect::ServerHelloStatus::alert:
        state_ = State::alert;
        break;
      case inspect::ServerHelloStatus::too_large:
        state_ = State::too_large;
        break;
    }
    detail_ = r.error;
    bytes_.clear();
    bytes_.shrink_to_fit();  // the copy is not needed any more
    return true;
  }

  State state_ = State::reading;
  std::vector<std::uint8_t> bytes_;
  std::string detail_;
  inspect::ServerHello hello_;
};

}  // namespace tlsprobe::proxy
