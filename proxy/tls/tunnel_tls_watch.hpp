// TunnelTlsWatch: what a tunnel can honestly say about the client's own TLS connection,
// which tlsprobe relays but does not terminate: the version and cipher suite the server chose
// (read from its cleartext ServerHello, ServerHelloTap) and whether the connection was
// established (application data went both ways), read from record headers only
// (TlsRecordWalker): no payload is copied or decrypted.
//
// The tunnel shows it every piece of bytes in both directions as they pass; it answers
// whether it still wants that direction's bytes, so once it has decided the relay does not
// call it again. Both directions of one tunnel run on one strand: no locking.
#pragma once

#include "proxy/tls/server_hello_tap.hpp"
#include "proxy/tls/tls_record_walker.hpp"

#include <cstddef>
#include <cstdint>

namespace tlsprobe::proxy {

class TunnelTlsWatch {
 public:
  // The next client->server / server->client bytes. Returns false when this direction's
  // bytes are not needed any more (decided, or the stream is not TLS).
  bool client_bytes(const char* data, std::size_t n);
  bool server_bytes(const char* data, std::size_t n);

  const ServerHelloTap& server_hello() const { return hello_; }
  // True once application data went both ways after the handshake (see tunnel_tls_watch.cpp
  // for the rule); false until then and for good when the stream is not TLS.
  bool established() const { return established_; }

 private:
  bool tls13() const;
  void client_record(std::uint8_t type, std::size_t length);
  void server_record(std::uint8_t type, std::size_t length);
  void decide();
  bool hopeless() const;  // established can never become true

  ServerHelloTap hello_;
  TlsRecordWalker client_walk_, server_walk_;
  std::uint32_t server_encrypted_ = 0;       // server type-23 records
  std::uint32_t client_data_ = 0;            // client type-23 records that count (see .cpp)
  std::uint32_t server_after_finished_ = 0;  // server records that count after the client's
  bool established_ = false;
};

}  // namespace tlsprobe::proxy
