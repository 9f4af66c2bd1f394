// BalancedChannel: a Channel over the servers behind a target (rpc/target.h): a Resolver says
// which endpoints there are, a Balancer (rpc/balancer.h) picks one per call, and each endpoint
// is served by an ordinary Channel of its own (one connection, made when first used). The
// endpoint channels share one I/O thread. Made by
// Channel::Create for ipv4:, ipv6:, dns: and comma-separated targets.
//
// Failover: a call that ends UNAVAILABLE (the endpoint refused the connection, dropped it, or is
// shutting down) ejects its endpoint: balancers pass it over for ChannelOptions::eject_time,
// doubling after each further failure up to max_eject_time, and a call that succeeds on it
// re-admits it at once. The resolver is asked to resolve again after a failure. A server's
// GOAWAY drains its endpoint: calls already on it finish, and it is ejected as after a failure
// (the calls that finish there do not re-admit it before the ejection ends). A call the GOAWAY
// refused is sent to another endpoint (see below).
//
// A unary call that provably reached no handler (its server's connection could not be made, or
// the server's GOAWAY refused it: CallNeverSent) goes to another endpoint at once, whatever the
// method, as gRPC's transparent retry; it is not counted as an attempt. A stream, of any kind,
// is retried the same way until it commits: its writes are copied (up to 64 KiB) and replayed on
// the next endpoint, and it commits once the caller has been given a server message or the
// copies pass the bound (rpc/retrying_stream.h has the rules and the threading).
//
// Retries: unary calls of methods that ChannelOptions::service_config gives a retryPolicy
// (rpc/retry_policy.h) are tried again on a retryable code, each attempt picked anew, after a
// jittered exponential backoff, within the call's deadline and never after TryCancel(), and only
// while the retry budget (retryThrottling) allows. Methods with a hedgingPolicy are sent again
// to another endpoint every hedgingDelay until one answers (the others are cancelled). Streams
// are neither retried on a retryPolicy's codes nor hedged: only the transparent retry applies.
//
// Active health checks, off by default: a service config with a healthCheckConfig has every
// endpoint asked grpc.health.v1.Health/Check every ChannelOptions::health_check_interval
// (rpc/health_checker.h); an endpoint that answers NOT_SERVING is passed over, as an ejected one
// is, until it answers SERVING again. An endpoint not yet checked gets calls. When every endpoint
// is passed over, the balancer still picks one (rpc/balancer.h).
//
// Thread-safe, as any Channel. The endpoint channels, and the calls on them, end when the
// BalancedChannel is destroyed (its destructor waits for their completion callbacks).
#ifndef FRAMERPC_RPC_BALANCED_CHANNEL_H_
#define FRAMERPC_RPC_BALANCED_CHANNEL_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/balancer.h"
#include "rpc/channel.h"
#include "rpc/health_checker.h"
#include "rpc/resolver.h"
#include "rpc/retry_policy.h"
#include "rpc/target.h"

namespace framerpc {

class ChannelLoop;

class BalancedChannel final : public Channel {
 public:
  // `options` apply to every endpoint's channel (their observer aside, which Channel::Create
  // puts around this one). INVALID_ARGUMENT for an unknown load_balancing policy.
  static absl::StatusOr<std::unique_ptr<BalancedChannel>> Create(std::string text, Target target,
                                                                 ChannelOptions options);
  ~BalancedChannel() override;

  void StartCall(absl::string_view method, ClientContext* context,
                 const google::protobuf::MessageLite& request,
                 google::protobuf::MessageLite* response, DoneCallback done) override;
  absl::Status Call(absl::string_view method, ClientContext* context,
                    const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* response) override;
  std::unique_ptr<ClientStreamBase> StartStream(absl::string_view method, MethodKind kind,
                                                ClientContext* context,
                                                google::protobuf::MessageLite* response) override;
  // A call's context cancels it through the endpoint channel that carries it; a hedged call's,
  // through this channel, which cancels every attempt.
  void CancelCall(uint64_t call_id) override;
  const std::string& target() const override { return text_; }

  // The endpoints now, in the resolver's order (for tests and status pages).
  std::vector<std::string> endpoints() const;
  // Waits until the last health check of endpoint `address` said `serving`, or `deadline`;
  // whether it did. Always false without health checks (for tests and readiness).
  bool WaitForHealth(absl::string_view address, bool serving, absl::Time deadline) const;
  // Waits until endpoint `address` has been drained by its server's GOAWAY, or `deadline`;
  // whether it was (for tests).
  bool WaitForDrained(absl::string_view address, absl::Time deadline) const;

  struct Endpoint;
  class RetryTimer;
  struct AsyncCall;
  struct Hedge;

 private:
  BalancedChannel(std::string text, ChannelOptions options, std::unique_ptr<Resolver> resolver,
                  std::unique_ptr<Balancer> balancer);

  void OnResolved(absl::StatusOr<std::vector<std::string>> result);
  // Gives the health checker the endpoints now. Requires mu_.
  void ProbeLocked();
  void HealthReported(Endpoint& endpoint, bool serving);
  // The endpoint for a call with `context`, waiting up to the connect timeout (and the call's
  // deadline) for a first resolution. UNAVAILABLE when there is none.
  absl::StatusOr<std::shared_ptr<Endpoint>> Pick(const ClientContext& context);
  // How the call on `endpoint` ended: ejects it on UNAVAILABLE, re-admits it otherwise (unless
  // it is draining).
  void Finished(Endpoint& endpoint, const absl::Status& status);
  // The server of `endpoint` sent GOAWAY: ejects it.
  void Drained(Endpoint& endpoint);
  // Requires endpoint.mu. Passes `endpoint` over for its next backoff (eject_time, doubling up to
  // max_eject_time) and asks the resolver to resolve again.
  void EjectLocked(Endpoint& endpoint);
  // Whether a call that ended with `status` on `endpoint` never left this process and has an
  // endpoint left to go to (transparent retry); records `endpoint` in `unsent` if it did.
  bool SendElsewhere(const absl::Status& status, const ClientContext& context,
                     const Endpoint* endpoint, std::vector<const Endpoint*>* unsent);
  // Whether attempt `attempt` (1-based) of a call under `policy` that ended with `status` is
  // tried again; counts the outcome against the retry budget.
  bool ShouldRetry(const RetryPolicy* policy, const absl::Status& status, int attempt,
                   const ClientContext& context);
  // The wait before the next attempt: uniform in [0, backoff), as gRPC waits.
  absl::Duration Jitter(absl::Duration backoff);
  void StartAttempt(std::shared_ptr<AsyncCall> call);
  // Hedging: starts the call's next attempt on an endpoint it has not used yet (if any is left).
  void StartHedge(const std::shared_ptr<Hedge>& hedge);
  void HedgeEnded(const std::shared_ptr<Hedge>& hedge, size_t attempt, absl::Status status);
  absl::StatusOr<std::shared_ptr<Endpoint>> Pick(const ClientContext& context,
                                                 const std::vector<const Endpoint*>& avoid);

  const std::string text_;
  const ChannelOptions options_;
  // The I/O thread every endpoint channel runs on: a call started from one endpoint's completion
  // callback goes out on the same thread, without waking another.
  const std::shared_ptr<ChannelLoop> io_;
  const std::unique_ptr<Balancer> balancer_;
  std::unique_ptr<ServiceConfig> config_;     // null: no retries
  std::unique_ptr<RetryTimer> retry_timer_;   // async retries wait here; made with config_
  std::mutex hedges_mu_;
  uint64_t next_hedge_id_ = 1;                                  // guarded by hedges_mu_
  std::map<uint64_t, std::weak_ptr<Hedge>> hedges_;             // guarded by hedges_mu_
  mutable std::mutex mu_;
  std::condition_variable resolved_;
  // With mu_: a health report came, or an endpoint was drained.
  mutable std::condition_variable health_changed_;
  std::vector<std::shared_ptr<Endpoint>> endpoints_;  // guarded by mu_
  // Endpoints a resolution dropped: kept until the channel goes, since calls on them may still
  // be running and report to them.
  std::vector<std::shared_ptr<Endpoint>> retired_;  // guarded by mu_
  // Guarded by mu_: being destroyed; resolutions are ignored, new calls end CANCELLED.
  bool closed_ = false;
  std::atomic<bool> closing_{false};                 // no more resolution requests
  absl::Status resolve_error_;                        // guarded by mu_: the last failure
  bool has_resolved_ = false;                         // guarded by mu_
  // Declared last, so destroyed first: it stops calling OnResolved before the rest goes.
  std::unique_ptr<Resolver> resolver_;
  // Null without a healthCheckConfig. Stopped first in the destructor: its reports go to
  // endpoints.
  std::unique_ptr<HealthChecker> health_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_BALANCED_CHANNEL_H_
