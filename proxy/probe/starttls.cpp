#include "proxy/probe/starttls.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cctype>
#include <cstdio>
#include <memory>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A server reply longer than this before the step completes is not the protocol we speak.
constexpr std::size_t kMaxReply = 64 * 1024;

// A reply line as it may be shown: control bytes escaped, cut at 120 characters.
std::string shown(std::string_view line) {
  std::string out;
  for (char ch : line.substr(0, 120)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return line.size() > 120 ? out + "..." : out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// SMTP and FTP replies: "250-more" continues, "250 last" (or "250") ends a reply.
bool final_reply_line(std::string_view line) {
  return line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
         std::isdigit(static_cast<unsigned char>(line[1])) &&
         std::isdigit(static_cast<unsigned char>(line[2])) && (line.size() == 3 || line[3] == ' ');
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<StartTls> parse_starttls(std::string_view name) {
  for (auto p : {StartTls::smtp, StartTls::imap, StartTls::pop3, StartTls::ftp, StartTls::xmpp,
                 StartTls::postgres})
    if (name == to_string(p)) return p;
  return std::nullopt;
}

std::string_view to_string(StartTls proto) {
  switch (proto) {
    case StartTls::none:
      return "none";
    case StartTls::smtp:
      return "smtp";
    case StartTls::imap:
      return "imap";
    case StartTls::pop3:
      return "pop3";
    case StartTls::ftp:
      return "ftp";
    case StartTls::xmpp:
      return "xmpp";
    case StartTls::postgres:
      return "postgres";
  }
  return "none";
}

std::uint16_t default_port(StartTls proto) {
  switch (proto) {
    case StartTls::smtp:
      return 25;
    case StartTls::imap:
      return 143;
    case StartTls::pop3:
      return 110;
    case StartTls::ftp:
      return 21;
    case StartTls::xmpp:
      return 5222;
    case StartTls::postgres:
      return 5432;
    case StartTls::none:
      break;
  }
  return 443;
}

StartTlsDialogue::StartTlsDialogue(StartTls proto, std::string host)
    : proto_(proto), host_(std::move(host)) {}

StartTlsDialogue::Step StartTlsDialogue::fail(const std::string& what) const {
  Step s;
  s.error = std::string(to_string(proto_)) + " STARTTLS failed at " + waiting_for_ + ": " + what;
  return s;
}

StartTlsDialogue::Step StartTlsDialogue::start() {
  Step s;
  if (proto_ == StartTls::xmpp) {
    waiting_for_ = "stream features";
    s.send =
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' to='" +
        host_ + "' version='1.0'>";
  } else if (proto_ == StartTls::postgres) {
    // SSLRequest: length 8, then the request code 80877103 (1234 << 16 | 5679), big-endian.
    waiting_for_ = "SSLRequest";
    s.send = std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
  }
  return s;
}

StartTlsDialogue::Step StartTlsDialogue::feed(std::string_view data) {
  if (proto_ == StartTls::postgres) {
    if (data.empty()) return {};
    if (data[0] == 'S') return Step{{}, true, {}};
    if (data[0] == 'N')
      return fail("the server does not accept TLS connections (it answered 'N'; ssl = off)");
    return fail("not a PostgreSQL server (it answered \"" + shown(data) + "\")");
  }
  buffer_.append(data);
  if (buffer_.size() > kMaxReply) return fail("the reply is longer than 64 KiB");
  if (proto_ == StartTls::xmpp) return on_xmpp();
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl == std::string::npos) return {};
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto step = on_line(line);
    if (step.done || !step.error.empty() || !step.send.empty()) return step;
  }
}

StartTlsDialogue::Step StartTlsDialogue::on_line(const std::string& line) {
  Step s;
  switch (proto_) {
    case StartTls::smtp:
    case StartTls::ftp: {
      if (stage_ == 1 && proto_ == StartTls::smtp && line.size() > 4 &&
          upper(line.substr(4)).rfind("STARTTLS", 0) == 0)
        offers_starttls_ = true;
      if (!final_reply_line(line)) return s;  // a continuation line
      const std::string code = line.substr(0, 3);
      if (stage_ == 0) {
        if (code != "220") return fail("the greeting is not 220: \"" + shown(line) + "\"");
        stage_ = 1;
        if (proto_ == StartTls::ftp) {
          waiting_for_ = "AUTH TLS";
          s.send = "AUTH TLS\r\n";
          stage_ = 2;
        } else {
          waiting_for_ = "EHLO";
          s.send = "EHLO tlsprobe.invalid\r\n";
        }
        return s;
      }
      if (stage_ == 1) {  // SMTP EHLO reply
        if (code != "250") return fail("EHLO was refused: \"" + shown(line) + "\"");
        if (!offers_starttls_)
          return fail("the server does not offer STARTTLS (its EHLO reply does not list it)");
        waiting_for_ = "STARTTLS";
        s.send = "STARTTLS\r\n";
        stage_ = 2;
        return s;
      }
      const std::string want = proto_ == StartTls::smtp ? "220" : "234";
      if (code != want) return fail("the server refused it: \"" + shown(line) + "\"");
      s.done = true;
      return s;
    }
    case StartTls::pop3:
      if (stage_ == 0) {
        if (!starts_with(line, "+OK"))
          return fail("the greeting is not +OK: \"" + shown(line) + "\"");
        stage_ = 1;
        waiting_for_ = "STLS";
        s.send = "STLS\r\n";
        return s;
      }
      if (!starts_with(line, "+OK")) return fail("the server refused it: \"" + shown(line) + "\"");
      s.done = true;
      return s;
    case StartTls::imap:
      if (stage_ == 0) {
        if (!starts_with(upper(line), "* OK"))
          return fail("the greeting is not \"* OK\": \"" + shown(line) + "\"");
        stage_ = 1;
        waiting_for_ = "STARTTLS";
        s.send = "a1 STARTTLS\r\n";
        return s;
      }
      if (starts_with(line, "* ")) return s;  // untagged data before our tagged answer
      if (starts_with(upper(line), "A1 OK")) {
        s.done = true;
        return s;
      }
      return fail("the server refused it: \"" + shown(line) + "\"");
    default:
      return fail("not a line-based protocol");
  }
}

StartTlsDialogue::Step StartTlsDialogue::on_xmpp() {
  Step s;
  if (buffer_.find("<stream:error") != std::string::npos)
    return fail("the server sent a stream error: \"" + shown(buffer_) + "\"");
  if (stage_ == 0) {
    const auto end = buffer_.find("</stream:features>");
    if (end == std::string::npos) return s;  // the features are not complete yet
    if (buffer_.find("<starttls") == std::string::npos)
      return fail("the server does not offer STARTTLS in its stream features");
    buffer_.clear();
    stage_ = 1;
    waiting_for_ = "starttls";
    s.send = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    return s;
  }
  if (buffer_.find("<proceed") != std::string::npos) {
    s.done = true;
    return s;
  }
  if (buffer_.find("<failure") != std::string::npos)
    return fail("the server refused it: \"" + shown(buffer_) + "\"");
  return s;
}

namespace {

class StartTlsOp : public std::enable_shared_from_this<StartTlsOp> {
 public:
  StartTlsOp(tcp::socket& socket, StartTls proto, std::string host,
             std::function<void(std::string)> done)
      : socket_(socket),
        timer_(socket.get_executor()),
        dialogue_(proto, std::move(host)),
        done_(std::move(done)) {}

  void start(std::chrono::steady_clock::time_point deadline) {
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || !self->done_) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.cancel(ignored);
    });
    act(dialogue_.start());
  }

 private:
  void act(StartTlsDialogue::Step step) {
    if (!step.error.empty()) return finish(step.error);
    if (step.done) return finish({});
    if (step.send.empty()) return read();
    out_ = std::move(step.send);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->io_failed(ec, "sending");
                        self->read();
                      });
  }

  void read() {
    socket_.async_read_some(asio::buffer(in_), [self = shared_from_this()](
                                                   boost::system::error_code ec, std::size_t n) {
      if (ec) return self->io_failed(ec, "waiting");
      self->act(self->dialogue_.feed(std::string_view(self->in_.data(), n)));
    });
  }

  void io_failed(boost::system::error_code ec, const char* doing) {
    const std::string prefix = std::string(to_string(dialogue_.protocol())) +
                               " STARTTLS failed at " + dialogue_.waiting_for() + ": ";
    // Only a deadline cancels this socket: ours, or the handshake's (the same instant).
    if (timed_out_ || ec == asio::error::operation_aborted)
      return finish(prefix + "no reply in time");
    if (ec == asio::error::eof || ec == asio::error::connection_reset)
      return finish(prefix + "the server closed the connection");
    finish(prefix + doing + ": " + ec.message());
  }

  void finish(std::string error) {
    if (!done_) return;
    timer_.cancel();
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(error));
  }

  tcp::socket& socket_;
  asio::steady_timer timer_;
  StartTlsDialogue dialogue_;
  std::function<void(std::string)> done_;
  std::array<char, 4096> in_{};
  std::string out_;
  bool timed_out_ = false;
};

}  // namespace

void async_starttls(tcp::socket& socket, StartTls proto, std::string host,
                    std::chrono::steady_clock::time_point deadline,
                    std::function<void(std::string error)> done) {
  std::make_shared<StartTlsOp>(socket, proto, std::move(host), std::move(done))->start(deadline);
}

}  // namespace tlsprobe::proxy
