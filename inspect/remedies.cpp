// Message, remedy and client equivalents for every code diagnose() emits, in one table.
//
// Rows are keyed by code, or "code#variant" for a more precise wording (a variant row's
// empty fields fall back to the code's row). Text may use {evidence_key} and {subject}
// placeholders, filled from the finding. Prose may change at any time: tests assert on
// codes and evidence only. Equivalents follow PEERS.md section 2 (OpenSSL verify code
// number and name, Chrome net:: error, Firefox error, curl's message).
#include "inspect/checks.hpp"

#include <array>

namespace tlsprobe::inspect::detail {

namespace {

struct Text {
  std::string_view key;
  std::string_view message;
  std::string_view remedy;
  std::string_view openssl, chrome, firefox, curl;
};

// clang-format off
constexpr std::array kTexts = {
    // --- dates ---
    Text{"cert.expired",
         "The {position} certificate {certificate} expired on {not_after} ({days_expired} days "
         "before {at}); every client refuses the connection.",
         "Renew the certificate and install it with its chain (e.g. `certbot renew`, then reload "
         "the web server); automate renewal and monitor expiry.",
         "10 X509_V_ERR_CERT_HAS_EXPIRED", "net::ERR_CERT_DATE_INVALID",
         "SEC_ERROR_EXPIRED_CERTIFICATE", "SSL certificate problem: certificate has expired"},
    Text{"cert.expired#intermediate",
         "The intermediate certificate {certificate} on the verified path expired on {not_after} "
         "({days_expired} days before {at}); every client refuses the chain even though the leaf "
         "may be valid.",
         "Replace the expired intermediate in the chain file with the CA's current intermediate "
         "(download it from the CA, or use the fullchain.pem your ACME client writes) and reload "
         "the server.",
         "", "", "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE", ""},
    Text{"cert.expired#root",
         "The root {certificate} that the path ends in expired on {not_after}; OpenSSL-based "
         "clients refuse the chain.",
         "Serve a chain that leads to a current root (the CA's current intermediate, without the "
         "old cross-sign), or update the clients' trust stores.",
         "", "", "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE", ""},
    Text{"cert.not_yet_valid",
         "The {position} certificate {certificate} is not valid before {not_before} "
         "({days_until_valid} days after {at}). Either the certificate was issued with a future "
         "start date, or the clock of the machine checking it is wrong (behind).",
         "First check the client's clock (NTP, time zone, a dead CMOS battery); if the clock is "
         "right, reissue the certificate with a correct notBefore or wait until {not_before}.",
         "9 X509_V_ERR_CERT_NOT_YET_VALID", "net::ERR_CERT_DATE_INVALID",
         "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE",
         "SSL certificate problem: certificate is not yet valid"},
    Text{"cert.not_yet_valid#issuer", "", "", "", "",
         "MOZILLA_PKIX_ERROR_NOT_YET_VALID_ISSUER_CERTIFICATE", ""},
    Text{"cert.expiring_soon",
         "The {position} certificate {certificate} expires on {not_after}, in {days_left} days "
         "(warning threshold {warn_days} days).",
         "Renew it now (`certbot renew` or your CA's renewal), install the new fullchain and reload "
         "the server; check that automatic renewal runs and that the server reloads after it.",
         "none yet (10 X509_V_ERR_CERT_HAS_EXPIRED after {not_after})",
         "none yet (net::ERR_CERT_DATE_INVALID after {not_after})",
         "none yet (SEC_ERROR_EXPIRED_CERTIFICATE after {not_after})",
         "none yet (\"certificate has expired\" after {not_after})"},
    // --- trust ---
    Text{"cert.self_signed",
         "The server's certificate {certificate} is self-signed (its own issuer) and is not a "
         "trusted anchor: every client refuses it unless it is installed on that client.",
         "Use a certificate from a public CA (e.g. Let's Encrypt with certbot) or from an internal "
         "CA whose root is deployed to the clients; to trust this one certificate on purpose, add "
         "it to the client's trust store (tlsprobe `--ca-file`, curl `--cacert`).",
         "18 X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", "net::ERR_CERT_AUTHORITY_INVALID",
         "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT", "SSL certificate problem: self-signed certificate"},
    Text{"chain.untrusted_root",
         "The chain ends in {root}, which is not in the trust store (an internal or private CA?).",
         "If the CA is your own, install its root in the clients' trust stores (tlsprobe: "
         "`--ca-file root.pem`); for a public site use a certificate from a publicly trusted CA.",
         "20 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "net::ERR_CERT_AUTHORITY_INVALID",
         "SEC_ERROR_UNKNOWN_ISSUER",
         "SSL certificate problem: unable to get local issuer certificate"},
    Text{"chain.untrusted_root#sent",
         "The server sent the root {root} and the chain ends in it, but it is not in the trust "
         "store (an internal or private CA?): sending a root does not make clients trust it.",
         "", "19 X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN", "", "",
         "SSL certificate problem: self-signed certificate in certificate chain"},
    Text{"chain.untrusted_root#not_sent",
         "The server sent its chain up to {certificate}, which is issued by {missing_issuer}: "
         "not a trusted root and not sent (an internal CA?).",
         "If {missing_issuer} is your internal root, install it in the clients' trust stores "
         "(tlsprobe: `--ca-file`). If it is an intermediate, serve it with the leaf as one "
         "fullchain file (nginx `ssl_certificate /etc/ssl/fullchain.pem;`, Apache "
         "`SSLCertificateFile` with the chain appended).",
         "", "", "", ""},
    Text{"chain.incomplete",
         "The server sent {certificate} without the intermediate that issued it "
         "({missing_issuer}, published at {aia_url}). Desktop browsers may still work (Chrome "
         "fetches the intermediate via AIA, Firefox preloads intermediates), but curl, Python, "
         "Java, Go, mobile apps and CDN origin pulls fail.",
         "Serve the leaf and its intermediate(s) together as one fullchain file: nginx "
         "`ssl_certificate /etc/ssl/fullchain.pem;` (leaf first, then the intermediate); Apache "
         "2.4.8+ `SSLCertificateFile` with the intermediate appended after the leaf (older "
         "Apache: `SSLCertificateChainFile`); certbot users: use fullchain.pem, not cert.pem. The "
         "missing intermediate can be downloaded from {aia_url}.",
         "20 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (or 21 "
         "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE when only the leaf is sent)",
         "none when Chrome fetches the intermediate via AIA, else net::ERR_CERT_AUTHORITY_INVALID",
         "none when Firefox has the intermediate preloaded, else SEC_ERROR_UNKNOWN_ISSUER",
         "SSL certificate problem: unable to get local issuer certificate"},
    Text{"chain.incomplete#no_aia",
         "The server sent {certificate} without the certificate that issued it "
         "({missing_issuer}), which is not in the trust store either; the certificate has no AIA "
         "URL, so no client can fetch it. If {missing_issuer} is an intermediate, every client "
         "fails; if it is an internal root, clients need it installed.",
         "Serve the leaf and its intermediate(s) together as one fullchain file: nginx "
         "`ssl_certificate /etc/ssl/fullchain.pem;` (leaf first, then the intermediate); Apache "
         "2.4.8+ `SSLCertificateFile` with the intermediate appended after the leaf. If "
         "{missing_issuer} is your internal root, install it in the clients' trust stores "
         "(tlsprobe: `--ca-file root.pem`).",
         "", "net::ERR_CERT_AUTHORITY_INVALID", "SEC_ERROR_UNKNOWN_ISSUER", ""},
    // --- what OpenSSL refuses and has a code of its own (check_verify.cpp) ---
    Text{"chain.not_a_ca",
         "{certificate} issued {issued} but may not issue certificates: {why} (basicConstraints "
         "{basic_constraints}; keyUsage {key_usage}). Every client refuses the chain.",
         "Serve the CA's real intermediate (basicConstraints CA:TRUE and keyUsage keyCertSign) "
         "in the chain file; a leaf or an end-entity certificate cannot sign others. If this "
         "is your own CA, reissue its certificate as a CA (openssl `-extensions v3_ca`), then "
         "the certificates below it.",
         "79 X509_V_ERR_INVALID_CA", "net::ERR_CERT_INVALID", "SEC_ERROR_CA_CERT_INVALID",
         "SSL certificate problem: invalid CA certificate"},
    Text{"chain.path_length",
         "{certificate} allows at most {path_len_constraint} intermediate CA(s) below it "
         "(pathLenConstraint), but the chain has {intermediates_below} between it and the leaf; "
         "clients refuse the chain.",
         "Have the leaf issued by a CA closer to {certificate} (fewer intermediate levels), or "
         "have the CA reissued with a larger pathLenConstraint.",
         "25 X509_V_ERR_PATH_LENGTH_EXCEEDED", "net::ERR_CERT_INVALID",
         "SEC_ERROR_PATH_LEN_CONSTRAINT_INVALID",
         "SSL certificate problem: path length constraint exceeded"},
    Text{"chain.name_constraints",
         "The name {name} of {certificate} breaks the name constraints of {constraining_ca} "
         "({subtree}); clients refuse the chain.",
         "Issue the certificate from a CA whose name constraints allow {name}, or drop that name "
         "from the certificate; if you run the constrained CA, widen its permitted subtrees.",
         "47 X509_V_ERR_PERMITTED_VIOLATION", "net::ERR_CERT_INVALID",
         "SEC_ERROR_CERT_NOT_IN_NAME_SPACE",
         "SSL certificate problem: permitted subtree violation"},
    Text{"chain.name_constraints#permitted",
         "The name {name} of {certificate} is outside the subtrees {constraining_ca} permits "
         "({subtree}); clients refuse the chain.",
         "", "", "", "", ""},
    Text{"chain.name_constraints#excluded",
         "The name {name} of {certificate} is inside the subtree {subtree} that "
         "{constraining_ca} excludes; clients refuse the chain.",
         "", "48 X509_V_ERR_EXCLUDED_VIOLATION", "", "",
         "SSL certificate problem: excluded subtree violation"},
    Text{"chain.name_constraints#wildcard",
         "The wildcard {name} of {certificate} also stands for {subtree}, which "
         "{constraining_ca} excludes: the certificate is valid for an excluded name. Chrome "
         "and RFC 9525 clients refuse it (OpenSSL 3.0 does not see it).",
         "Replace the wildcard with the names the site needs, or issue it from a CA whose "
         "constraints do not exclude a name it covers.",
         "", "", "", ""},
    Text{"chain.name_constraints#unsupported",
         "The names of {certificate} ({name}) cannot be checked against the name constraints of "
         "{constraining_ca}: {openssl_text}; clients refuse the chain.",
         "", "", "", "", ""},
    Text{"cert.bad_purpose",
         "The {position} certificate {certificate} may not be used by a TLS server (EKU {eku}, "
         "keyUsage {key_usage}); clients refuse it.",
         "Have the certificate reissued for TLS servers: extendedKeyUsage serverAuth and a keyUsage "
         "that fits the key (digitalSignature; keyEncipherment for RSA key exchange).",
         "26 X509_V_ERR_INVALID_PURPOSE", "net::ERR_CERT_INVALID",
         "SEC_ERROR_INADEQUATE_CERT_TYPE", "SSL certificate problem: unsupported certificate purpose"},
    Text{"cert.bad_purpose#eku",
         "The {position} certificate {certificate} has an extendedKeyUsage without serverAuth "
         "({eku}): it is not for TLS servers, and clients refuse it.",
         "Have the certificate reissued with extendedKeyUsage serverAuth (for a CA: add serverAuth "
         "or drop the EKU extension).",
         "", "", "", ""},
    Text{"cert.bad_purpose#key_usage",
         "The {position} certificate {certificate} has a keyUsage that does not fit a TLS server "
         "({key_usage}); clients refuse it.",
         "Have the certificate reissued with keyUsage digitalSignature (and keyEncipherment for an "
         "RSA key), or without a keyUsage extension.",
         "", "", "SEC_ERROR_INADEQUATE_KEY_USAGE", ""},
    Text{"cert.critical_extension",
         "The {position} certificate {certificate} has a critical extension clients do not "
         "understand ({oid}); a client must refuse a certificate with an unknown critical "
         "extension.",
         "Have the certificate reissued without that extension, or with it marked non-critical.",
         "34 X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION", "net::ERR_CERT_INVALID",
         "SEC_ERROR_UNKNOWN_CRITICAL_EXTENSION",
         "SSL certificate problem: unhandled critical extension"},
    Text{"cert.malformed",
         "The {position} certificate {certificate} is malformed: {problems}; clients refuse it.",
         "Have the certificate reissued by a CA whose software encodes it correctly (each "
         "extension once, a non-empty issuer, valid subjectAltName entries).",
         "41 X509_V_ERR_INVALID_EXTENSION", "net::ERR_CERT_INVALID", "SEC_ERROR_BAD_DER",
         "SSL certificate problem: invalid or inconsistent certificate extension"},
    Text{"chain.verify_failed",
         "OpenSSL refuses the {position} certificate {certificate}: {openssl_text} "
         "({openssl_error}, depth {depth}).",
         "Fix what OpenSSL names for that certificate (`openssl verify -show_chain -untrusted "
         "chain.pem leaf.pem` shows it); usually the CA has to reissue it.",
         "{openssl_code} {openssl_error}", "net::ERR_CERT_INVALID (most likely)",
         "SEC_ERROR_BAD_SIGNATURE or another NSS error", "SSL certificate problem: {openssl_text}"},
    Text{"chain.verify_failed#no_path",
         "OpenSSL finds no path from {certificate} to a trust anchor: {openssl_text} "
         "({openssl_error}, depth {depth}), although the certificates sent seem to lead to one "
         "(e.g. a trust anchor that is not a self-signed root, which OpenSSL-based clients do not "
         "accept without partial-chain mode).",
         "Serve the chain up to a self-signed root the clients trust, or trust that root "
         "(tlsprobe `--ca-file`).",
         "", "net::ERR_CERT_AUTHORITY_INVALID", "SEC_ERROR_UNKNOWN_ISSUER", ""},
    Text{"cert.profile",
         "The {position} certificate {certificate} breaks a CA/Browser Forum Baseline "
         "Requirements profile rule ({rule}): {detail}. Browsers accept it, but a publicly "
         "trusted CA must not issue it, and strict clients or linters may refuse it.",
         "Have the certificate reissued following the Baseline Requirements (the CA's current "
         "profile); for a private CA, fix the issuing template ({rule}).",
         "none (OpenSSL accepts it)", "none (Chrome accepts it)", "none (Firefox accepts it)",
         "none (curl accepts it)"},
    // --- layout ---
    Text{"chain.wrong_order",
         "The server sent its certificates out of order ({sent_order}); the leaf must come first "
         "and each certificate must be followed by the one that issued it ({path_order}).",
         "Rebuild the chain file in order: leaf, then its issuer, then the next one up (`cat "
         "cert.pem intermediate.pem > fullchain.pem`) and reload. Most clients reorder, but some "
         "embedded and older TLS stacks refuse an unordered chain.",
         "none (OpenSSL builds the path from the untrusted set)", "none", "none", "none"},
    Text{"chain.contains_root",
         "The server sends the trust anchor {certificate} itself; clients must already have it, "
         "so it only adds bytes to every handshake.",
         "Remove the root from the chain file: serve the leaf and intermediates only.", "none",
         "none", "none", "none"},
    Text{"chain.extra_certs",
         "The server sends {count} certificate(s) that are not on the path clients verify (old "
         "cross-signs or unrelated certificates): {extras}. Their dates do not affect clients "
         "that build the verified path.",
         "Remove them from the chain file unless an old client still needs a cross-signed path.",
         "none", "none", "none", "none"},
    // --- names ---
    Text{"name.mismatch",
         "The certificate {certificate} does not cover {requested_name}; it names: {names}.",
         "Issue a certificate whose subjectAltName includes {requested_name} (certbot: add `-d "
         "{requested_name}`), or check that DNS for {requested_name} points to the right server. "
         "Browsers ignore the CN: the name must be a SAN.",
         "62 X509_V_ERR_HOSTNAME_MISMATCH", "net::ERR_CERT_COMMON_NAME_INVALID",
         "SSL_ERROR_BAD_CERT_DOMAIN",
         "SSL: no alternative certificate subject name matches target host name "
         "'{requested_name}'"},
    Text{"name.mismatch#www_vs_apex",
         "The certificate {certificate} covers {closest_name} but not {requested_name}: www and "
         "the bare domain are different names to a client.",
         "Reissue the certificate with both names (certbot `-d example.com -d www.example.com`), "
         "or serve only the covered name and redirect to it from a vhost that has a certificate "
         "for the other.",
         "", "", "", ""},
    Text{"name.mismatch#ip_address",
         "The server was reached by the IP address {requested_name}, and the certificate "
         "{certificate} has no IP address SAN for it (it names: {names}).",
         "Connect by host name, or issue a certificate with an iPAddress SAN for "
         "{requested_name} (public CAs rarely issue those; an internal CA can).",
         "64 X509_V_ERR_IP_ADDRESS_MISMATCH", "", "", ""},
    Text{"name.mismatch#wildcard_depth",
         "The wildcard {closest_name} covers exactly one label, so it does not cover "
         "{requested_name}.",
         "Add {requested_name} itself (or a wildcard for its parent domain) as a SAN and reissue "
         "the certificate.",
         "", "", "", ""},
    Text{"sni.default_cert",
         "The server answered {requested_name} with its default certificate {certificate}, the "
         "same one it sends to clients without SNI; it does not cover the name, so the virtual "
         "host for {requested_name} has no TLS configuration of its own. {hint_text}",
         "Two fixes, pick the one that matches your setup. (1) If this certificate is meant for "
         "{requested_name} too, add the name to it (certbot: `-d {requested_name}`) and reload. "
         "(2) Otherwise give {requested_name} its own virtual host with its own certificate: "
         "nginx: a `server` block with `listen 443 ssl;`, `server_name {requested_name};` and "
         "its own `ssl_certificate`/`ssl_certificate_key`; Apache: a `<VirtualHost *:443>` with "
         "`ServerName {requested_name}`, `SSLEngine on` and its certificate. Check the spelling "
         "of server_name/ServerName and that DNS points here.",
         "62 X509_V_ERR_HOSTNAME_MISMATCH", "net::ERR_CERT_COMMON_NAME_INVALID",
         "SSL_ERROR_BAD_CERT_DOMAIN",
         "SSL: no alternative certificate subject name matches target host name "
         "'{requested_name}'"},
    Text{"sni.default_cert#othersni",
         "The server answered {requested_name} with its default certificate {certificate}, the "
         "same one it sends for an unknown name ({default_via_sni}); it does not cover the name, "
         "so the virtual host for {requested_name} has no TLS configuration of its own. "
         "{hint_text}",
         "", "", "", "", ""},
    Text{"sni.required",
         "The server refuses clients that send no SNI (the handshake without SNI failed: "
         "{failure} {alert}). Current clients always send SNI; very old ones (Android 2.x, Java "
         "6, IE on Windows XP) and scripts or monitors that connect by IP address fail.",
         "Nothing to change for current clients. To serve clients without SNI, make one server "
         "block the default (nginx `listen 443 ssl default_server;`, Apache: the first "
         "`<VirtualHost *:443>`) with a certificate for the main name.",
         "none with SNI (s_client sends it); without SNI the handshake fails",
         "none (browsers always send SNI)", "none (browsers always send SNI)",
         "none (curl sends SNI for host names)"},
    // --- crypto ---
    Text{"key.weak",
         "The {position} certificate {certificate} has a {key_type} key of {key_bits} bits; "
         "clients require at least 2048 bits for RSA and 256 for EC (DSA is refused).",
         "Generate a new key (RSA 2048+ or ECDSA P-256: `openssl req -new -newkey ec -pkeyopt "
         "ec_paramgen_curve:P-256 ...`) and have the certificate reissued for it.",
         "66 X509_V_ERR_EE_KEY_TOO_SMALL", "net::ERR_CERT_WEAK_KEY",
         "MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE",
         "SSL certificate problem: EE certificate key too weak"},
    Text{"key.weak#ca", "",
         "The CA's certificate has a weak key: get the CA's current intermediate (or another CA).",
         "67 X509_V_ERR_CA_KEY_TOO_SMALL", "", "",
         "SSL certificate problem: CA certificate key too weak"},
    Text{"sig.weak",
         "The {position} certificate {certificate} is signed with {signature_algorithm} "
         "({weak_hash}), which browsers and OpenSSL at its default security level refuse.",
         "Have the certificate reissued with a SHA-256 signature; for an intermediate, use the "
         "CA's current SHA-256 intermediate in the chain file.",
         "68 X509_V_ERR_CA_MD_TOO_WEAK", "net::ERR_CERT_INVALID",
         "SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED",
         "SSL certificate problem: CA signature digest algorithm too weak"},
    // --- protocol ---
    Text{"tls.protocol_old",
         "The best protocol {subject} speaks is TLS {tls_version}; browsers removed TLS 1.0 and "
         "1.1 in 2020 and OpenSSL 3 refuses them at its default security level.",
         "Enable TLS 1.2 and 1.3 (nginx `ssl_protocols TLSv1.2 TLSv1.3;`, Apache `SSLProtocol "
         "-all +TLSv1.2 +TLSv1.3`), upgrading the TLS library or appliance if it cannot.",
         "SSL routines::unsupported protocol (no X509 verify code)",
         "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", "SSL_ERROR_UNSUPPORTED_VERSION",
         "(35) error:0A000102:SSL routines::unsupported protocol"},
    Text{"tls.handshake_failed",
         "The TLS handshake with {subject} ({address}) failed ({failure}): {detail}",
         "Check the server's TLS configuration and its error log for this name.",
         "none (no certificate was verified: the handshake failed)", "net::ERR_SSL_PROTOCOL_ERROR",
         "SSL_ERROR_HANDSHAKE_FAILURE_ALERT", "(35) TLS connect error: {detail}"},
    Text{"tls.handshake_failed#client_cert_required",
         "The TLS handshake with {subject} failed: the server requires a client certificate.",
         "Present the client certificate the server expects (curl `--cert`/`--key`), or make "
         "client authentication optional for this name (nginx `ssl_verify_client optional;`, "
         "Apache `SSLVerifyClient optional`).",
         "", "net::ERR_BAD_SSL_CLIENT_AUTH_CERT", "SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT",
         "(56) OpenSSL SSL_read: tlsv13 alert certificate required"},
    Text{"tls.handshake_failed#not_tls",
         "The TLS handshake with {subject} failed: the server does not speak TLS on this port "
         "(it answered with something else, often plain HTTP).",
         "Use the HTTPS port (usually 443), or enable TLS on this one (nginx `listen 443 ssl;`).",
         "", "net::ERR_SSL_PROTOCOL_ERROR", "SSL_ERROR_RX_RECORD_TOO_LONG",
         "(35) error:0A00010B:SSL routines::wrong version number"},
    Text{"tls.handshake_failed#no_common_version",
         "The TLS handshake with {subject} failed: no protocol version in common.",
         "Enable TLS 1.2 and 1.3 on the server (nginx `ssl_protocols TLSv1.2 TLSv1.3;`).", "",
         "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", "SSL_ERROR_UNSUPPORTED_VERSION",
         "(35) error:0A00042E:SSL routines::tlsv1 alert protocol version"},
    Text{"tls.handshake_failed#closed",
         "The TLS handshake with {subject} failed: the server closed the connection during the "
         "handshake.",
         "Check the server's error log: common causes are no certificate configured for this "
         "name, a firewall or load balancer cutting TLS, or a server that rejects this SNI.",
         "", "net::ERR_CONNECTION_CLOSED", "PR_END_OF_FILE_ERROR",
         "(35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL"},
    Text{"tls.handshake_failed#alert",
         "The TLS handshake with {subject} failed: the server sent the TLS alert \"{alert}\".",
         "Check the server's TLS error log; common causes: no cipher in common "
         "(handshake_failure), the name is unknown to the server (unrecognized_name), a client "
         "certificate is required.",
         "", "", "", "(35) error:0A000410:SSL routines::sslv3 alert {alert}"},
    Text{"tls.handshake_failed#timeout",
         "The TLS handshake with {subject} did not finish within {elapsed_ms} ms.",
         "Check that the server (or a middlebox) answers TLS on this port; an overloaded server "
         "or a filtering firewall can stall the handshake.",
         "", "net::ERR_TIMED_OUT", "NS_ERROR_NET_TIMEOUT", "(28) SSL connection timeout"},
    // --- client compatibility (issue 15 item 1; check_compat.cpp) ---
    Text{"tls.handshake_failed#in_words",
         "The TLS handshake with {subject} failed: {reason}",
         "{reason_remedy}",
         "", "", "", ""},
    Text{"tls.cipher_mismatch",
         "{browsers} cannot connect to {subject}: {why}. The server accepts {server_offers}, "
         "and the connection fails before any certificate is shown "
         "(ERR_SSL_VERSION_OR_CIPHER_MISMATCH in Chrome, SSL_ERROR_NO_CYPHER_OVERLAP in "
         "Firefox).",
         "Offer ECDHE key exchange with AES-GCM or ChaCha20 and TLS 1.2 and 1.3 (Mozilla's "
         "\"intermediate\" profile): nginx `ssl_protocols TLSv1.2 TLSv1.3;` and `ssl_ciphers "
         "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-"
         "SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-"
         "POLY1305;` with `ssl_ecdh_curve X25519:prime256v1:secp384r1;`; Apache `SSLProtocol "
         "-all +TLSv1.2 +TLSv1.3` and `SSLCipherSuite` with the same list. Keep DHE or RSA "
         "suites after them only if old clients need them.",
         "none (OpenSSL's default offer still overlaps)",
         "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", "SSL_ERROR_NO_CYPHER_OVERLAP",
         "none at OpenSSL's defaults (curl offers DHE and RSA suites)"},
    Text{"tls.weak_key_exchange",
         "{subject} uses a {dh_bits}-bit Diffie-Hellman group ({dh_group}) for DHE suites "
         "(seen {seen}): groups under 2048 bits are within reach of precomputation attacks "
         "(Logjam), and OpenSSL clients at security level 2 (curl, Python) refuse them with "
         "\"dh key too small\".",
         "Use at least a 2048-bit standard group: nginx `ssl_dhparam` with the RFC 7919 "
         "ffdhe2048 parameters (`openssl genpkey -genparam -algorithm DH -pkeyopt "
         "group:ffdhe2048 -out dhparam.pem`), Apache `SSLOpenSSLConfCmd DHParameters "
         "dhparam.pem`; better, drop DHE suites and use ECDHE (nginx `ssl_ecdh_curve "
         "X25519:prime256v1;`).",
         "error:0A00018A:SSL routines::dh key too small (security level 2)",
         "none (Chrome offers no DHE suite since Chrome 53)",
         "none (Firefox offers no DHE suite since Firefox 78)",
         "(35) error:0A00018A:SSL routines::dh key too small"},
    Text{"tls.weak_key_exchange#custom",
         "{subject} uses a {dh_bits}-bit Diffie-Hellman group that is none of the standard "
         "ones (RFC 7919 ffdhe, RFC 3526 MODP) for DHE suites (seen {seen}): clients cannot "
         "tell a well-generated custom group from a backdoored or small-subgroup one, and "
         "RFC 7919 asks servers to use the named groups.",
         "Replace the custom parameters with the RFC 7919 ffdhe2048 group: nginx "
         "`ssl_dhparam` with the output of `openssl genpkey -genparam -algorithm DH -pkeyopt "
         "group:ffdhe2048`, Apache `SSLOpenSSLConfCmd DHParameters`; or drop DHE and use ECDHE.",
         "none", "none (Chrome offers no DHE suite)", "none (Firefox offers no DHE suite)",
         "none"},
    Text{"tls.no_forward_secrecy",
         "{subject} {how} without forward secrecy ({suites}): with RSA key exchange, anyone "
         "who later obtains the server's private key can decrypt recorded traffic.",
         "Put ECDHE suites first and drop the TLS_RSA_* suites (those without ECDHE/DHE in "
         "their OpenSSL name): nginx `ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-"
         "AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-"
         "ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;` with `ssl_ecdh_curve "
         "X25519:prime256v1;`, Apache `SSLCipherSuite` with the same list.",
         "none", "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH once only RSA key exchange is left "
         "(Chrome 131+ offers none)",
         "none (Firefox still offers TLS_RSA_* suites)", "none"},
    Text{"tls.obsolete_cipher",
         "{subject} {how} only CBC-mode suites ({suites}), no AEAD suite (AES-GCM, "
         "ChaCha20-Poly1305): Chrome marks such a connection as using \"obsolete connection "
         "settings\", and CBC in TLS has a history of padding-oracle attacks (Lucky13).",
         "Offer AEAD suites first: nginx `ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-"
         "AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-"
         "ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;` and `ssl_protocols TLSv1.2 "
         "TLSv1.3;` (TLS 1.3 has only AEAD suites); Apache `SSLCipherSuite` and `SSLProtocol "
         "-all +TLSv1.2 +TLSv1.3`.",
         "none", "none (the page info shows \"obsolete connection settings\")", "none", "none"},
    Text{"tls.old_protocol_enabled",
         "{subject} still accepts TLS {old_versions} beside TLS {best_version}: browsers "
         "removed TLS 1.0/1.1 in 2020 (RFC 8996 deprecates them), PCI DSS forbids them, and "
         "only clients that are themselves outdated can use them.",
         "Turn them off: nginx `ssl_protocols TLSv1.2 TLSv1.3;`, Apache `SSLProtocol -all "
         "+TLSv1.2 +TLSv1.3`.",
         "none (OpenSSL 3 at security level 1 or more does not speak TLS 1.0/1.1)",
         "none (Chrome speaks TLS 1.2+ only)", "none (Firefox speaks TLS 1.2+ only)", "none"},
    // --- trust environment and client certificates (issue 15 items 2-3) ---
    Text{"cert.known_bad_root",
         "The {position} certificate {certificate} has the key of {known_as}, which is "
         "known bad ({reason}; source: {source}).",
         "Remove the root \"{root_name}\" from every trust store of this machine and uninstall "
         "the software that installed it. Debian/Ubuntu: delete its file from "
         "/usr/local/share/ca-certificates/ (or mark it with `!` in /etc/ca-certificates.conf), "
         "then `update-ca-certificates --fresh`; RHEL/Fedora: remove it from "
         "/etc/pki/ca-trust/source/anchors/ and run `update-ca-trust`; NSS (Firefox, Chrome on "
         "Linux): `certutil -d sql:$HOME/.pki/nssdb -L` to find its nickname, then `certutil -d "
         "sql:$HOME/.pki/nssdb -D -n NICKNAME` (and in each Firefox profile); Windows: certmgr.msc "
         "> Trusted Root Certification Authorities > Certificates, delete \"{root_name}\" (also "
         "from certlm.msc for the machine store); macOS: Keychain Access > System > "
         "Certificates, delete it (or `sudo security delete-certificate -c \"{root_name}\" "
         "/Library/Keychains/System.keychain`).",
         "none: OpenSSL accepts it while the root is in its store (X509_V_OK)",
         "net::ERR_CERT_REVOKED (Chromium blocks this key whatever the trust store says)",
         "none unless OneCRL lists it: Firefox trusts what its store holds",
         "none: curl accepts it while the root is in its CA bundle"},
    Text{"cert.known_bad_root#key_published",
         "The {position} certificate {certificate} has the key of {known_as}, whose private key "
         "is public: anyone can mint a certificate for any site that this machine accepts, so "
         "anyone on the network path can impersonate every HTTPS site to it (trusted here: "
         "{in_trust_store}). Source: {source}.",
         "", "", "", "", ""},
    Text{"cert.known_bad_root#distrusted",
         "The {position} certificate {certificate} has the key of {known_as}, which browsers "
         "distrust after a compromise or misuse: certificates it signs may impersonate any site "
         "(trusted here: {in_trust_store}). Source: {source}.",
         "", "", "", "", ""},
    Text{"tls.intercepted",
         "The certificate {subject} was issued by {product} ({product_kind}), not by the "
         "site's CA: the CA \"{interception_ca}\" decrypts and re-signs this connection on the "
         "way. The classic symptom: browsers that trust the company root work, while other "
         "applications (curl, Python, Java, Node, git, package managers) fail with \"unable to "
         "get local issuer certificate\".",
         "Add the company root to the trust store of each application that fails: curl "
         "`--cacert company-root.pem` (or CURL_CA_BUNDLE), Python `REQUESTS_CA_BUNDLE` / "
         "`SSL_CERT_FILE`, Node `NODE_EXTRA_CA_CERTS`, Java `keytool -importcert -cacerts -file "
         "company-root.pem`, git `git config --global http.sslCAInfo company-root.pem`, "
         "tlsprobe `--ca-file company-root.pem`; on Debian copy it to "
         "/usr/local/share/ca-certificates/ and run `update-ca-certificates`. Or ask the "
         "proxy's administrators to exempt {host} from TLS inspection (an SSL bypass / "
         "do-not-decrypt rule).",
         "20 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (in a store without the company root)",
         "none when the company root is in the OS store; net::ERR_CERT_AUTHORITY_INVALID "
         "otherwise",
         "SEC_ERROR_UNKNOWN_ISSUER unless the root is imported or security.enterprise_roots "
         "is on",
         "(60) SSL certificate problem: unable to get local issuer certificate"},
    Text{"tls.intercepted#trusted",
         "The certificate {subject} was issued by {product} ({product_kind}), not by the "
         "site's CA: the CA \"{interception_ca}\" decrypts and re-signs this connection on the "
         "way, and its root is in this trust store. Browsers that trust the company root work, "
         "while applications with a store of their own (curl's bundle, Python certifi, Java "
         "cacerts, Node, git for Windows) fail with \"unable to get local issuer "
         "certificate\".",
         "", "", "", "", ""},
    Text{"tls.intercepted#path_differs",
         "The connection that carries the client's requests to {host} ({address}) got a "
         "certificate issued by {client_path_issuer}, while tlsprobe's own probe of the same "
         "address got one issued by {side_probe_issuer}: something between tlsprobe and the "
         "server re-signs one of the two paths ({product}; intercepted path: "
         "{intercepted_path}), e.g. a transparent proxy that picks connections by client, SNI "
         "or TLS fingerprint.",
         "Find the middlebox on the way out of this machine (corporate proxy, firewall TLS "
         "inspection, antivirus): exempt {host} from inspection there, or, where the "
         "interception is intended, add its root to the trust store of the applications that "
         "fail.",
         "", "", "", ""},
    Text{"tls.client_cert_requested",
         "{subject} asks for a client certificate; the TLS handshake completed without one, "
         "though the server may still refuse requests that lack one (nginx with "
         "`ssl_verify_client on` answers 400 \"No required SSL certificate was sent\"). It "
         "accepts certificates issued by: {accepted_cas}.",
         "Nothing to fix if client authentication is meant to be optional. To authenticate, "
         "pass a certificate from one of those CAs with its key: tlsprobe `--cert client.pem "
         "--key client.key`, curl `--cert client.pem --key client.key`. Browsers show a "
         "certificate picker when one matching certificate or more is installed.",
         "none (s_client prints the list as \"Acceptable client certificate CA names\")",
         "none (a certificate picker when a matching certificate is installed)",
         "none (a certificate picker when a matching certificate is installed)", "none"},
    // --- reachability ---
    Text{"probe.unreachable",
         "{subject} could not be reached ({failure}: {detail}) after {elapsed_ms} ms.",
         "Check the address, routing and firewalls between tlsprobe and {address}.",
         "none (no TLS connection)", "net::ERR_ADDRESS_UNREACHABLE", "NS_ERROR_NET_INTERRUPT",
         "(7) Failed to connect"},
    Text{"probe.unreachable#dns",
         "The name {host} did not resolve (after {elapsed_ms} ms).",
         "Check the DNS records (A/AAAA) for {host}, or give the address with `--connect ADDR:PORT`.",
         "", "net::ERR_NAME_NOT_RESOLVED", "NS_ERROR_UNKNOWN_HOST",
         "(6) Could not resolve host: {host}"},
    Text{"probe.unreachable#refused",
         "{address} refused the connection (after {elapsed_ms} ms): nothing listens on port "
         "{port}.",
         "Start the server or open port {port} (check `ss -ltn` on the server and the firewall).",
         "", "net::ERR_CONNECTION_REFUSED", "NS_ERROR_CONNECTION_REFUSED",
         "(7) Failed to connect to {host} port {port}: Connection refused"},
    Text{"probe.unreachable#timeout",
         "No answer from {subject} ({address}) within {elapsed_ms} ms: the host is down or a "
         "firewall drops the packets.",
         "Check that the host is up and that firewalls allow port {port}; raise `--timeout` for a "
         "slow path.",
         "", "net::ERR_CONNECTION_TIMED_OUT", "NS_ERROR_NET_TIMEOUT",
         "(28) Failed to connect to {host} port {port}: Connection timed out"},
    // --- edge / origin ---
    Text{"edge.stale",
         "The edge {edge_address} serves the older certificate {edge_certificate} (issued "
         "{edge_not_before}, expires {edge_not_after}, {edge_days_left} days left) while the "
         "origin serves a newer one (issued {origin_not_before}): the origin was renewed and the "
         "CDN still serves the old copy.",
         "Upload the renewed certificate to the CDN (or trigger its certificate sync), and add "
         "that step to the renewal hook so the next renewal reaches the edges too.",
         "none while the edge's copy is valid; 10 X509_V_ERR_CERT_HAS_EXPIRED once it expires",
         "none while valid; net::ERR_CERT_DATE_INVALID once expired",
         "none while valid; SEC_ERROR_EXPIRED_CERTIFICATE once expired",
         "none while valid; \"certificate has expired\" once expired"},
    Text{"edge.mismatch",
         "The edge {edge_address} serves {edge_certificate}, which differs from the origin's "
         "certificate {origin_certificate} in: {differs}.",
         "Deploy the origin's certificate to this edge (or set edge_cert = \"own\" if the CDN is "
         "meant to serve its own certificate); check that this edge address belongs to the "
         "right CDN configuration.",
         "none unless the edge's certificate fails on its own", "none", "none", "none"},
    Text{"edge.mismatch#own",
         "The edge {edge_address} serves its own certificate {edge_certificate}, which does not "
         "cover {requested_name}.",
         "Add {requested_name} to the CDN's certificate for this site (or upload one that covers "
         "it), and check that the edge address belongs to the right CDN configuration.",
         "62 X509_V_ERR_HOSTNAME_MISMATCH", "net::ERR_CERT_COMMON_NAME_INVALID",
         "SSL_ERROR_BAD_CERT_DOMAIN",
         "SSL: no alternative certificate subject name matches target host name "
         "'{requested_name}'"},
    Text{"origin.untrusted",
         "The origin's own chain fails verification for {requested_name} ({reason}; OpenSSL: "
         "{openssl_code} {openssl_error}): a CDN that checks its origin strictly refuses it.",
         "Fix the origin's certificate (see the findings with role origin): a full chain from a "
         "CA the CDN trusts, covering the name the CDN asks for, valid dates; do not rely on the "
         "CDN's lax origin mode.",
         "{openssl_code} {openssl_error}", "none (browsers do not connect to the origin)",
         "none (browsers do not connect to the origin)",
         "SSL certificate problem: {openssl_text} (curl against the origin)"},
    // --- client ---
    Text{"client.no_sni",
         "The client connected to {connect_host} without sending SNI: a server with several "
         "names answers it with its default certificate (and tlsprobe probes the upstream "
         "without SNI too, as the client did).",
         "Update the client or its TLS library (every current one sends SNI); Java: "
         "`-Djsse.enableSNIExtension=true`; Python: pass `server_hostname`; connect by host name, "
         "not by IP address.",
         "none", "none (browsers always send SNI)", "none (browsers always send SNI)",
         "none (curl sends SNI for host names)"},
    Text{"client.sni_host_mismatch",
         "The client sent SNI {sni} but HTTP Host {http_host}: servers route TLS by one and HTTP "
         "by the other, so the response may come from another site (or this is domain "
         "fronting).",
         "Make the client use one name for TLS and HTTP: check proxies and load balancers that "
         "rewrite Host, and use `curl --resolve` or `--connect-to` instead of overriding the "
         "Host header.",
         "none", "none", "none", "none"},
    Text{"client.sni_host_mismatch#connect",
         "The client opened a tunnel with CONNECT {connect_host} but sent SNI {sni}: the proxy "
         "connects to one name while the TLS session asks for another (domain fronting, or a "
         "client overriding the name). Under interception tlsprobe verifies the upstream for the "
         "SNI and mints only that name.",
         "Make the client CONNECT to the name it asks for in TLS; use `curl --resolve` to pick "
         "an address instead of changing the CONNECT target.",
         "none", "none", "none", "none"},
    // --- revocation and transparency (issue 16, check_revocation.cpp, check_ct.cpp) ---
    Text{"cert.revoked",
         "The {position} certificate {certificate} is revoked: {source} says it was revoked on "
         "{revocation_time} (reason: {reason}). Browsers refuse it (Chrome through CRLSets, "
         "Firefox through OCSP and CRLite, Safari through its own checks).",
         "Get a new certificate (a new key if the reason is keyCompromise) and install it with "
         "its chain; then reload the server so it stops serving the revoked one (and its "
         "stapled response).",
         "23 X509_V_ERR_CERT_REVOKED", "net::ERR_CERT_REVOKED", "SEC_ERROR_REVOKED_CERTIFICATE",
         "SSL certificate problem: certificate revoked (with --crlfile); (91) SSL certificate "
         "revocation reason: {reason} (with --cert-status)"},
    Text{"revocation.unknown",
         "The revocation status of {certificate} could not be established: {source} "
         "({url}): {what}. Browsers soft-fail (they carry on), but a client that requires "
         "revocation checking refuses.",
         "Check that the responder or CRL URL in the certificate answers over plain HTTP "
         "from where clients are ({url}); if it is your CA's, tell the CA. Stapling the OCSP "
         "response (nginx `ssl_stapling on;`) spares clients this lookup.",
         "none by default (s_client/curl do not check revocation unless asked)",
         "none (Chrome does not fetch OCSP or CRLs online; it soft-fails)",
         "none by default (security.OCSP.require = false); SEC_ERROR_OCSP_SERVER_ERROR or "
         "SEC_ERROR_OCSP_UNKNOWN_CERT when hard-fail is on",
         "none by default; (91) with --cert-status"},
    Text{"revocation.unknown#crl_invalid",
         "The CRL {source} for {certificate} from {issuer} cannot be used: {what}. A client "
         "that checks this CRL (curl --crlfile, OpenSSL with CRL checking) refuses the chain, "
         "since the revocation status is undetermined.",
         "Have the CA reissue the CRL correctly (signed by the issuer's key, issuer with "
         "keyUsage cRLSign, a non-critical cRLNumber, a current thisUpdate/nextUpdate), or "
         "give tlsprobe the current CRL.",
         "{openssl_crl_error}", "none (Chrome does not read CRLs)",
         "none (Firefox uses OCSP and CRLite, not CRL files)",
         "SSL certificate problem: {openssl_crl_text} (with --crlfile)"},
    Text{"ocsp.staple_invalid",
         "The server stapled an OCSP response for {certificate} that cannot be used: {detail} "
         "(responder {responder}, thisUpdate {this_update}, nextUpdate {next_update}).",
         "Make the server fetch a fresh response from the CA's responder and verify it before "
         "stapling: nginx `ssl_stapling on; ssl_stapling_verify on;` with "
         "`ssl_trusted_certificate` set to the issuer chain (drop a stale `ssl_stapling_file`); "
         "Apache `SSLUseStapling on` with `SSLStaplingReturnResponderErrors off`.",
         "s_client -status: OCSP_basic_verify or OCSP_check_validity fails",
         "none (Chrome does not enforce stapled responses)",
         "SEC_ERROR_OCSP_BAD_SIGNATURE, SEC_ERROR_OCSP_INVALID_SIGNING_CERT or "
         "SEC_ERROR_OCSP_OLD_RESPONSE (by cause)",
         "(91) SSL certificate status verification FAILED (with --cert-status)"},
    Text{"ocsp.staple_invalid#expiring_soon",
         "The OCSP response the server staples for {certificate} runs out in {hours_left} "
         "hours (nextUpdate {next_update}, thisUpdate {this_update}): the server is not "
         "refreshing it, and once it expires clients that check staples refuse it.",
         "Check the server's stapling: nginx fetches through `resolver` and needs the "
         "responder reachable (a static `ssl_stapling_file` is never refreshed: regenerate it "
         "from cron); Apache: `SSLStaplingCache` and `SSLStaplingStandardCacheTimeout`.",
         "none yet", "none", "none yet (SEC_ERROR_OCSP_OLD_RESPONSE after {next_update})",
         "none yet"},
    Text{"ocsp.staple_invalid#expired", "", "", "", "", "SEC_ERROR_OCSP_OLD_RESPONSE", ""},
    Text{"ocsp.staple_invalid#bad_signature", "", "", "", "", "SEC_ERROR_OCSP_BAD_SIGNATURE",
         ""},
    Text{"ocsp.staple_invalid#unauthorized_responder", "", "", "", "",
         "SEC_ERROR_OCSP_INVALID_SIGNING_CERT", ""},
    Text{"ocsp.must_staple_missing",
         "The certificate {certificate} demands OCSP stapling (TLS Feature extension "
         "status_request, \"must-staple\") but the server stapled no OCSP response: Firefox "
         "refuses the connection.",
         "Turn stapling on and make sure it works before clients connect: nginx `ssl_stapling "
         "on; ssl_stapling_verify on;` (with a `resolver` and `ssl_trusted_certificate`), "
         "Apache `SSLUseStapling on` with an `SSLStaplingCache`; or get a certificate without "
         "must-staple.",
         "none (OpenSSL does not enforce must-staple by itself)",
         "none (Chrome ignores must-staple)", "MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING",
         "none by default; (91) No OCSP response received (with --cert-status)"},
    Text{"ocsp.not_stapled",
         "The server staples no OCSP response for {certificate} (its responder: {ocsp_url}): "
         "each client must ask the CA itself, which is slower and leaks the visit to the CA.",
         "Turn OCSP stapling on: nginx `ssl_stapling on; ssl_stapling_verify on;` (with a "
         "`resolver` and `ssl_trusted_certificate` naming the issuer chain), Apache "
         "`SSLUseStapling on` with `SSLStaplingCache shmcb:/var/run/ocsp(128000)`.",
         "none", "none", "none", "none by default; (91) No OCSP response received (with "
         "--cert-status)"},
    Text{"ct.insufficient_scts",
         "The certificate {certificate} has {valid_scts} valid SCT(s) from {operators} distinct "
         "log operator(s) ({sources}); Chrome's CT policy for a {lifetime_days}-day certificate "
         "wants {required} from at least 2 operators, so Chrome and Safari refuse it.",
         "Have the CA reissue the certificate with embedded SCTs (public CAs do this by "
         "default), or serve SCTs in the TLS extension or the OCSP staple; check that the "
         "logs are current in the log list (`--ct-log-list`).",
         "none (OpenSSL enforces CT only when the application asks)",
         "net::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
         "MOZILLA_PKIX_ERROR_INSUFFICIENT_CERTIFICATE_TRANSPARENCY (Firefox 135+ on desktop)",
         "none (curl does not check CT)"},
    Text{"ct.sct_invalid",
         "The SCT from {log} ({source}) for {certificate} does not count: {detail}.",
         "If the log is unknown, update the log list (`--ct-log-list`); if the signature "
         "fails, the SCT does not belong to this certificate: have the CA reissue it.",
         "none", "none while enough other SCTs are valid", "none while enough other SCTs are valid",
         "none"},
};
// clang-format on

const Text* find_text(std::string_view key) {
  for (const auto& t : kTexts)
    if (t.key == key) return &t;
  return nullptr;
}

// Replaces {name} with the finding's evidence[name] ({subject}: the finding's subject).
// An unknown placeholder becomes empty rather than leaking braces into the output.
std::string fill(std::string_view tmpl, const Finding& f) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const auto open = tmpl.find('{', i);
    if (open == std::string_view::npos) break;
    const auto close = tmpl.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(i, open - i));
    const std::string key(tmpl.substr(open + 1, close - open - 1));
    if (key == "subject") {
      out += f.subject;
    } else if (auto it = f.evidence.find(key); it != f.evidence.end()) {
      // A hostile certificate can carry a DN of tens of kilobytes: the sentence stays
      // readable, the evidence keeps the whole value.
      constexpr std::size_t max_value = 2000;
      if (it->second.size() <= max_value) {
        out += it->second;
      } else {
        std::size_t cut = max_value;  // never inside a UTF-8 sequence
        while (cut > 0 && (static_cast<unsigned char>(it->second[cut]) & 0xC0) == 0x80) --cut;
        out.append(it->second, 0, cut);
        out += "... (" + std::to_string(it->second.size() - cut) + " more bytes)";
      }
    }
    i = close + 1;
  }
  out.append(tmpl.substr(i));
  return out;
}

std::string_view pick(std::string_view variant_text, std::string_view base_text) {
  return variant_text.empty() ? base_text : variant_text;
}

}  // namespace

void explain(Finding& f, std::string_view variant) {
  const Text* base = find_text(f.code);
  const Text* var = nullptr;
  if (!variant.empty()) var = find_text(f.code + "#" + std::string(variant));
  if (!base) return;  // every emitted code has a row (tested)
  const Text empty{};
  const Text& v = var ? *var : empty;

  if (f.message.empty()) f.message = fill(pick(v.message, base->message), f);
  if (f.remedy.empty()) f.remedy = fill(pick(v.remedy, base->remedy), f);
  const std::pair<const char*, std::string_view> eq[] = {
      {"openssl", pick(v.openssl, base->openssl)},
      {"chrome", pick(v.chrome, base->chrome)},
      {"firefox", pick(v.firefox, base->firefox)},
      {"curl", pick(v.curl, base->curl)},
  };
  for (const auto& [name, text] : eq)
    if (!f.equivalents.count(name) && !text.empty()) f.equivalents[name] = fill(text, f);
}

}  // namespace tlsprobe::inspect::detail
