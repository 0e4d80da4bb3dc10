// `probe --starttls PROTO`: a tiny plaintext server per protocol (blocking sockets with
// timeouts, on the loopback test server's threads) that speaks its half of the dialogue and
// then TLS on the same socket; the binary must get through to the chain. The dialogue
// functions are also checked one step at a time, failures included.
#include "certs/ossl.hpp"
#include "certs/pem.hpp"
#include "pki/test_pki.hpp"
#include "proxy/probe/starttls.hpp"
#include "support/loopback_server.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mutex>

using namespace tlsprobe;
using namespace std::chrono_literals;
using proxy::StartTls;
using proxy::StartTlsDialogue;

namespace {

enum class Script { normal, refuse, no_greeting };

// Speaks the server half of `proto` on each connection, then TLS with testpki::good_hierarchy()'s
// chain.
class StartTlsServer : public testsupport::LoopbackServer {
 public:
  StartTlsServer(StartTls proto, Script script)
      : LoopbackServer([this](int fd) { serve(fd); }, 2, Deferred{}),
        proto_(proto),
        script_(script) {
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    REQUIRE(SSL_CTX_use_certificate(ctx_.get(), testpki::good_hierarchy().leaf.cert.x509()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx_.get(), testpki::good_hierarchy().leaf.pkey()) == 1);
    REQUIRE(SSL_CTX_add1_chain_cert(ctx_.get(),
                                    testpki::good_hierarchy().intermediate.cert.x509()) == 1);
    start();
  }
  ~StartTlsServer() override { stop(); }

  std::string heard() const {
    std::lock_guard lock(mutex_);
    return heard_;
  }

 private:
  void say(int fd, std::string_view s) {
    [[maybe_unused]] const auto n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
  }
  // Reads until `until` has arrived (or 5 s pass / the client closes).
  bool hear(int fd, std::string_view until) {
    std::string got;
    char buf[1024];
    while (got.find(until) == std::string::npos) {
      if (!wait_readable(fd, 5s)) return false;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      got.append(buf, static_cast<std::size_t>(n));
    }
    std::lock_guard lock(mutex_);
    heard_ += got;
    return true;
  }

  bool dialogue(int fd) {
    const bool refuse = script_ == Script::refuse;
    switch (proto_) {
      case StartTls::smtp:
        say(fd, "220-mail.test ESMTP\r\n220 ready\r\n");
        if (!hear(fd, "\r\n")) return false;
        say(fd, refuse ? "250-mail.test\r\n250 PIPELINING\r\n"
                       : "250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
        if (refuse) return false;
        if (!hear(fd, "STARTTLS\r\n")) return false;
        say(fd, "220 2.0.0 go ahead\r\n");
        return true;
      case StartTls::imap:
        say(fd, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n");
        if (!hear(fd, "\r\n")) return false;
        say(fd, refuse ? "a1 NO STARTTLS disabled\r\n"
                       : "* CAPABILITY IMAP4rev1\r\na1 OK Begin TLS now\r\n");
        return !refuse;
      case StartTls::pop3:
        say(fd, "+OK POP3 ready\r\n");
        if (!hear(fd, "\r\n")) return false;
        say(fd, refuse ? "-ERR not now\r\n" : "+OK Begin TLS\r\n");
        return !refuse;
      case StartTls::ftp:
        say(fd, "220-welcome\r\n220 FTP ready\r\n");
        if (!hear(fd, "\r\n")) return false;
        say(fd, refuse ? "502 not implemented\r\n" : "234 AUTH TLS ok\r\n");
        return !refuse;
      case StartTls::xmpp:
        if (!hear(fd, "version='1.0'>")) return false;
        say(fd,
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' id='1' version='1.0'>"
            "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
            "</starttls></stream:features>");
        if (!hear(fd, "/>")) return false;
        say(fd, refuse ? "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                       : "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        return !refuse;
      case StartTls::postgres:
        if (!hear(fd, std::string("\x04\xd2\x16\x2f", 4))) return false;
        say(fd, refuse ? "N" : "S");
        return !refuse;
      case StartTls::none:
        break;
    }
    return false;
  }

  void serve(int fd) {
    if (script_ == Script::no_greeting) {
      wait_readable(fd, 5s);  // say nothing until the client gives up
      return;
    }
    if (!dialogue(fd)) {
      wait_readable(fd, 5s);  // let the client read the refusal and close first
      return;
    }
    timeval tv{5, 0};  // bounds the blocking TLS handshake below
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    certs::SslPtr ssl(SSL_new(ctx_.get()));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) SSL_shutdown(ssl.get());
  }

  StartTls proto_;
  Script script_;
  certs::SslCtxPtr ctx_;
  mutable std::mutex mutex_;
  std::string heard_;
};

testsupport::ProcessResult probe(const StartTlsServer& server, const std::string& proto,
                                 const std::string& timeout = "5") {
  static const testpki::TempPemFile ca(certs::write_pem(testpki::good_hierarchy().root.cert));
  return testsupport::run_tlsprobe(
      {"probe", "good.test", "--connect", server.address(), "--starttls", proto, "--ca-file",
       ca.path(), "--no-system-trust", "--at", testpki::kFixedNowText, "--format", "json",
       "--timeout", timeout},
      30s);
}

std::string detail_of(const testsupport::ProcessResult& r) {
  const auto doc = boost::json::parse(r.out);
  const auto& o = doc.at("observations").at(0).as_object();
  return o.contains("failure_detail") ? std::string(o.at("failure_detail").as_string()) : "";
}

}  // namespace

TEST_CASE("--starttls: plaintext dialogue, then the chain over TLS on the same socket",
          "[cli][starttls]") {
  const std::vector<std::pair<StartTls, std::string>> protocols{
      {StartTls::smtp, "STARTTLS\r\n"},    {StartTls::imap, "a1 STARTTLS\r\n"},
      {StartTls::pop3, "STLS\r\n"},        {StartTls::ftp, "AUTH TLS\r\n"},
      {StartTls::xmpp, "<starttls xmlns"}, {StartTls::postgres, "\x04\xd2\x16\x2f"}};
  for (const auto& [proto, command] : protocols) {
    const std::string name(proxy::to_string(proto));
    DYNAMIC_SECTION(name) {
      StartTlsServer server(proto, Script::normal);
      const auto r = probe(server, name);
      INFO(r.out << r.err);
      CHECK(r.exit_code == 0);
      const auto doc = boost::json::parse(r.out);
      CHECK(doc.at("observations").at(0).at("outcome").as_string() == "ok");
      CHECK(doc.at("observations").at(0).at("chain").as_array().size() == 2);
      CHECK(doc.at("findings").as_array().empty());
      CHECK(server.heard().find(command) != std::string::npos);
    }
  }
}

TEST_CASE("--starttls: a refusal or a silent server names the protocol and the step",
          "[cli][starttls]") {
  SECTION("smtp without STARTTLS in EHLO") {
    StartTlsServer server(StartTls::smtp, Script::refuse);
    const auto r = probe(server, "smtp");
    CHECK(r.exit_code == 2);
    CHECK(detail_of(r) ==
          "smtp STARTTLS failed at EHLO: the server does not offer STARTTLS (its EHLO reply "
          "does not list it)");
  }
  SECTION("imap NO") {
    StartTlsServer server(StartTls::imap, Script::refuse);
    const auto r = probe(server, "imap");
    CHECK(r.exit_code == 2);
    CHECK(detail_of(r) ==
          "imap STARTTLS failed at STARTTLS: the server refused it: \"a1 NO STARTTLS disabled\"");
  }
  SECTION("postgres N") {
    StartTlsServer server(StartTls::postgres, Script::refuse);
    const auto r = probe(server, "postgres");
    CHECK(r.exit_code == 2);
    CHECK(detail_of(r).find("postgres STARTTLS failed at SSLRequest: the server does not "
                            "accept TLS") == 0);
  }
  SECTION("no greeting within --timeout") {
    StartTlsServer server(StartTls::smtp, Script::no_greeting);
    const auto r = probe(server, "smtp", "1");
    CHECK(r.exit_code == 2);
    CHECK(detail_of(r) == "smtp STARTTLS failed at greeting: no reply in time");
    CHECK(r.elapsed_ms < 10000);
  }
  SECTION("an unknown protocol is a usage error") {
    const auto r = testsupport::run_tlsprobe({"probe", "x.test", "--starttls", "gopher"}, 10s);
    CHECK(r.exit_code == 64);
  }
}

TEST_CASE("StartTlsDialogue step by step", "[starttls]") {
  SECTION("smtp: multi-line greeting and EHLO reply, then 220") {
    StartTlsDialogue d(StartTls::smtp, "mail.test");
    CHECK(d.start().send.empty());
    CHECK(d.feed("220-first\r\n").send.empty());  // a continuation: wait
    auto s = d.feed("220 ready\r\n");
    CHECK(s.send == "EHLO tlsprobe.invalid\r\n");
    CHECK(d.waiting_for() == "EHLO");
    s = d.feed("250-mail.test\r\n250-starttls\r\n");  // case does not matter
    CHECK(s.send.empty());
    s = d.feed("250 SIZE 1000\r\n");
    CHECK(s.send == "STARTTLS\r\n");
    s = d.feed("220 go\r\n");
    CHECK(s.done);
  }
  SECTION("smtp: a greeting that is not 220") {
    StartTlsDialogue d(StartTls::smtp, "mail.test");
    const auto s = d.feed("554 go away\r\n");
    CHECK(s.error == "smtp STARTTLS failed at greeting: the greeting is not 220: \"554 go away\"");
  }
  SECTION("pop3, split across reads") {
    StartTlsDialogue d(StartTls::pop3, "pop.test");
    CHECK(d.feed("+OK re").send.empty());
    CHECK(d.feed("ady\r\n").send == "STLS\r\n");
    CHECK(d.feed("-ERR no\r\n").error ==
          "pop3 STARTTLS failed at STLS: the server refused it: "
          "\"-ERR no\"");
  }
  SECTION("ftp") {
    StartTlsDialogue d(StartTls::ftp, "ftp.test");
    CHECK(d.feed("220 hi\r\n").send == "AUTH TLS\r\n");
    CHECK(d.feed("234 ok\r\n").done);
  }
  SECTION("xmpp: the features must offer starttls") {
    StartTlsDialogue d(StartTls::xmpp, "chat.test");
    CHECK(d.start().send.find("to='chat.test'") != std::string::npos);
    const auto s = d.feed("<stream:stream><stream:features><mechanisms/></stream:features>");
    CHECK(s.error ==
          "xmpp STARTTLS failed at stream features: the server does not offer STARTTLS in its "
          "stream features");
  }
  SECTION("postgres: SSLRequest bytes and a non-PostgreSQL answer") {
    StartTlsDialogue d(StartTls::postgres, "db.test");
    CHECK(d.start().send == std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8));
    CHECK(d.feed("HTTP/1.1 400").error.find("not a PostgreSQL server") != std::string::npos);
  }
  SECTION("a reply that never ends is bounded") {
    StartTlsDialogue d(StartTls::imap, "imap.test");
    const auto s = d.feed(std::string(70000, 'x'));
    CHECK(s.error == "imap STARTTLS failed at greeting: the reply is longer than 64 KiB");
  }
  SECTION("names and default ports") {
    CHECK(proxy::parse_starttls("smtp") == StartTls::smtp);
    CHECK_FALSE(proxy::parse_starttls("SMTPS"));
    CHECK(proxy::default_port(StartTls::postgres) == 5432);
    CHECK(proxy::default_port(StartTls::none) == 443);
  }
}
