#include "rpc/balanced_channel.h"

#include <algorithm>
#include <map>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/call_access.h"
#include "rpc/client_stream.h"
#include "rpc/retrying_stream.h"
#include "rpc/stream_channel.h"

namespace framerpc {

struct BalancedChannel::Endpoint {
  explicit Endpoint(std::string address_in) : address(std::move(address_in)) {}
  const std::string address;
  std::unique_ptr<Channel> channel;  // set once, before the endpoint is shared
  std::atomic<int64_t> in_flight{0};
  std::mutex mu;
  absl::Time ejected_until = absl::InfinitePast();  // guarded by mu
  absl::Duration backoff = absl::ZeroDuration();    // guarded by mu: the next ejection's length
  // Guarded by mu: the server sent GOAWAY, so calls that succeed (on the draining connection) do
  // not re-admit it before ejected_until.
  bool draining = false;
  // The last health check's verdict (health checks on only).
  enum Health { kUnchecked, kServing, kNotServing };
  std::atomic<int> health{kUnchecked};
};

// Runs tasks at their times on a thread of its own; tasks still waiting when it is destroyed run
// then, at once (they end their calls with CANCELLED).
class BalancedChannel::RetryTimer {
 public:
  RetryTimer() : thread_([this] { Run(); }) {}
  ~RetryTimer() { Stop(); }
  // Runs the waiting tasks with stopping=true and joins the thread. Idempotent. A task given to
  // At() afterwards (by a task that was running, or a call's callback) runs at once, stopping.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void At(absl::Time when, std::function<void(bool stopping)> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        tasks_.emplace(when, std::move(task));
        wake_.notify_all();
        return;
      }
    }
    task(/*stopping=*/true);
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (stopping_) {
        auto tasks = std::move(tasks_);
        lock.unlock();
        for (auto& [when, task] : tasks) task(/*stopping=*/true);
        return;
      }
      if (tasks_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const absl::Time when = tasks_.begin()->first;
      if (absl::Now() < when) {
        wake_.wait_until(lock, absl::ToChronoTime(when));
        continue;
      }
      auto task = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
      lock.unlock();
      task(/*stopping=*/false);
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                                          // guarded by mu_
  std::multimap<absl::Time, std::function<void(bool)>> tasks_;     // guarded by mu_
  std::thread thread_;
};

// An asynchronous unary call and its attempts so far.
struct BalancedChannel::AsyncCall {
  std::string method;
  ClientContext* context;
  // A copy: the caller's request is only valid during StartCall, and any call may be sent again
  // later (a retry, or a transparent retry when its connection could not be made).
  std::unique_ptr<google::protobuf::MessageLite> request;
  google::protobuf::MessageLite* response;
  DoneCallback done;
  const RetryPolicy* policy;
  int attempt = 0;
  absl::Duration backoff;
  // Endpoints whose connection could not be made for this call (CallNeverSent): it goes to
  // another at once, whatever its policy.
  std::vector<const Endpoint*> unsent;
};

// A hedged unary call: its attempts, each with a context and a response of its own.
struct BalancedChannel::Hedge {
  uint64_t id = 0;
  std::string method;
  const HedgingPolicy* policy = nullptr;
  ClientContext* user = nullptr;  // the caller's
  google::protobuf::MessageLite* user_response = nullptr;
  std::unique_ptr<google::protobuf::MessageLite> request;  // a copy: attempts start later
  DoneCallback done;
  std::mutex mu;
  bool finished = false;  // guarded by mu: done has been (or is being) called
  size_t ended = 0;       // guarded by mu
  absl::Status last_error = absl::UnavailableError("no attempt ended");  // guarded by mu
  // Guarded by mu; grow only. The contexts and responses live as long as the Hedge, which the
  // attempts' callbacks keep alive.
  std::vector<std::unique_ptr<ClientContext>> contexts;
  std::vector<std::unique_ptr<google::protobuf::MessageLite>> responses;
  std::vector<const Endpoint*> used;
};

absl::StatusOr<std::unique_ptr<BalancedChannel>> BalancedChannel::Create(std::string text,
                                                                        Target target,
                                                                        ChannelOptions options) {
  absl::StatusOr<std::unique_ptr<Balancer>> balancer = NewBalancer(options.load_balancing);
  if (!balancer.ok()) return balancer.status();
  if (options.eject_time <= absl::ZeroDuration() || options.max_eject_time < options.eject_time) {
    return absl::InvalidArgumentError(
        "ChannelOptions::eject_time must be positive and at most max_eject_time");
  }
  std::unique_ptr<Resolver> resolver;
  if (target.kind == Target::Kind::kRegistered) {
    ResolverFactory factory = FindResolverScheme(target.scheme);
    if (factory == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("no resolver for '", target.scheme, ":'"));
    }
    absl::StatusOr<std::unique_ptr<Resolver>> made = factory(text);
    if (!made.ok()) return made.status();
    resolver = *std::move(made);
  } else if (target.kind == Target::Kind::kDns) {
    resolver = NewDnsResolver(target.host, target.port, options.resolve_interval);
  } else {
    resolver = NewStaticResolver(target.addresses);
  }
  std::unique_ptr<ServiceConfig> config;
  if (!options.service_config.empty()) {
    absl::StatusOr<std::unique_ptr<ServiceConfig>> parsed =
        ServiceConfig::Parse(options.service_config);
    if (!parsed.ok()) return parsed.status();
    config = *std::move(parsed);
  }
  options.observer = nullptr;  // Channel::Create observes the balanced channel as a whole
  std::unique_ptr<BalancedChannel> channel(new BalancedChannel(
      std::move(text), std::move(options), std::move(resolver), *std::move(balancer)));
  if (config != nullptr) {
    channel->config_ = std::move(config);
    channel->retry_timer_ = std::make_unique<RetryTimer>();
    if (const auto& service = channel->config_->health_check_service(); service.has_value()) {
      if (channel->options_.health_check_interval <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError(
            "ChannelOptions::health_check_interval must be positive");
      }
      channel->health_ =
          std::make_unique<HealthChecker>(*service, channel->options_.health_check_interval);
    }
  }
  channel->resolver_->Start(
      [raw = channel.get()](absl::StatusOr<std::vector<std::string>> result) {
        raw->OnResolved(std::move(result));
      });
  return channel;
}

BalancedChannel::BalancedChannel(std::string text, ChannelOptions options,
                                 std::unique_ptr<Resolver> resolver,
                                 std::unique_ptr<Balancer> balancer)
    : text_(std::move(text)),
      options_(std::move(options)),
      io_(std::make_shared<ChannelLoop>(options_.busy_poll)),
      balancer_(std::move(balancer)),
      resolver_(std::move(resolver)) {}

BalancedChannel::~BalancedChannel() {
  closing_.store(true);
  if (health_ != nullptr) health_->Stop();
  // Waiting retries and hedges end now, with CANCELLED; the timer object stays until the end,
  // as the calls' callbacks below may still hand it tasks (run at once, stopping).
  if (retry_timer_ != nullptr) retry_timer_->Stop();
  std::vector<std::shared_ptr<Endpoint>> endpoints;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    endpoints.swap(endpoints_);
    resolved_.notify_all();  // a Pick waiting for endpoints gives up
    for (auto& e : retired_) endpoints.push_back(std::move(e));
    retired_.clear();
  }
  // Every endpoint channel ends its calls, and the I/O thread they share stops; their callbacks
  // report to endpoints that are still alive here. Then the channels go.
  io_->Stop();
  endpoints.clear();
  resolver_.reset();
}

void BalancedChannel::OnResolved(absl::StatusOr<std::vector<std::string>> result) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  has_resolved_ = true;
  if (!result.ok()) {
    resolve_error_ = result.status();  // the last endpoints stay
  } else {
    std::vector<std::shared_ptr<Endpoint>> next;
    for (const std::string& address : *result) {
      auto kept = std::find_if(endpoints_.begin(), endpoints_.end(),
                               [&](const auto& e) { return e->address == address; });
      if (kept != endpoints_.end()) {
        next.push_back(*kept);
        continue;
      }
      auto endpoint = std::make_shared<Endpoint>(address);
      EndpointHooks hooks;
      hooks.shared_loop = io_;
      // The endpoint outlives its channel, and the channel its hooks.
      hooks.on_goaway = [this, raw = endpoint.get()] { Drained(*raw); };
      absl::StatusOr<std::unique_ptr<Channel>> channel =
          CreateAddressChannel(address, options_, std::move(hooks));
      if (!channel.ok()) {
        resolve_error_ = channel.status();
        continue;
      }
      endpoint->channel = *std::move(channel);
      next.push_back(std::move(endpoint));
    }
    for (auto& old : endpoints_) {
      if (std::find(next.begin(), next.end(), old) == next.end()) retired_.push_back(old);
    }
    endpoints_ = std::move(next);
    if (endpoints_.empty() && resolve_error_.ok()) {
      resolve_error_ = absl::UnavailableError("the resolver returned no endpoint");
    }
    ProbeLocked();
  }
  resolved_.notify_all();
}

void BalancedChannel::ProbeLocked() {
  if (health_ == nullptr) return;
  std::vector<HealthChecker::Probe> probes;
  for (const auto& e : endpoints_) {
    Endpoint* raw = e.get();  // lives as long as this channel (retired_ keeps it)
    probes.push_back({raw->channel.get(), [this, raw](bool serving) {
                        HealthReported(*raw, serving);
                      }});
  }
  health_->SetProbes(std::move(probes));
}

void BalancedChannel::HealthReported(Endpoint& endpoint, bool serving) {
  endpoint.health.store(serving ? Endpoint::kServing : Endpoint::kNotServing);
  std::lock_guard<std::mutex> lock(mu_);
  health_changed_.notify_all();
}

bool BalancedChannel::WaitForHealth(absl::string_view address, bool serving,
                                    absl::Time deadline) const {
  const int wanted = serving ? Endpoint::kServing : Endpoint::kNotServing;
  std::unique_lock<std::mutex> lock(mu_);
  return health_changed_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
    for (const auto& e : endpoints_) {
      if (e->address == address && e->health.load() == wanted) return true;
    }
    return false;
  });
}

bool BalancedChannel::SendElsewhere(const absl::Status& status, const ClientContext& context,
                                    const Endpoint* endpoint,
                                    std::vector<const Endpoint*>* unsent) {
  if (!CallNeverSent(status) || context.cancel_requested() ||
      std::find(unsent->begin(), unsent->end(), endpoint) != unsent->end()) {
    return false;
  }
  unsent->push_back(endpoint);
  std::lock_guard<std::mutex> lock(mu_);
  return unsent->size() < endpoints_.size();
}

std::vector<std::string> BalancedChannel::endpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : endpoints_) out.push_back(e->address);
  return out;
}

absl::StatusOr<std::shared_ptr<BalancedChannel::Endpoint>> BalancedChannel::Pick(
    const ClientContext& context) {
  return Pick(context, {});
}

absl::StatusOr<std::shared_ptr<BalancedChannel::Endpoint>> BalancedChannel::Pick(
    const ClientContext& context, const std::vector<const Endpoint*>& avoid) {
  absl::string_view hash;
  if (!options_.hash_key.empty()) {
    for (const auto& [key, value] : context.metadata()) {
      if (key == options_.hash_key) {
        hash = value;
        break;
      }
    }
  }
  // Reused by every pick on this thread: a pick allocates nothing.
  thread_local std::vector<EndpointView> views;
  std::unique_lock<std::mutex> lock(mu_);
  if (endpoints_.empty() && !closed_) {
    const absl::Time wait_until = std::min(absl::Now() + options_.connect_timeout,
                                           context.deadline());
    resolved_.wait_until(lock, absl::ToChronoTime(wait_until),
                         [this] { return closed_ || !endpoints_.empty(); });
  }
  if (closed_) return absl::CancelledError("channel destroyed");
  if (endpoints_.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "no endpoint for ", text_,
        resolve_error_.ok() ? std::string(has_resolved_ ? "" : ": not resolved yet")
                            : absl::StrCat(": ", resolve_error_.message())));
  }
  const absl::Time now = absl::Now();
  views.resize(endpoints_.size());
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    Endpoint& endpoint = *endpoints_[i];
    views[i].address = endpoint.address;
    views[i].in_flight = endpoint.in_flight.load(std::memory_order_relaxed);
    std::lock_guard<std::mutex> endpoint_lock(endpoint.mu);
    views[i].ejected = endpoint.ejected_until > now ||
                       endpoint.health.load() == Endpoint::kNotServing ||
                       std::find(avoid.begin(), avoid.end(), &endpoint) != avoid.end();
  }
  std::shared_ptr<Endpoint> chosen = endpoints_[balancer_->Pick(views, hash)];
  chosen->in_flight.fetch_add(1, std::memory_order_relaxed);
  return chosen;
}

void BalancedChannel::Finished(Endpoint& endpoint, const absl::Status& status) {
  endpoint.in_flight.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(endpoint.mu);
  if (absl::IsUnavailable(status)) {
    EjectLocked(endpoint);
  } else if (!endpoint.draining || absl::Now() >= endpoint.ejected_until) {
    endpoint.draining = false;
    endpoint.backoff = absl::ZeroDuration();
    endpoint.ejected_until = absl::InfinitePast();
  }
}

void BalancedChannel::EjectLocked(Endpoint& endpoint) {
  endpoint.backoff = endpoint.backoff == absl::ZeroDuration()
                         ? options_.eject_time
                         : std::min(endpoint.backoff * 2, options_.max_eject_time);
  endpoint.ejected_until = absl::Now() + endpoint.backoff;
  if (!closing_.load()) resolver_->RequestResolution();
}

void BalancedChannel::Drained(Endpoint& endpoint) {
  {
    std::lock_guard<std::mutex> lock(endpoint.mu);
    endpoint.draining = true;
    EjectLocked(endpoint);
  }
  std::lock_guard<std::mutex> lock(mu_);
  health_changed_.notify_all();
}

bool BalancedChannel::WaitForDrained(absl::string_view address, absl::Time deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  return health_changed_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
    for (const auto& e : endpoints_) {
      if (e->address != address) continue;
      std::lock_guard<std::mutex> endpoint_lock(e->mu);
      return e->draining;
    }
    return false;
  });
}

bool BalancedChannel::ShouldRetry(const RetryPolicy* policy, const absl::Status& status,
                                  int attempt, const ClientContext& context) {
  if (policy == nullptr) return false;
  RetryThrottle* throttle = config_->throttle();
  const bool retryable = policy->retryable.count(status.code()) > 0;
  if (throttle != nullptr) {
    if (status.ok()) throttle->OnSuccess();
    if (retryable) throttle->OnFailure();
  }
  return retryable && attempt < policy->max_attempts && !context.cancel_requested() &&
         (throttle == nullptr || throttle->RetryAllowed());
}

absl::Duration BalancedChannel::Jitter(absl::Duration backoff) {
  thread_local std::minstd_rand random{std::random_device{}()};
  return backoff * std::uniform_real_distribution<double>(0, 1)(random);
}

void BalancedChannel::StartAttempt(std::shared_ptr<AsyncCall> call) {
  ++call->attempt;
  absl::StatusOr<std::shared_ptr<Endpoint>> endpoint = Pick(*call->context, call->unsent);
  if (!endpoint.ok()) {
    call->done(endpoint.status());
    return;
  }
  // A raw pointer: the callback runs on the endpoint channel's thread, and must not hold the
  // last reference to what owns that thread. The endpoint lives as long as this channel.
  Endpoint* raw = endpoint->get();
  raw->channel->StartCall(
      call->method, call->context, *call->request, call->response,
      [this, raw, call](absl::Status status) {
        Finished(*raw, status);
        if (SendElsewhere(status, *call->context, raw, &call->unsent)) {
          --call->attempt;  // transparent: not an attempt of the policy's
          call->response->Clear();
          StartAttempt(call);
          return;
        }
        if (call->policy == nullptr) {  // no retries: the common case, without a clock read
          call->done(std::move(status));
          return;
        }
        const absl::Time retry_at = absl::Now() + Jitter(call->backoff);
        if (!ShouldRetry(call->policy, status, call->attempt, *call->context) ||
            retry_at >= call->context->deadline()) {
          call->done(std::move(status));
          return;
        }
        call->backoff = std::min(call->backoff * call->policy->backoff_multiplier,
                                 call->policy->max_backoff);
        retry_timer_->At(retry_at, [this, call](bool stopping) {
          if (stopping) {
            call->done(absl::CancelledError("the channel was destroyed before a retry"));
            return;
          }
          call->response->Clear();
          StartAttempt(call);
        });
      });
}

void BalancedChannel::StartHedge(const std::shared_ptr<Hedge>& hedge) {
  size_t attempt;
  ClientContext* context;
  google::protobuf::MessageLite* response;
  std::shared_ptr<Endpoint> endpoint;
  bool cancel_requested;
  {
    // hedge->user (the caller's context) is alive only while the hedge is not finished: once
    // another attempt finishes it and calls done, the caller may return and free it. So it is
    // read here, under the lock, and never after.
    std::lock_guard<std::mutex> lock(hedge->mu);
    if (hedge->finished || hedge->contexts.size() >= static_cast<size_t>(hedge->policy->max_attempts)) {
      return;
    }
    absl::StatusOr<std::shared_ptr<Endpoint>> picked = Pick(*hedge->user, hedge->used);
    if (!picked.ok()) {
      if (hedge->contexts.empty()) {
        hedge->finished = true;
        hedge->last_error = picked.status();
      }
      if (!hedge->finished) return;
    } else {
      endpoint = *std::move(picked);
      hedge->used.push_back(endpoint.get());
      auto attempt_context = std::make_unique<ClientContext>();
      attempt_context->set_deadline(hedge->user->deadline());
      for (const auto& [key, value] : hedge->user->metadata()) {
        attempt_context->AddMetadata(key, value);
      }
      attempt_context->set_request_attachment(hedge->user->request_attachment());
      hedge->contexts.push_back(std::move(attempt_context));
      hedge->responses.emplace_back(hedge->user_response->New());
    }
    attempt = hedge->contexts.size() - 1;
    cancel_requested = hedge->user->cancel_requested();
    context = endpoint != nullptr ? hedge->contexts[attempt].get() : nullptr;
    response = endpoint != nullptr ? hedge->responses[attempt].get() : nullptr;
  }
  if (endpoint == nullptr) {  // nothing to pick for the first attempt
    absl::Status status = hedge->last_error;
    ClientCallAccess::Unbind(hedge->user);
    hedge->done(std::move(status));
    return;
  }
  if (cancel_requested) context->TryCancel();
  Endpoint* raw = endpoint.get();
  raw->channel->StartCall(hedge->method, context, *hedge->request, response,
                          [this, raw, hedge, attempt](absl::Status status) {
                            Finished(*raw, status);
                            HedgeEnded(hedge, attempt, std::move(status));
                          });
  // The next hedge, unless an answer comes first.
  retry_timer_->At(absl::Now() + hedge->policy->delay, [this, hedge](bool stopping) {
    if (!stopping) StartHedge(hedge);
  });
}

void BalancedChannel::HedgeEnded(const std::shared_ptr<Hedge>& hedge, size_t attempt,
                                 absl::Status status) {
  bool finish = false;
  bool next = false;
  std::vector<ClientContext*> others;
  {
    std::lock_guard<std::mutex> lock(hedge->mu);
    ++hedge->ended;
    if (hedge->finished) return;
    const bool non_fatal =
        hedge->policy->non_fatal.count(status.code()) > 0 || CallNeverSent(status);
    if (status.ok() || !non_fatal) {
      finish = true;
    } else {
      hedge->last_error = status;
      next = hedge->contexts.size() < static_cast<size_t>(hedge->policy->max_attempts) &&
             !hedge->user->cancel_requested();
      finish = !next && hedge->ended == hedge->contexts.size();
      if (finish) status = hedge->last_error;
    }
    if (finish) {
      hedge->finished = true;
      for (size_t i = 0; i < hedge->contexts.size(); ++i) {
        if (i != attempt) others.push_back(hedge->contexts[i].get());
      }
      if (status.ok()) {
        hedge->user_response->Clear();
        hedge->user_response->CheckTypeAndMergeFrom(*hedge->responses[attempt]);
        *ClientCallAccess::mutable_response_attachment(hedge->user) =
            hedge->contexts[attempt]->response_attachment();
      }
    }
  }
  if (next) {
    StartHedge(hedge);
    return;
  }
  if (!finish) return;
  for (ClientContext* other : others) other->TryCancel();
  {
    std::lock_guard<std::mutex> lock(hedges_mu_);
    hedges_.erase(hedge->id);
  }
  ClientCallAccess::Unbind(hedge->user);
  hedge->done(std::move(status));
}

void BalancedChannel::CancelCall(uint64_t call_id) {
  std::shared_ptr<Hedge> hedge;
  {
    std::lock_guard<std::mutex> lock(hedges_mu_);
    auto it = hedges_.find(call_id);
    if (it != hedges_.end()) hedge = it->second.lock();
  }
  if (hedge == nullptr) return;
  std::vector<ClientContext*> contexts;
  {
    std::lock_guard<std::mutex> lock(hedge->mu);
    for (auto& c : hedge->contexts) contexts.push_back(c.get());
  }
  for (ClientContext* c : contexts) c->TryCancel();
}

void BalancedChannel::StartCall(absl::string_view method, ClientContext* context,
                                const google::protobuf::MessageLite& request,
                                google::protobuf::MessageLite* response, DoneCallback done) {
  if (const HedgingPolicy* hedging = config_ != nullptr ? config_->HedgingFor(method) : nullptr;
      hedging != nullptr) {
    auto hedge = std::make_shared<Hedge>();
    hedge->method = std::string(method);
    hedge->policy = hedging;
    hedge->user = context;
    hedge->user_response = response;
    hedge->request.reset(request.New());
    hedge->request->CheckTypeAndMergeFrom(request);
    hedge->done = std::move(done);
    {
      std::lock_guard<std::mutex> lock(hedges_mu_);
      hedge->id = next_hedge_id_++;
      hedges_[hedge->id] = hedge;
    }
    // TryCancel() on the caller's context now reaches CancelCall, which cancels every attempt.
    ClientCallAccess::Bind(context, this, hedge->id);
    StartHedge(hedge);
    return;
  }
  auto call = std::make_shared<AsyncCall>();
  call->method = std::string(method);
  call->context = context;
  call->request.reset(request.New());
  call->request->CheckTypeAndMergeFrom(request);
  call->response = response;
  call->done = std::move(done);
  call->policy = config_ != nullptr ? config_->PolicyFor(method) : nullptr;
  if (call->policy != nullptr) call->backoff = call->policy->initial_backoff;
  StartAttempt(std::move(call));
}

absl::Status BalancedChannel::Call(absl::string_view method, ClientContext* context,
                                   const google::protobuf::MessageLite& request,
                                   google::protobuf::MessageLite* response) {
  if (config_ != nullptr && config_->HedgingFor(method) != nullptr) {
    return Channel::Call(method, context, request, response);  // StartCall, and wait
  }
  const RetryPolicy* policy = config_ != nullptr ? config_->PolicyFor(method) : nullptr;
  absl::Duration backoff = policy != nullptr ? policy->initial_backoff : absl::ZeroDuration();
  std::vector<const Endpoint*> unsent;  // see AsyncCall::unsent
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::shared_ptr<Endpoint>> endpoint = Pick(*context, unsent);
    if (!endpoint.ok()) return endpoint.status();
    absl::Status status = (*endpoint)->channel->Call(method, context, request, response);
    Finished(**endpoint, status);
    if (SendElsewhere(status, *context, endpoint->get(), &unsent)) {
      --attempt;  // transparent: not an attempt of the policy's
      response->Clear();
      continue;
    }
    if (!ShouldRetry(policy, status, attempt, *context)) return status;
    const absl::Duration wait = Jitter(backoff);
    if (absl::Now() + wait >= context->deadline()) return status;
    absl::SleepFor(wait);  // the backoff itself, between attempts of this caller's call
    backoff = std::min(backoff * policy->backoff_multiplier, policy->max_backoff);
    response->Clear();
  }
}

std::unique_ptr<ClientStreamBase> BalancedChannel::StartStream(
    absl::string_view method, MethodKind kind, ClientContext* context,
    google::protobuf::MessageLite* response) {
  // Each attempt goes to an endpoint no earlier attempt of this stream refused (see
  // AsyncCall::unsent); the opener is only ever called by one thread at a time.
  RetryingStream::Opener open =
      [this, method = std::string(method), kind, context, response,
       unsent = std::vector<const Endpoint*>(), last = static_cast<const Endpoint*>(nullptr)](
          const absl::Status* failed, StreamEndHook hook) mutable -> absl::StatusOr<StreamAttempt> {
    if (failed != nullptr && !SendElsewhere(*failed, *context, last, &unsent)) return *failed;
    absl::StatusOr<std::shared_ptr<Endpoint>> endpoint = Pick(*context, unsent);
    if (!endpoint.ok()) return endpoint.status();
    // The endpoint lives as long as this channel (retired_ keeps it), as the stream must.
    Endpoint* raw = endpoint->get();
    last = raw;
    StreamAttempt attempt;
    attempt.stream =
        StartObservedStream(raw->channel.get(), method, kind, context, response, std::move(hook));
    attempt.observed = attempt.stream != nullptr;
    if (!attempt.observed) attempt.stream = raw->channel->StartStream(method, kind, context, response);
    attempt.report = [this, raw](const absl::Status& status) { Finished(*raw, status); };
    return attempt;
  };
  return RetryingStream::Start(context, std::move(open), [io = io_](std::function<void()> task) {
    io->loop()->QueueInLoop(std::move(task));
  });
}

}  // namespace framerpc
