#include "proxy/probe/tls_scan.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using inspect::FailureKind;
using inspect::HandshakeObservation;
using inspect::HandshakeOutcome;
using inspect::TlsAttempt;

namespace {

// Every TLS 1.3 suite OpenSSL 3.0 implements (CCM ones are off by default in clients).
constexpr const char* kAllTls13 =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
    "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";
// Every TLS 1.0-1.2 suite but those that need a pre-shared secret.
constexpr const char* kAllTls12 = "ALL:COMPLEMENTOFALL:!PSK:!SRP";
// The groups the scan offers one at a time (OpenSSL 3.0 knows no post-quantum hybrid).
constexpr std::array<const char*, 10> kGroups = {"X25519",    "P-256",     "P-384",     "P-521",
                                                 "X448",      "ffdhe2048", "ffdhe3072", "ffdhe4096",
                                                 "ffdhe6144", "ffdhe8192"};

int version_number(std::string_view v) {
  if (v == "1.3") return TLS1_3_VERSION;
  if (v == "1.2") return TLS1_2_VERSION;
  if (v == "1.1") return TLS1_1_VERSION;
  if (v == "1.0") return TLS1_VERSION;
  return 0;
}

bool openssl_group(std::string_view g) {
  return std::find(kGroups.begin(), kGroups.end(), g) != kGroups.end();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ':';
    out += i;
  }
  return out;
}

// Versions, TLS 1.3 suites, TLS 1.0-1.2 suites (empty: none), security level 0.
bool configure(SSL* ssl, int min_version, int max_version, const std::string& tls13,
               const std::string& tls12) {
  if (!SSL_set_min_proto_version(ssl, min_version) || !SSL_set_max_proto_version(ssl, max_version))
    return false;
  if (!SSL_set_ciphersuites(ssl, tls13.c_str())) return false;
  // An empty TLS 1.0-1.2 list is not accepted by OpenSSL: offer the TLS 1.3 suites alone
  // then by capping the version (callers do).
  if (!tls12.empty() && !SSL_set_cipher_list(ssl, tls12.c_str())) return false;
  SSL_set_security_level(ssl, 0);
  return true;
}

bool tls13_name(std::string_view s) { return s.rfind("TLS_", 0) == 0; }

}  // namespace

SslConfigure offer_profile(const inspect::ClientProfile& profile) {
  std::vector<std::string> tls13, tls12, groups, sigalgs;
  for (auto s : profile.suites) (tls13_name(s) ? tls13 : tls12).emplace_back(s);
  for (auto g : profile.groups)
    if (openssl_group(g)) groups.emplace_back(g);
  for (auto a : profile.sigalgs) sigalgs.emplace_back(a);
  int min_v = TLS1_3_VERSION, max_v = TLS1_VERSION;
  for (auto v : profile.versions) {
    min_v = std::min(min_v, version_number(v));
    max_v = std::max(max_v, version_number(v));
  }
  return [tls13 = join(tls13), tls12 = join(tls12), groups = join(groups), sigalgs = join(sigalgs),
          min_v, max_v](SSL* ssl) {
    if (!configure(ssl, min_v, max_v, tls13, tls12)) return false;
    if (!groups.empty() && !SSL_set1_groups_list(ssl, groups.c_str())) return false;
    // A name this OpenSSL does not know makes the whole list fail: keep its defaults then
    // (the suites and groups decide compatibility; signature algorithms rarely do).
    if (!SSL_set1_sigalgs_list(ssl, sigalgs.c_str())) ERR_clear_error();
    return true;
  };
}

SslConfigure offer_dhe_only() {
  return [](SSL* ssl) {
    return configure(ssl, TLS1_VERSION, TLS1_2_VERSION, "", "kDHE:!aNULL:!eNULL");
  };
}

SslConfigure offer_legacy() {
  return [](SSL* ssl) {
    return configure(ssl, TLS1_VERSION, TLS1_1_VERSION, "", "ALL:!aNULL:!eNULL");
  };
}

SslConfigure offer_anything() {
  return
      [](SSL* ssl) { return configure(ssl, TLS1_VERSION, TLS1_3_VERSION, kAllTls13, kAllTls12); };
}

TlsAttempt to_attempt(const HandshakeObservation& obs) {
  TlsAttempt a;
  // The handshake completed when a version and suite were agreed, even if the prober then
  // calls it failed (an anonymous suite, no certificate).
  a.ok = !obs.cipher.empty() && !obs.tls_version.empty();
  a.version = obs.tls_version;
  a.cipher = obs.cipher;
  a.kex_group = obs.kex_group;
  a.kex_bits = obs.kex_bits;
  if (!a.ok) {
    a.failure =
        !obs.alert.empty() ? "the server sent the TLS alert " + obs.alert : obs.failure_detail;
    a.refused =
        obs.outcome == HandshakeOutcome::handshake_failed &&
        (obs.failure == FailureKind::alert || obs.failure == FailureKind::other ||
         obs.failure == FailureKind::no_common_version || obs.failure == FailureKind::closed);
  }
  return a;
}

namespace {

class ScanOp : public std::enable_shared_from_this<ScanOp> {
 public:
  ScanOp(asio::any_io_executor io, asio::any_io_executor strand, const ClientContexts& contexts,
         HandshakeSpec base, ScanLimits limits, ScanDone done)
      : io_(std::move(io)),
        strand_(std::move(strand)),
        contexts_(contexts),
        base_(std::move(base)),
        limits_(limits),
        done_(std::move(done)) {
    base_.flavor = TlsFlavor::modern;
    base_.configure = nullptr;
  }

  void start() {
    started_ = Clock::now();
    all_tls12_ = every_tls12_suite();
    for (const char* v : {"1.3", "1.2", "1.1", "1.0"}) {
      Proto p;
      p.scan.version = v;
      if (p.scan.version == "1.3") {
        std::string all = kAllTls13;
        for (std::size_t b = 0, e; b <= all.size(); b = e + 1) {
          e = all.find(':', b);
          if (e == std::string::npos) e = all.size();
          p.remaining.push_back(all.substr(b, e - b));
        }
      } else {
        p.remaining = all_tls12_;
      }
      protos_.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < protos_.size(); ++i) queue_.push_back({Job::suite, i, {}});
    pump();
  }

 private:
  struct Proto {
    inspect::ProtocolScan scan;
    std::vector<std::string> remaining;  // suites not chosen yet
    bool done = false;
  };
  struct Job {
    enum Kind { suite, order, group } kind;
    std::size_t proto;  // index into protos_ (suite, order)
    std::string group_name;
  };

  // Names of every TLS 1.0-1.2 suite this OpenSSL has, in its default preference order.
  static std::vector<std::string> every_tls12_suite() {
    std::vector<std::string> out;
    certs::SslCtxPtr ctx{SSL_CTX_new(TLS_client_method())};
    if (!ctx) return out;
    SSL_CTX_set_security_level(ctx.get(), 0);
    if (!SSL_CTX_set_cipher_list(ctx.get(), kAllTls12)) return out;
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      const char* name = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i));
      if (name && !tls13_name(name)) out.emplace_back(name);
    }
    return out;
  }

  SslConfigure configure_for(const Job& job) const {
    if (job.kind == Job::group) {
      const int v = version_number(groups_version_);
      const std::string tls12 = v == TLS1_3_VERSION ? "" : "ECDHE:!aNULL:!eNULL";
      const std::string group = job.group_name;
      return [v, tls12, group](SSL* ssl) {
        return configure(ssl, v, v, v == TLS1_3_VERSION ? kAllTls13 : "", tls12) &&
               SSL_set1_groups_list(ssl, group.c_str()) == 1;
      };
    }
    const auto& p = protos_[job.proto];
    std::vector<std::string> offer = p.remaining;
    if (job.kind == Job::order) offer.assign(p.scan.suites.rbegin(), p.scan.suites.rend());
    const int v = version_number(p.scan.version);
    const bool t13 = v == TLS1_3_VERSION;
    return [v, t13, list = join(offer)](SSL* ssl) {
      return configure(ssl, v, v, t13 ? list : "", t13 ? "" : list);
    };
  }

  void pump() {
    while (!queue_.empty() && in_flight_ < limits_.max_in_flight) {
      if (scan_.handshakes >= limits_.max_handshakes || Clock::now() >= base_.deadline) {
        // Out of budget: what is queued is not tried; the result says it is incomplete.
        scan_.complete = false;
        for (const auto& j : queue_)
          if (j.kind == Job::suite) {
            protos_[j.proto].scan.complete = false;
            protos_[j.proto].done = true;
          }
        queue_.clear();
        break;
      }
      Job job = std::move(queue_.front());
      queue_.pop_front();
      launch(std::move(job));
    }
    if (in_flight_ == 0 && queue_.empty()) next_phase();
  }

  void launch(Job job) {
    ++in_flight_;
    ++scan_.handshakes;
    HandshakeSpec spec = base_;
    spec.configure = configure_for(job);
    auto self = shared_from_this();
    async_handshake(asio::make_strand(io_), contexts_, std::move(spec),
                    [self, job = std::move(job)](HandshakeObservation obs) mutable {
                      asio::post(self->strand_,
                                 [self, job = std::move(job), obs = std::move(obs)]() mutable {
                                   --self->in_flight_;
                                   self->on_result(job, obs);
                                   self->pump();
                                 });
                    });
  }

  void on_result(const Job& job, const HandshakeObservation& obs) {
    const auto a = to_attempt(obs);
    if (!a.ok && !a.refused) scan_.complete = false;  // a timeout or network error
    if (job.kind == Job::group) {
      if (a.ok) accepted_groups_.push_back(job.group_name);
      return;
    }
    auto& p = protos_[job.proto];
    if (job.kind == Job::order) {
      p.scan.server_order = a.ok && a.cipher == p.scan.suites.front();
      return;
    }
    if (!a.ok || a.version != p.scan.version) {
      if (!a.ok && !a.refused) p.scan.complete = false;
      p.done = true;
      if (p.scan.suites.size() >= 2) queue_.push_back({Job::order, job.proto, {}});
      return;
    }
    p.scan.accepted = true;
    p.scan.suites.push_back(a.cipher);
    if (a.kex_group == "DH" || a.kex_group.rfind("ffdhe", 0) == 0 ||
        a.kex_group.rfind("modp", 0) == 0) {
      if (scan_.dh_bits == 0 || a.kex_bits < scan_.dh_bits) {
        scan_.dh_bits = a.kex_bits;
        scan_.dh_group = a.kex_group;
      }
    }
    auto it = std::find(p.remaining.begin(), p.remaining.end(), a.cipher);
    if (it == p.remaining.end()) {
      // The server chose a suite we did not offer: stop rather than loop forever.
      p.done = true;
      return;
    }
    p.remaining.erase(it);
    if (p.remaining.empty()) {
      p.done = true;
      if (p.scan.suites.size() >= 2) queue_.push_back({Job::order, job.proto, {}});
      return;
    }
    queue_.push_back({Job::suite, job.proto, {}});
  }

  void next_phase() {
    if (phase_ == 0) {
      phase_ = 1;
      // Groups at the best version that negotiates them: TLS 1.3, else TLS 1.2 with ECDHE.
      const auto& p13 = protos_[0].scan;
      const auto& p12 = protos_[1].scan;
      const bool ecdhe12 = std::any_of(p12.suites.begin(), p12.suites.end(),
                                       [](const auto& s) { return s.rfind("ECDHE-", 0) == 0; });
      if (p13.accepted)
        groups_version_ = "1.3";
      else if (ecdhe12)
        groups_version_ = "1.2";
      if (!groups_version_.empty()) {
        for (const char* g : kGroups) {
          if (groups_version_ == "1.2" && std::string_view(g).rfind("ffdhe", 0) == 0) continue;
          queue_.push_back({Job::group, 0, g});
        }
        pump();
        return;
      }
    }
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    for (auto& p : protos_) scan_.protocols.push_back(std::move(p.scan));
    // In the order of kGroups, whatever order the answers came in.
    for (const char* g : kGroups)
      if (std::find(accepted_groups_.begin(), accepted_groups_.end(), g) != accepted_groups_.end())
        scan_.groups.emplace_back(g);
    scan_.groups_version = groups_version_;
    scan_.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    auto done = std::move(done_);
    done(std::move(scan_));
  }

  asio::any_io_executor io_, strand_;
  const ClientContexts& contexts_;
  HandshakeSpec base_;
  ScanLimits limits_;
  ScanDone done_;
  Clock::time_point started_;
  std::vector<std::string> all_tls12_;
  std::vector<Proto> protos_;
  std::deque<Job> queue_;
  int in_flight_ = 0;
  int phase_ = 0;
  bool finished_ = false;
  std::string groups_version_;
  std::vector<std::string> accepted_groups_;
  inspect::TlsScan scan_;
};

}  // namespace

void async_tls_scan(const asio::any_io_executor& io, const asio::any_io_executor& strand,
                    const ClientContexts& contexts, HandshakeSpec base, ScanLimits limits,
                    ScanDone done) {
  auto op =
      std::make_shared<ScanOp>(io, strand, contexts, std::move(base), limits, std::move(done));
  asio::post(strand, [op] { op->start(); });
}

}  // namespace tlsprobe::proxy
