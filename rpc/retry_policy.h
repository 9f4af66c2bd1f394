// Retries for BalancedChannel, configured as gRPC's service config configures them (a JSON
// document in ChannelOptions::service_config):
//
//   {"methodConfig": [{"name": [{"service": "framerpc.echo.EchoService", "method": "Say"}],
//                      "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.1s",
//                                      "maxBackoff": "1s", "backoffMultiplier": 2,
//                                      "retryableStatusCodes": ["UNAVAILABLE"]}}],
//    "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}}
//
// or, instead of a retryPolicy, a "hedgingPolicy": {"maxAttempts": 2, "hedgingDelay": "0.02s",
// "nonFatalStatusCodes": ["UNAVAILABLE"]} (see HedgingPolicy). A top-level
// "healthCheckConfig": {"serviceName": "package.Service"} turns on active health checks of that
// service name ("" or no serviceName: the server as a whole); see rpc/health_checker.h.
//
// A name without "method" covers the whole service. maxAttempts is capped at 5. The throttle is
// gRPC's retry budget: every failure with a retryable code takes a token, every success gives
// back tokenRatio, and retries stop while the tokens are at or below half of maxTokens, so that
// retries add a bounded fraction of load to servers that are failing.
//
// Immutable once parsed, apart from the throttle's tokens (thread-safe).
#ifndef FRAMERPC_RPC_RETRY_POLICY_H_
#define FRAMERPC_RPC_RETRY_POLICY_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace framerpc {

// Hedging (brpc's backup requests): the call is sent again, to another endpoint, every
// `delay` while no answer has come, up to `max_attempts` in all; the first OK answer wins and the
// other attempts are cancelled. A non-fatal code sends the next attempt at once. For methods
// that are safe to run twice (idempotent) only.
struct HedgingPolicy {
  int max_attempts = 1;
  absl::Duration delay = absl::ZeroDuration();
  std::set<absl::StatusCode> non_fatal;
};

struct RetryPolicy {
  int max_attempts = 1;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
  double backoff_multiplier = 2;
  std::set<absl::StatusCode> retryable;
};

class RetryThrottle {
 public:
  RetryThrottle(double max_tokens, double token_ratio)
      : max_tokens_(max_tokens), token_ratio_(token_ratio), tokens_(max_tokens) {}
  // A call (attempt) ended with a retryable failure, or succeeded.
  void OnFailure();
  void OnSuccess();
  bool RetryAllowed() const;

 private:
  const double max_tokens_;
  const double token_ratio_;
  mutable std::mutex mu_;
  double tokens_;  // guarded by mu_
};

// A policy per method ("package.Service/Method") or per whole service ("package.Service"); a
// method's own entry wins.
template <typename Policy>
class PolicyTable {
 public:
  void Set(const std::string& service, const std::string& method, const Policy& policy) {
    if (method.empty()) {
      by_service_[service] = policy;
    } else {
      by_method_[service + "/" + method] = policy;
    }
  }
  // For "/package.Service/Method" (the leading slash optional); null when none applies.
  const Policy* Find(absl::string_view method) const {
    if (!method.empty() && method.front() == '/') method.remove_prefix(1);
    if (auto it = by_method_.find(method); it != by_method_.end()) return &it->second;
    if (auto it = by_service_.find(method.substr(0, method.find('/')));
        it != by_service_.end()) {
      return &it->second;
    }
    return nullptr;
  }

 private:
  std::map<std::string, Policy, std::less<>> by_method_;
  std::map<std::string, Policy, std::less<>> by_service_;
};

class ServiceConfig {
 public:
  // INVALID_ARGUMENT naming what is wrong (not JSON, a bad duration, an unknown code, ...).
  static absl::StatusOr<std::unique_ptr<ServiceConfig>> Parse(absl::string_view json);

  // The policy for "/package.Service/Method", or null when it has none.
  const RetryPolicy* PolicyFor(absl::string_view method) const { return retry_.Find(method); }
  const HedgingPolicy* HedgingFor(absl::string_view method) const {
    return hedging_.Find(method);
  }
  // Null when the config sets no retryThrottling.
  RetryThrottle* throttle() const { return throttle_.get(); }
  // The service name to health-check; empty when the config has no healthCheckConfig.
  const std::optional<std::string>& health_check_service() const { return health_service_; }

 private:
  PolicyTable<RetryPolicy> retry_;
  PolicyTable<HedgingPolicy> hedging_;
  std::unique_ptr<RetryThrottle> throttle_;
  std::optional<std::string> health_service_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_RETRY_POLICY_H_
