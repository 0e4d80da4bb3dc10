#include "proxy/probe/handshake.hpp"

#include "certs/name_match.hpp"
#include "proxy/net/host_resolver.hpp"
#include "proxy/probe/probe_target.hpp"
#include "proxy/probe/staple_capture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <netdb.h>
#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using inspect::FailureKind;
using inspect::HandshakeOutcome;

namespace {

// After a TLS 1.3 CertificateRequest the server's verdict on our empty Certificate comes
// after our Finished: wait this long for an alert (a server with optional client
// certificates says nothing, and a probe should not stall on it).
constexpr auto kClientCertVerdictWait = std::chrono::milliseconds(1000);

// Bounds on what a server's CertificateRequest may make us keep (a hostile list is long).
constexpr int kMaxClientCaNames = 64;
constexpr std::size_t kMaxClientCaNameChars = 1024;

// The client CA names a server accepts, recorded by on_client_cert_request into the
// observation of the handshake (the SSL's app data).
std::vector<std::string> client_ca_names(SSL* ssl) {
  std::vector<std::string> out;
  const STACK_OF(X509_NAME)* cas = SSL_get_client_CA_list(ssl);
  for (int i = 0; cas && i < sk_X509_NAME_num(cas) && i < kMaxClientCaNames; ++i) {
    certs::BioPtr bio{BIO_new(BIO_s_mem())};
    if (!bio) break;
    X509_NAME_print_ex(bio.get(), sk_X509_NAME_value(cas, i), 0,
                       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    std::string name(data, len > 0 ? static_cast<std::size_t>(len) : 0);
    if (name.size() > kMaxClientCaNameChars) name = name.substr(0, kMaxClientCaNameChars) + "...";
    out.push_back(std::move(name));
  }
  return out;
}

int on_client_cert_request(SSL* ssl, X509**, EVP_PKEY**) {
  if (auto* obs = static_cast<inspect::HandshakeObservation*>(SSL_get_app_data(ssl))) {
    obs->client_cert_requested = true;
    obs->client_ca_names = client_ca_names(ssl);
  }
  return 0;  // no certificate: we probe as an anonymous client
}

certs::SslCtxPtr make_ctx(TlsFlavor flavor) {
  static constexpr const char* kLegacyCiphers = "ALL:!aNULL:!eNULL:@SECLEVEL=0";
  certs::SslCtxPtr ctx{SSL_CTX_new(TLS_client_method())};
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + certs::openssl_errors());
  // Accept every chain during the handshake: diagnosis verifies it afterwards with the
  // user's trust store and evaluation time. The chain is kept either way.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  if (flavor == TlsFlavor::modern) {
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  } else {
    // Security level 0 is what lets OpenSSL 3 speak TLS 1.0/1.1 and SHA-1 at all; it is
    // confined to this context, used for one handshake per target.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_1_VERSION);
    // Never anonymous (aNULL: no server certificate, so nothing to judge and nothing that
    // authenticates the server) nor unencrypted (eNULL) suites, even at level 0.
    SSL_CTX_set_cipher_list(ctx.get(), kLegacyCiphers);
  }
  // Offer what a browser offers, so servers pick the certificate a browser would get.
  static const unsigned char alpn[] = "\x02h2\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx.get(), alpn, sizeof alpn - 1);
  // Called when the server sends a CertificateRequest and no certificate is configured: the
  // moment its list of accepted CA names is there to read (issue 15 item 3).
  SSL_CTX_set_client_cert_cb(ctx.get(), &on_client_cert_request);
  return ctx;
}

std::string address_text(const tcp::endpoint& ep) {
  return config::format_host_port(ep.address().to_string(), ep.port());
}

// Printable start of a non-TLS reply, for failure_detail ("HTTP/1.1 400 Bad Request").
std::string printable_prefix(const char* data, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c == '\r' || c == '\n') break;
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

class HandshakeOp : public std::enable_shared_from_this<HandshakeOp> {
 public:
  HandshakeOp(const asio::any_io_executor& ex, const ClientContexts& contexts, HandshakeSpec spec,
              HandshakeDone done)
      : executor_(ex),
        socket_(ex),
        timer_(ex),
        grace_(ex),
        contexts_(contexts),
        spec_(std::move(spec)),
        done_(std::move(done)) {
    obs_.role = spec_.role;
    obs_.host = spec_.host;
    obs_.port = spec_.port;
    obs_.sni = spec_.sni;
  }

  void start() {
    started_ = Clock::now();
    timer_.expires_at(spec_.deadline);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->on_deadline(ec);
    });
    std::string lookup_host = spec_.host;
    std::uint16_t lookup_port = spec_.port;
    if (!spec_.dial.empty()) {
      // An address, or a name to resolve in the target's place (--connect other.example:443).
      const auto parsed = parse_address_port(spec_.dial);
      if (!parsed.value) {
        fail(HandshakeOutcome::unreachable, FailureKind::dns,
             "cannot dial '" + spec_.dial + "': " + parsed.error);
        return;
      }
      lookup_host = parsed.value->host;
      lookup_port = parsed.value->port;
    }
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(lookup_host, ec);
    if (!ec) {
      if (!family_allows(spec_.family, addr)) {
        fail(HandshakeOutcome::unreachable, FailureKind::dns,
             lookup_host + " is not an " + std::string(family_name(spec_.family)) + " address");
        return;
      }
      connect_to({tcp::endpoint(addr, lookup_port)});
      return;
    }
    lookup_name_ = lookup_host;
    phase_ = Phase::resolve;
    // HostResolver, not tcp::resolver: Asio runs lookups one at a time on one thread, so a
    // name whose DNS hangs would hold up every other probe's lookup. The lookup's timeout is
    // what is left of the deadline (on_deadline cancels it too, whichever comes first).
    // AI_ADDRCONFIG as tcp::resolver's default flags had it.
    lookup_ = HostResolver::shared().resolve(
        executor_, lookup_host, lookup_port,
        std::max(Clock::duration::zero(), spec_.deadline - Clock::now()),
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    HostResolver::Endpoints endpoints) {
          self->on_resolve(ec, std::move(endpoints));
        },
        AI_NUMERICSERV | AI_ADDRCONFIG);
  }

 private:
  enum class Phase { resolve, connect, handshake, after_handshake, done };

  void on_deadline(const boost::system::error_code& ec) {
    if (ec || phase_ == Phase::done) return;  // cancelled: the handshake ended first
    timed_out_ = true;
    // Cancelling makes the pending operation complete with operation_aborted; its handler
    // sees timed_out_ and reports the step that ran out of time.
    if (lookup_) lookup_->cancel();
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    socket_.close(ignored);
    grace_.cancel();
  }

  void on_resolve(const boost::system::error_code& ec, HostResolver::Endpoints endpoints) {
    lookup_.reset();
    if (phase_ == Phase::done) return;
    if (timed_out_ || ec == ResolveError::timed_out)
      return fail(HandshakeOutcome::unreachable, FailureKind::dns, "name resolution timed out");
    if (ec || endpoints.empty())
      return fail(HandshakeOutcome::unreachable, FailureKind::dns,
                  "cannot resolve '" + lookup_name_ + "': " + (ec ? ec.message() : "no address"));
    std::erase_if(endpoints, [this](const tcp::endpoint& ep) {
      return !family_allows(spec_.family, ep.address());
    });
    if (endpoints.empty())
      return fail(
          HandshakeOutcome::unreachable, FailureKind::dns,
          "'" + lookup_name_ + "' has no " + std::string(family_name(spec_.family)) + " address");
    connect_to(std::move(endpoints));
  }

  void connect_to(std::vector<tcp::endpoint> endpoints) {
    phase_ = Phase::connect;
    obs_.address = address_text(endpoints.front());
    asio::async_connect(
        socket_, endpoints,
        [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint& ep) {
          self->on_connect(ec, ep);
        });
  }

  void on_connect(const boost::system::error_code& ec, const tcp::endpoint& ep) {
    if (phase_ == Phase::done) return;
    if (timed_out_)
      return fail(HandshakeOutcome::unreachable, FailureKind::connect_timeout,
                  "no answer to the TCP connection in time");
    if (ec == asio::error::connection_refused)  // the port dialled, not the target's
      return fail(HandshakeOutcome::unreachable, FailureKind::refused,
                  "connection refused by " + obs_.address);
    if (ec) return fail(HandshakeOutcome::unreachable, FailureKind::network, ec.message());
    obs_.address = address_text(ep);
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    if (spec_.starttls == StartTls::none) return start_tls();
    // The plaintext dialogue first, on this socket, bounded by the same deadline.
    async_starttls(socket_, spec_.starttls, spec_.host, spec_.deadline,
                   [self = shared_from_this()](std::string error) {
                     if (self->phase_ == Phase::done) return;
                     if (error.empty()) return self->start_tls();
                     self->fail(
                         HandshakeOutcome::handshake_failed,
                         self->timed_out_ ? FailureKind::handshake_timeout : FailureKind::other,
                         std::move(error));
                   });
  }

  void start_tls() {
    phase_ = Phase::handshake;
    SSL_CTX* ctx = spec_.flavor == TlsFlavor::modern ? contexts_.modern() : contexts_.legacy();
    ssl_.reset(SSL_new(ctx));
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (!ssl_ || !rbio || !wbio) {
      BIO_free(rbio);
      BIO_free(wbio);
      return fail(HandshakeOutcome::handshake_failed, FailureKind::other,
                  "cannot create a TLS connection: " + certs::openssl_errors());
    }
    // Memory BIOs: we move the bytes ourselves, so we see the server's first bytes (to
    // tell "not TLS" apart from a TLS failure) and every read is under our deadline.
    SSL_set_bio(ssl_.get(), rbio, wbio);  // the SSL owns both BIOs from here
    rbio_ = rbio;
    wbio_ = wbio;
    SSL_set_connect_state(ssl_.get());
    if (spec_.configure && !spec_.configure(ssl_.get()))
      return fail(HandshakeOutcome::handshake_failed, FailureKind::other,
                  "cannot offer what was asked: " + certs::openssl_errors());
    if (spec_.sni) SSL_set_tlsext_host_name(ssl_.get(), spec_.sni->c_str());
    if (spec_.identity) {
      std::string error;
      if (!spec_.identity->apply(ssl_.get(), error))
        return fail(HandshakeOutcome::handshake_failed, FailureKind::other, error);
      obs_.client_cert_offered = true;
    }
    request_staple_and_scts(ssl_.get());
    SSL_set_msg_callback(ssl_.get(), &HandshakeOp::on_message);
    SSL_set_msg_callback_arg(ssl_.get(), this);
    SSL_set_app_data(ssl_.get(), &obs_);  // on_client_cert_request records into it
    drive();
  }

  // Records alerts both ways and the handshake messages that change how a failure reads.
  static void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL*,
                         void* arg) {
    auto* self = static_cast<HandshakeOp*>(arg);
    const auto* p = static_cast<const unsigned char*>(buf);
    if (content_type == SSL3_RT_ALERT && len >= 2) {
      if (write_p)
        self->alert_sent_ = p[1];
      else
        self->alert_received_ = p[1];
    } else if (content_type == SSL3_RT_HANDSHAKE && len >= 1 && !write_p) {
      if (p[0] == SSL3_MT_CERTIFICATE_REQUEST) self->cert_requested_ = true;
      if (p[0] == SSL3_MT_NEWSESSION_TICKET) self->ticket_seen_ = true;
    }
  }

  void drive() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_.get());
    if (r == 1) {
      handshake_done_ = true;
      capture();
      // A handshake without a server certificate (an anonymous suite) authenticated nobody:
      // it is a failure, never "ok" (we offer no such suite; a server must not pick one).
      if (obs_.chain.empty())
        return fail(HandshakeOutcome::handshake_failed, FailureKind::other,
                    "the server sent no certificate (cipher suite " + obs_.cipher +
                        "): nothing authenticates it");
    } else {
      const int err = SSL_get_error(ssl_.get(), r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return tls_failed();
    }
    flush_then([self = shared_from_this()] {
      if (self->handshake_done_)
        self->after_handshake();
      else
        self->read_more();
    });
  }

  template <class Next>
  void flush_then(Next next) {
    const auto pending = BIO_ctrl_pending(wbio_);
    if (pending == 0) return next();
    out_.resize(pending);
    BIO_read(wbio_, out_.data(), static_cast<int>(pending));
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), next = std::move(next)](
                          const boost::system::error_code& ec, std::size_t) mutable {
                        if (self->phase_ == Phase::done) return;
                        if (ec) return self->io_failed(ec);
                        next();
                      });
  }

  void read_more() {
    socket_.async_read_some(asio::buffer(in_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (phase_ == Phase::done) return;
    if (ec) return io_failed(ec);
    if (first_read_) {
      first_read_ = false;
      // A TLS record starts with a content type 20..24 and major version 3.
      const auto type = static_cast<unsigned char>(in_[0]);
      const bool tls_like = type >= 20 && type <= 24 && (n < 2 || in_[1] == 3);
      if (!tls_like)
        return fail(HandshakeOutcome::handshake_failed, FailureKind::not_tls,
                    "the server does not speak TLS; it answered \"" +
                        printable_prefix(in_.data(), n) + "\"");
    }
    BIO_write(rbio_, in_.data(), static_cast<int>(n));
    if (phase_ == Phase::after_handshake) return after_handshake_read();
    drive();
  }

  void io_failed(const boost::system::error_code& ec) {
    // Whatever the server sent before it went away (its chain, before asking for a client
    // certificate) is still worth judging.
    if (ssl_) capture();
    if (phase_ == Phase::after_handshake) {
      // The grace period ended (cancel) or the server closed after our empty Certificate.
      if (grace_over_ && !timed_out_) return succeed();
      if (timed_out_) return succeed();  // the handshake itself completed
      return fail(HandshakeOutcome::handshake_failed, FailureKind::client_cert_required,
                  "the server requires a client certificate (it closed the connection after "
                  "asking for one)");
    }
    // The socket ended under the handshake: classify_tls_failure says why in words.
    TlsFailureFacts facts;
    facts.certificate_requested = cert_requested_;
    facts.alert_received = alert_received_;
    facts.transport_error = ec.message();
    facts.transport = timed_out_ ? TransportEnd::timed_out
                      : ec == asio::error::eof || ec == asio::error::connection_reset
                          ? TransportEnd::peer_closed
                          : TransportEnd::error;
    fail_with(classify_tls_failure(facts));
  }

  // OpenSSL refused the handshake: its first error reason and the alerts seen, classified
  // once for both engines (proxy/tls/tls_failure.hpp).
  void tls_failed() {
    TlsFailureFacts facts;
    facts.openssl_reason = ERR_GET_REASON(ERR_peek_error());
    facts.openssl_text = certs::openssl_errors();
    facts.alert_received = alert_received_;
    facts.alert_sent = alert_sent_;
    facts.certificate_requested = cert_requested_;
    capture();
    fail_with(classify_tls_failure(facts));
  }

  // Chain as sent (client side: leaf included), version, cipher, ALPN.
  void capture() {
    if (cert_requested_) obs_.client_cert_requested = true;  // the list came with the callback
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_.get())) {
      obs_.chain.clear();
      for (int i = 0; i < sk_X509_num(chain); ++i)
        obs_.chain.push_back(certs::Certificate::from_x509(sk_X509_value(chain, i)));
    }
    if (!handshake_done_) return;
    std::string version = SSL_get_version(ssl_.get());  // "TLSv1.3"
    if (version.rfind("TLSv", 0) == 0) version = version.substr(4);
    if (version == "1") version = "1.0";
    obs_.tls_version = version;
    obs_.legacy_handshake = spec_.flavor == TlsFlavor::legacy;
    obs_.cipher = SSL_get_cipher_name(ssl_.get());
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl_.get(), &alpn, &alpn_len);
    if (alpn) obs_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    capture_staple_and_scts(ssl_.get(), obs_);
    capture_key_exchange();
  }

  // The server's ephemeral key: its group and size (tls.weak_key_exchange, the client
  // matrix). Nothing for RSA key exchange, which has none.
  void capture_key_exchange() {
    EVP_PKEY* key = nullptr;
    if (SSL_get_peer_tmp_key(ssl_.get(), &key) != 1 || !key) return;
    certs::EvpPkeyPtr owned{key};
    obs_.kex_bits = EVP_PKEY_get_bits(key);
    char name[64] = {};
    size_t len = 0;
    const bool named = EVP_PKEY_get_group_name(key, name, sizeof name, &len) == 1 && len > 0;
    if (EVP_PKEY_is_a(key, "DH")) {
      // OpenSSL names the RFC 7919 / RFC 3526 groups it recognises ("ffdhe2048",
      // "modp_2048"); anything else is a group the server generated itself.
      obs_.kex_group = named ? std::string(name, len) : "DH";
    } else if (named) {
      const std::string group(name, len);
      obs_.kex_group = group == "prime256v1"  ? "P-256"
                       : group == "secp384r1" ? "P-384"
                       : group == "secp521r1" ? "P-521"
                                              : group;
    } else {
      obs_.kex_group = EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "";
    }
  }

  void after_handshake() {
    phase_ = Phase::after_handshake;
    // In TLS 1.3 a server that requires a client certificate rejects our empty one only
    // after we finished: wait briefly for its alert or its session ticket.
    if (!cert_requested_ || obs_.tls_version != "1.3") return succeed();
    const auto wait_until = std::min(spec_.deadline, Clock::now() + kClientCertVerdictWait);
    grace_.expires_at(wait_until);
    grace_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->phase_ == Phase::done) return;
      self->grace_over_ = true;
      boost::system::error_code ignored;
      self->socket_.cancel(ignored);
    });
    read_more();
  }

  void after_handshake_read() {
    char byte;
    ERR_clear_error();
    const int r = SSL_read(ssl_.get(), &byte, 1);
    if (r > 0 || ticket_seen_) return succeed();
    const int err = SSL_get_error(ssl_.get(), r);
    if (err == SSL_ERROR_WANT_READ) return read_more();
    if (alert_received_ >= 0) obs_.alert = alert_name(alert_received_);
    certs::openssl_errors();  // drain
    fail(HandshakeOutcome::handshake_failed, FailureKind::client_cert_required,
         "the server requires a client certificate", true);
  }

  void succeed() {
    if (phase_ == Phase::done) return;
    // Say goodbye properly (best effort, never waits): close_notify on a non-blocking socket.
    SSL_shutdown(ssl_.get());
    const auto pending = BIO_ctrl_pending(wbio_);
    if (pending > 0 && socket_.is_open()) {
      std::string bye(pending, '\0');
      BIO_read(wbio_, bye.data(), static_cast<int>(pending));
      boost::system::error_code ignored;
      socket_.non_blocking(true, ignored);
      socket_.write_some(asio::buffer(bye), ignored);
    }
    obs_.outcome = HandshakeOutcome::ok;
    obs_.failure = FailureKind::none;
    finish();
  }

  void fail(HandshakeOutcome outcome, FailureKind kind, std::string detail,
            bool keep_alert = false) {
    if (phase_ == Phase::done) return;
    if (!keep_alert) {
      if (alert_received_ >= 0) obs_.alert = alert_name(alert_received_);
    }
    obs_.outcome = outcome;
    obs_.failure = kind;
    obs_.failure_detail = std::move(detail);
    finish();
  }

  void fail_with(TlsFailure failure) {
    if (phase_ == Phase::done) return;
    record_failure(obs_, std::move(failure));
    finish();
  }

  void finish() {
    phase_ = Phase::done;
    obs_.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    timer_.cancel();
    grace_.cancel();
    if (lookup_) lookup_->cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    auto done = std::move(done_);
    done(std::move(obs_));
  }

  asio::any_io_executor executor_;
  std::shared_ptr<HostLookup> lookup_;  // the name lookup in progress, if any
  std::string lookup_name_;             // the name being resolved (host, or --connect's)
  tcp::socket socket_;
  asio::steady_timer timer_, grace_;
  const ClientContexts& contexts_;
  HandshakeSpec spec_;
  HandshakeDone done_;
  inspect::HandshakeObservation obs_;
  Phase phase_ = Phase::connect;
  Clock::time_point started_;
  certs::SslPtr ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  std::array<char, 16 * 1024> in_{};
  std::string out_;
  bool first_read_ = true, timed_out_ = false, grace_over_ = false, handshake_done_ = false;
  bool cert_requested_ = false, ticket_seen_ = false;
  int alert_received_ = -1, alert_sent_ = -1;
};

}  // namespace

ClientContexts::ClientContexts()
    : modern_(make_ctx(TlsFlavor::modern)), legacy_(make_ctx(TlsFlavor::legacy)) {}

void async_handshake(const asio::any_io_executor& executor, const ClientContexts& contexts,
                     HandshakeSpec spec, HandshakeDone done) {
  auto op = std::make_shared<HandshakeOp>(executor, contexts, std::move(spec), std::move(done));
  asio::post(executor, [op] { op->start(); });
}

bool worth_legacy_retry(const inspect::HandshakeObservation& obs) {
  if (obs.outcome != HandshakeOutcome::handshake_failed) return false;
  if (obs.failure == FailureKind::no_common_version) return true;
  return obs.failure == FailureKind::alert &&
         (obs.alert == "protocol_version" || obs.alert == "handshake_failure" ||
          obs.alert == alert_name(kAlertInsufficientSecurity));
}

std::string_view failure_name(FailureKind kind) { return inspect::to_string(kind); }

}  // namespace tlsprobe::proxy
