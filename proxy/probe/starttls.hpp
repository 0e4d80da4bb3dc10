// STARTTLS (`probe --starttls PROTO`): the plaintext dialogue that mail, file-transfer, chat
// and database servers want before TLS starts on the same socket, as openssl s_client
// -starttls does it. The dialogue is a pure state machine (StartTlsDialogue: bytes in,
// bytes out, unit-testable without sockets); async_starttls drives it on a connected
// socket under a deadline. Every error names the protocol and the step that failed.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tlsprobe::proxy {

enum class StartTls { none, smtp, imap, pop3, ftp, xmpp, postgres };

std::optional<StartTls> parse_starttls(std::string_view name);  // "smtp" ...; nullopt if unknown
std::string_view to_string(StartTls proto);
// The plaintext port of each protocol (smtp 25, imap 143, pop3 110, ftp 21, xmpp 5222,
// postgres 5432): the default port of a target probed with --starttls.
std::uint16_t default_port(StartTls proto);

class StartTlsDialogue {
 public:
  struct Step {
    std::string send;   // bytes to write now (may be empty)
    bool done = false;  // the server agreed: start TLS on the same socket
    std::string error;  // not empty: the dialogue failed (one line, protocol and step named)
  };

  // `host` is the name asked for (XMPP's stream header names it).
  StartTlsDialogue(StartTls proto, std::string host);

  // What to send before reading anything (XMPP's stream header, Postgres' SSLRequest);
  // empty for protocols where the server speaks first.
  Step start();
  // Feeds bytes read from the server.
  Step feed(std::string_view data);
  // The step waiting for the server ("greeting", "EHLO", "STARTTLS"...), for timeouts and
  // closed connections.
  const std::string& waiting_for() const { return waiting_for_; }
  StartTls protocol() const { return proto_; }

 private:
  Step on_line(const std::string& line);
  Step on_xmpp();
  Step fail(const std::string& what) const;

  StartTls proto_;
  std::string host_;
  std::string buffer_;
  std::string waiting_for_ = "greeting";
  int stage_ = 0;
  bool offers_starttls_ = false;
};

// Runs the dialogue on `socket` (connected). `done("")` when TLS may start, `done(error)`
// otherwise; at `deadline` the socket is cancelled and the error names the step that was
// waiting. `done` runs once, on the socket's executor; `socket` must outlive the operation.
void async_starttls(boost::asio::ip::tcp::socket& socket, StartTls proto, std::string host,
                    std::chrono::steady_clock::time_point deadline,
                    std::function<void(std::string error)> done);

}  // namespace tlsprobe::proxy
