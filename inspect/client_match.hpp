// The client matcher (issue 15 item 1): given what a server accepts (TlsScan) and what a
// client offers (ClientProfile), decide whether that client can connect, with which
// protocol, suite and group, and if not, why. Pure: the same negotiation rules a TLS
// server applies, replayed on data.
#pragma once

#include "inspect/client_profiles.hpp"
#include "inspect/tls_facts.hpp"

#include <string>
#include <vector>

namespace tlsprobe::inspect {

struct ClientVerdict {
  std::string profile;  // ClientProfile::id
  std::string name;     // ClientProfile::name
  bool browser = false;
  bool connects = false;
  std::string version;     // negotiated protocol ("1.3"), when it connects
  std::string suite;       // OpenSSL name
  std::string suite_iana;  // IANA name
  std::string group;       // key-exchange group ("X25519", "ffdhe2048", "DH 1024"), if any
  std::string reason;      // why it cannot connect; empty when it connects
};

// Rules, in the order a handshake meets them:
// 1. the highest protocol version both sides speak (clients do not retry lower ones);
// 2. the suite: the server's first choice among the client's suites when the scan saw the
//    server enforce its own order, else the client's first suite the server accepts; none
//    in common at that version is a failure (ERR_SSL_VERSION_OR_CIPHER_MISMATCH);
// 3. the key exchange: a DHE suite needs the server's DH group to be at least the client's
//    minimum; ECDHE and TLS 1.3 need a group both accept (when the scan tried groups).
ClientVerdict match_client(const ClientProfile& profile, const TlsScan& scan);
// Every profile of client_profiles(), in table order.
std::vector<ClientVerdict> match_clients(const TlsScan& scan);

}  // namespace tlsprobe::inspect
