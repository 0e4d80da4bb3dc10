// What the server accepts beyond the one main handshake, as plain data (issue 15 item 1):
// the few cheap handshakes every probe makes (CompatFacts) and, with `probe --clients` or
// `--deep`, the bounded enumeration of protocols, suites and groups (TlsScan). The prober
// fills them (proxy/probe/tls_scan.hpp); inspect/check_compat.cpp and the client matcher
// (inspect/client_match.hpp) read them and never touch a socket.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tlsprobe::inspect {

// One handshake made to learn what the server accepts (not to judge its chain).
struct TlsAttempt {
  // A handshake completed: the server chose `version` and `cipher` (an anonymous suite
  // completes without a certificate and still counts: it is what the server accepts).
  bool ok = false;
  std::string version;    // "1.3", "1.2", "1.1", "1.0"
  std::string cipher;     // OpenSSL name of the suite the server chose
  std::string kex_group;  // see HandshakeObservation::kex_group
  int kex_bits = 0;
  std::string failure;   // why not, when !ok: a TLS alert name or a short reason
  bool refused = false;  // !ok because the server answered TLS and refused (not a timeout)
};

// The cheap facts every probe collects beside its main handshake (a few handshakes, made
// in parallel with the SNI checks, only after a main handshake that answered TLS).
struct CompatFacts {
  // Offering exactly what current Chrome offers (client_profiles.hpp, id "chrome").
  std::optional<TlsAttempt> browsers;
  // DHE suites only, TLS 1.0-1.2, security level 0: the server's finite-field DH group,
  // which clients that offer ECDHE never see when the server prefers ECDHE.
  std::optional<TlsAttempt> dhe;
  // TLS 1.0 and 1.1 only, security level 0: is an old protocol still enabled beside 1.2+?
  std::optional<TlsAttempt> legacy;
  // After a failed main handshake: every suite this OpenSSL has (NULL and anonymous
  // ones included), TLS 1.0-1.3, security level 0: what the server would accept at all.
  std::optional<TlsAttempt> anything;
  // When `browsers` was refused: one handshake per current browser profile (id, attempt),
  // so the finding names exactly which browsers cannot connect.
  std::vector<std::pair<std::string, TlsAttempt>> profiles;
};

// One protocol version of the enumeration.
struct ProtocolScan {
  std::string version;              // "1.0" .. "1.3"
  bool accepted = false;            // a handshake at exactly this version completed
  std::vector<std::string> suites;  // OpenSSL names, in the order the server chose them
  // The server picks by its own preference (offering its suites in reverse order still
  // got its first choice); false: it follows the client's order, or unknown (< 2 suites).
  bool server_order = false;
  bool complete = true;  // false: the handshake bound or the deadline cut the loop short
};

// Bounded enumeration of what the server accepts (probe --clients / --deep).
struct TlsScan {
  std::vector<ProtocolScan> protocols;  // 1.3, 1.2, 1.1, 1.0
  // Key-exchange groups accepted, each offered alone (OpenSSL names: "X25519", "P-256",
  // "ffdhe2048"), at TLS 1.3 when the server speaks it, else TLS 1.2 ECDHE.
  std::vector<std::string> groups;
  std::string groups_version;  // the version the groups were tried at; empty: not tried
  // The finite-field DH group of a DHE suite the server accepted: its name ("ffdhe2048",
  // "DH" for a group that is none of the standard ones) and size; 0: no DHE suite.
  std::string dh_group;
  int dh_bits = 0;
  int handshakes = 0;  // handshakes made
  double elapsed_ms = 0;
  bool complete = true;  // false: the bound or the deadline cut the scan short

  const ProtocolScan* protocol(const std::string& version) const {
    for (const auto& p : protocols)
      if (p.version == version) return &p;
    return nullptr;
  }
};

}  // namespace tlsprobe::inspect
