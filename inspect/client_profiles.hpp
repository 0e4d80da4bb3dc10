// What common TLS clients offer in their ClientHello (issue 15 item 1): protocol versions,
// cipher suites, key-exchange groups and signature algorithms, as data. The client matcher
// (client_match.hpp) decides from these and a server's enumeration which clients can
// connect; the prober replays the browser profiles as real handshakes (proxy/probe/tls_scan.hpp).
// Where each profile's data comes from is written beside it in client_profiles.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::inspect {

struct ClientProfile {
  std::string_view id;    // stable key in JSON and evidence: "chrome", "firefox", ...
  std::string_view name;  // for people: "Chrome 131+ / Edge (desktop, Android)"
  // A current browser: a server none of whose suites it offers gets tls.cipher_mismatch.
  bool browser = false;
  std::vector<std::string_view> versions;  // "1.3", "1.2", "1.1", "1.0", best first
  // Cipher suites in the client's order, by OpenSSL name (TLS 1.3 suites by their RFC
  // name, as OpenSSL spells them too); suite_iana_name() gives the IANA name.
  std::vector<std::string_view> suites;
  // Key-exchange groups in the client's order, by OpenSSL group-list name ("X25519",
  // "P-256", "ffdhe2048"); "X25519MLKEM768" is listed where sent but OpenSSL 3.0 cannot
  // negotiate it.
  std::vector<std::string_view> groups;
  std::vector<std::string_view> sigalgs;  // signature_algorithms, IANA names
  // Smallest finite-field DH group the client accepts in a DHE suite, in bits; 0 when it
  // offers no DHE suite at all.
  int min_dh_bits = 0;
  std::string_view source;  // where the data comes from
};

// The table: Chrome/Edge, Firefox, Safari, curl (OpenSSL 3, security level 2), Java 17,
// Python 3, Android 7.
const std::vector<ClientProfile>& client_profiles();
const ClientProfile* find_client_profile(std::string_view id);

// IANA name of a suite given by its OpenSSL name ("ECDHE-RSA-AES128-GCM-SHA256" ->
// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); the OpenSSL name itself when not in the table.
std::string suite_iana_name(std::string_view openssl_name);

// Facts about a suite read from its OpenSSL name (pure: no library lookup).
struct SuiteTraits {
  bool tls13 = false;            // a TLS 1.3 suite (TLS_AES_..., TLS_CHACHA20_...)
  bool forward_secret = false;   // ECDHE or DHE key exchange, or TLS 1.3
  bool finite_field_dh = false;  // DHE (a finite-field group)
  bool anonymous = false;        // ADH/AECDH: no server certificate
  bool null_cipher = false;      // no encryption at all
  bool aead = false;             // GCM, CCM or ChaCha20-Poly1305
};
SuiteTraits suite_traits(std::string_view openssl_name);

}  // namespace tlsprobe::inspect
