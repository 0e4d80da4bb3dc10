#include "proxy/tls/tunnel_tls_watch.hpp"

namespace tlsprobe::proxy {

// The rule for "established" (ECS tls.established: the negotiation succeeded and the
// connection became an encrypted tunnel), from record headers only. It is conservative: when
// the headers cannot prove that application data went both ways, the answer is false.
//
// TLS <= 1.2: application_data records (content type 23) exist only after both Finished
// messages (alerts stay type 21, the Finished itself is type 22). Established = at least one
// type-23 record from the client and one from the server. A client that rejects the server's
// certificate sends an alert (21) before its Finished and never a type-23 record.
//
// TLS 1.3: every record after the ServerHello is type 23, encrypted handshake and alerts
// included (RFC 8446 §5.2), so the order and the size of the records decide:
//  - a record no longer than an encrypted alert (2 bytes, the inner content type, a 16-byte
//    AEAD tag: 19) is never counted: it may be the alert of a failed handshake;
//  - client records count only after the server's first type-23 record (its encrypted
//    handshake, which the client must read before it can send its Finished): 0-RTT early
//    data, sent before it, is not taken for a Finished;
//  - the client's first counted record is its Finished; established needs a second one
//    (application data) ...
//  - ... and a server record read after the client's Finished (a NewSessionTicket or data:
//    a server sends either only once it has accepted the client's Finished; a server that
//    rejects it sends an alert, which is too short to count).
// Known limits: an alert padded beyond 19 bytes (RFC 8446 §5.4 allows it; common stacks do not
// pad) counts as data; a connection whose only data is one tiny record reads as not established.
namespace {
constexpr std::uint8_t record_application_data = 23;
constexpr std::size_t encrypted_alert_length = 2 + 1 + 16;
}  // namespace

bool TunnelTlsWatch::tls13() const {
  return hello_.state() == ServerHelloTap::State::tls && hello_.hello().version == "1.3";
}

bool TunnelTlsWatch::hopeless() const {
  const auto s = hello_.state();
  return (s != ServerHelloTap::State::reading && s != ServerHelloTap::State::tls) ||
         client_walk_.lost() || server_walk_.lost();
}

void TunnelTlsWatch::client_record(std::uint8_t type, std::size_t length) {
  if (type != record_application_data || hello_.state() != ServerHelloTap::State::tls) return;
  if (!tls13()) {
    ++client_data_;
    return;
  }
  if (server_encrypted_ == 0 || length <= encrypted_alert_length) return;
  ++client_data_;
}

void TunnelTlsWatch::server_record(std::uint8_t type, std::size_t length) {
  if (type != record_application_data || hello_.state() != ServerHelloTap::State::tls) return;
  ++server_encrypted_;
  if (tls13() && client_data_ >= 1 && length > encrypted_alert_length) ++server_after_finished_;
}

void TunnelTlsWatch::decide() {
  if (established_) return;
  established_ = tls13() ? client_data_ >= 2 && server_after_finished_ >= 1
                         : hello_.state() == ServerHelloTap::State::tls && client_data_ >= 1 &&
                               server_encrypted_ >= 1;
}

bool TunnelTlsWatch::client_bytes(const char* data, std::size_t n) {
  if (established_ || hopeless()) return false;
  client_walk_.feed(reinterpret_cast<const std::uint8_t*>(data), n,
                    [this](std::uint8_t type, std::size_t length) { client_record(type, length); });
  decide();
  return !established_ && !hopeless();
}

bool TunnelTlsWatch::server_bytes(const char* data, std::size_t n) {
  if (established_ || hopeless()) return false;
  hello_.feed(data, n);  // the ServerHello comes first: known before this piece's records
  server_walk_.feed(reinterpret_cast<const std::uint8_t*>(data), n,
                    [this](std::uint8_t type, std::size_t length) { server_record(type, length); });
  decide();
  return !established_ && !hopeless();
}

}  // namespace tlsprobe::proxy
