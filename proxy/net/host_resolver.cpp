#include "proxy/net/host_resolver.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace tlsprobe::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

const int HostResolver::kDefaultFlags = AI_NUMERICSERV;

namespace {

class ResolveCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tlsprobe.resolve"; }
  std::string message(int ev) const override {
    switch (static_cast<ResolveError>(ev)) {
      case ResolveError::timed_out:
        return "name lookup timed out";
      case ResolveError::queue_full:
        return "too many name lookups pending";
      case ResolveError::shut_down:
        return "resolver shut down";
    }
    return "name lookup failed";
  }
};

// getaddrinfo's EAI_* as the errors asio::ip::tcp::resolver reports, so callers and log
// lines read the same as before.
error_code translate_gai_error(int rc) {
  switch (rc) {
    case 0:
      return {};
    case EAI_AGAIN:
      return asio::error::host_not_found_try_again;
    case EAI_BADFLAGS:
      return asio::error::invalid_argument;
    case EAI_FAIL:
      return asio::error::no_recovery;
    case EAI_FAMILY:
      return asio::error::address_family_not_supported;
    case EAI_MEMORY:
      return asio::error::no_memory;
    case EAI_NONAME:
#ifdef EAI_NODATA
#if EAI_NODATA != EAI_NONAME
    case EAI_NODATA:
#endif
#endif
      return asio::error::host_not_found;
    case EAI_SERVICE:
      return asio::error::service_not_found;
    case EAI_SOCKTYPE:
      return asio::error::socket_type_not_supported;
    case EAI_SYSTEM:
      return error_code(errno, asio::error::get_system_category());
    default:
      return asio::error::no_recovery;
  }
}

}  // namespace

const boost::system::error_category& resolve_category() {
  static const ResolveCategory c;
  return c;
}

error_code make_error_code(ResolveError e) { return {static_cast<int>(e), resolve_category()}; }

// One caller waiting for a name. All of its state is used only on `strand` (a strand over
// the caller's executor, so its handlers also run inside the caller's strand); the pool
// threads only post to it.
class Waiter : public HostLookup, public std::enable_shared_from_this<Waiter> {
 public:
  Waiter(const asio::any_io_executor& ex, HostResolver::Handler done,
         std::weak_ptr<HostResolver::State> state, std::string key)
      : strand(asio::make_strand(ex)),
        timer(strand),
        done_(std::move(done)),
        state_(std::move(state)),
        key_(std::move(key)) {}
  ~Waiter() override;

  void cancel() override {
    asio::dispatch(strand, [self = shared_from_this()] {
      self->complete(asio::error::operation_aborted, {});
    });
  }

  // On `strand`: the first call delivers, later ones (the other of timeout/result) do nothing.
  void complete(error_code ec, HostResolver::Endpoints eps);

  // On `strand`: the timeout. Every lookup has one, so the handler (and whatever it keeps
  // alive, e.g. a connection) is always released in bounded time.
  void arm(std::chrono::steady_clock::duration timeout) {
    if (!done_) return;  // already completed (queue_full or an instant result)
    timer.expires_after(timeout);
    timer.async_wait(asio::bind_executor(strand, [self = shared_from_this()](error_code ec) {
      if (!ec) self->complete(ResolveError::timed_out, {});
    }));
  }

  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;

 private:
  void unregister();

  HostResolver::Handler done_;  // empty once completed
  std::weak_ptr<HostResolver::State> state_;
  std::string key_;
};

struct HostResolver::State : std::enable_shared_from_this<HostResolver::State> {
  // One name being looked up: queued until a thread takes it (`started`).
  // A waiter as a pool thread sees it: never a strong reference. A thread that held one
  // could drop the last reference after the waiter's io_context is gone, and destroying the
  // waiter's timer then touches the freed timer service (ASan: heap-use-after-free in
  // ~basic_waitable_timer on a resolver thread). The strand copy is for posting only.
  struct WaiterRef {
    const Waiter* id;
    std::weak_ptr<Waiter> weak;
    asio::strand<asio::any_io_executor> strand;
  };
  struct Job {
    std::string host;
    std::uint16_t port = 0;
    int flags = 0;
    bool started = false;
    std::vector<WaiterRef> waiters;
  };

  explicit State(Limits l) : limits(l) {}

  void worker();
  // Under `m`: removes the finished job and posts the result to each waiter still
  // registered. Posting under the lock pairs with Waiter::unregister (also under the lock,
  // also from ~Waiter): a waiter found here has not unregistered, so its strand and
  // io_context are still there to post to. The posted handler holds only a weak reference:
  // if the io_context drops it unrun, nothing of the waiter is destroyed off its strand.
  void take_waiters(const std::string& key, const error_code& ec, const Endpoints& eps);

  const Limits limits;
  mutable std::mutex m;
  std::condition_variable cv;
  std::deque<std::string> queue;  // keys of jobs not started
  std::unordered_map<std::string, Job> jobs;
  unsigned threads = 0, idle = 0, running = 0;
  bool stopping = false;
};

Waiter::~Waiter() {
  // Reached without completing only when the io_context drops the timer's handler (it is
  // being destroyed): leave the job so its thread does not post here any more.
  if (done_) unregister();
}

void Waiter::complete(error_code ec, HostResolver::Endpoints eps) {
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  timer.cancel();
  unregister();
  done(ec, std::move(eps));
}

void Waiter::unregister() {
  auto state = state_.lock();
  if (!state) return;
  std::lock_guard lock(state->m);
  auto it = state->jobs.find(key_);
  if (it == state->jobs.end()) return;
  auto& w = it->second.waiters;
  std::erase_if(w, [this](const HostResolver::State::WaiterRef& r) {
    return r.id == this || r.weak.expired();
  });
  // Nobody waits and no thread has taken it: drop it, freeing its queue slot (a storm of
  // names that time out in the queue does not keep the queue full).
  if (w.empty() && !it->second.started) {
    if (auto q = std::find(state->queue.begin(), state->queue.end(), key_); q != state->queue.end())
      state->queue.erase(q);
    state->jobs.erase(it);
  }
}

void HostResolver::State::take_waiters(const std::string& key, const error_code& ec,
                                       const Endpoints& eps) {
  auto it = jobs.find(key);
  if (it == jobs.end()) return;
  auto waiters = std::move(it->second.waiters);
  jobs.erase(it);
  for (auto& r : waiters)
    asio::post(r.strand, [weak = std::move(r.weak), ec, eps] {
      if (auto w = weak.lock()) w->complete(ec, eps);
    });
}

void HostResolver::State::worker() {
  std::unique_lock lock(m);
  for (;;) {
    ++idle;
    cv.wait(lock, [&] { return stopping || !queue.empty(); });
    --idle;
    if (stopping) {
      --threads;
      return;
    }
    const std::string key = std::move(queue.front());
    queue.pop_front();
    auto& job = jobs.at(key);
    job.started = true;
    const std::string host = job.host;
    const std::string service = std::to_string(job.port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = job.flags;
    ++running;
    lock.unlock();

    // The blocking call this pool exists for; nothing can interrupt it, so its waiters'
    // timers answer them in the meantime and a late result finds nobody waiting.
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    error_code ec = translate_gai_error(rc);
    Endpoints eps;
    for (auto* ai = res; ai && !ec; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      tcp::endpoint ep;
      if (ai->ai_addrlen > ep.capacity()) continue;
      std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
      ep.resize(ai->ai_addrlen);
      eps.push_back(ep);
    }
    if (res) ::freeaddrinfo(res);
    if (!ec && eps.empty()) ec = asio::error::host_not_found;

    lock.lock();
    --running;
    take_waiters(key, ec, eps);
  }
}

HostResolver::HostResolver() : HostResolver(Limits{}) {}

HostResolver::HostResolver(Limits limits) : state_(std::make_shared<State>(limits)) {}

HostResolver::~HostResolver() {
  {
    std::lock_guard lock(state_->m);
    state_->stopping = true;
    for (const auto& key : state_->queue) state_->take_waiters(key, ResolveError::shut_down, {});
    state_->queue.clear();
  }
  state_->cv.notify_all();
  // The threads were detached when started: idle ones exit now, one inside getaddrinfo when
  // the call returns (it keeps `state_` alive through its own reference).
}

HostResolver& HostResolver::shared() {
  static HostResolver* const r = new HostResolver();  // leaked on purpose, see the header
  return *r;
}

HostResolver::Stats HostResolver::stats() const {
  std::lock_guard lock(state_->m);
  return {state_->threads, state_->running, state_->queue.size()};
}

std::shared_ptr<HostLookup> HostResolver::resolve(const asio::any_io_executor& ex, std::string host,
                                                  std::uint16_t port,
                                                  std::chrono::steady_clock::duration timeout,
                                                  Handler done, int flags) {
  std::string key = host + '\n' + std::to_string(port) + '\n' + std::to_string(flags);
  auto w = std::make_shared<Waiter>(ex, std::move(done), state_, key);
  std::optional<error_code> fail;
  {
    std::lock_guard lock(state_->m);
    auto& st = *state_;
    if (st.stopping) {
      fail = make_error_code(ResolveError::shut_down);
    } else if (auto it = st.jobs.find(key); it != st.jobs.end()) {
      it->second.waiters.push_back({w.get(), w, w->strand});  // the same name: share it
    } else if (st.queue.size() >= st.limits.max_queued) {
      fail = make_error_code(ResolveError::queue_full);
    } else {
      auto& job = st.jobs[key];
      job.host = std::move(host);
      job.port = port;
      job.flags = flags;
      job.waiters.push_back({w.get(), w, w->strand});
      st.queue.push_back(key);
      if (st.idle == 0 && st.threads < st.limits.threads) {
        try {
          // Detached: see ~HostResolver. The thread owns a reference to the state.
          std::thread([s = state_] { s->worker(); }).detach();
          ++st.threads;
        } catch (const std::system_error&) {
          // No thread now: the job waits for a busy one, bounded by its timeout.
        }
      }
      st.cv.notify_one();
    }
  }
  if (fail) {
    asio::post(w->strand, [w, ec = *fail] { w->complete(ec, {}); });
  } else {
    asio::dispatch(w->strand, [w, timeout] { w->arm(timeout); });
  }
  return w;
}

}  // namespace tlsprobe::proxy
