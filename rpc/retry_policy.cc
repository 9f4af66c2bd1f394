#include "rpc/retry_policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace framerpc {
namespace {

using Json = nlohmann::json;

// "0.1s", "2s": protobuf's JSON form of a Duration.
absl::StatusOr<absl::Duration> ParseSeconds(const Json& value, const std::string& field) {
  double seconds = 0;
  if (!value.is_string() || !absl::EndsWith(value.get<std::string>(), "s") ||
      !absl::SimpleAtod(absl::StripSuffix(value.get<std::string>(), "s"), &seconds) ||
      seconds <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("service config: ", field, " must be a positive duration like \"0.1s\""));
  }
  return absl::Seconds(seconds);
}

absl::StatusOr<absl::StatusCode> ParseCode(const Json& value) {
  if (value.is_string()) {
    for (int code = 1; code <= 16; ++code) {
      if (value.get<std::string>() == absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
        return static_cast<absl::StatusCode>(code);
      }
    }
  }
  if (value.is_number_integer() && value.get<int>() >= 1 && value.get<int>() <= 16) {
    return static_cast<absl::StatusCode>(value.get<int>());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("service config: unknown status code ", value.dump()));
}

absl::StatusOr<RetryPolicy> ParsePolicy(const Json& json) {
  RetryPolicy policy;
  if (!json.is_object() || !json.contains("maxAttempts") ||
      !json["maxAttempts"].is_number_integer() || json["maxAttempts"].get<int>() < 2) {
    return absl::InvalidArgumentError("service config: retryPolicy.maxAttempts must be at least 2");
  }
  policy.max_attempts = std::min(json["maxAttempts"].get<int>(), 5);
  for (const char* field : {"initialBackoff", "maxBackoff"}) {
    if (!json.contains(field)) {
      return absl::InvalidArgumentError(absl::StrCat("service config: retryPolicy.", field,
                                                     " is required"));
    }
  }
  absl::StatusOr<absl::Duration> initial = ParseSeconds(json["initialBackoff"], "initialBackoff");
  if (!initial.ok()) return initial.status();
  absl::StatusOr<absl::Duration> max = ParseSeconds(json["maxBackoff"], "maxBackoff");
  if (!max.ok()) return max.status();
  policy.initial_backoff = *initial;
  policy.max_backoff = *max;
  if (!json.contains("backoffMultiplier") || !json["backoffMultiplier"].is_number() ||
      json["backoffMultiplier"].get<double>() <= 0) {
    return absl::InvalidArgumentError(
        "service config: retryPolicy.backoffMultiplier must be a positive number");
  }
  policy.backoff_multiplier = json["backoffMultiplier"].get<double>();
  if (!json.contains("retryableStatusCodes") || !json["retryableStatusCodes"].is_array() ||
      json["retryableStatusCodes"].empty()) {
    return absl::InvalidArgumentError(
        "service config: retryPolicy.retryableStatusCodes must list at least one code");
  }
  for (const Json& code : json["retryableStatusCodes"]) {
    absl::StatusOr<absl::StatusCode> parsed = ParseCode(code);
    if (!parsed.ok()) return parsed.status();
    policy.retryable.insert(*parsed);
  }
  return policy;
}

absl::StatusOr<HedgingPolicy> ParseHedging(const Json& json) {
  HedgingPolicy policy;
  if (!json.is_object() || !json.contains("maxAttempts") ||
      !json["maxAttempts"].is_number_integer() || json["maxAttempts"].get<int>() < 2) {
    return absl::InvalidArgumentError(
        "service config: hedgingPolicy.maxAttempts must be at least 2");
  }
  policy.max_attempts = std::min(json["maxAttempts"].get<int>(), 5);
  if (!json.contains("hedgingDelay")) {
    return absl::InvalidArgumentError("service config: hedgingPolicy.hedgingDelay is required");
  }
  absl::StatusOr<absl::Duration> delay = ParseSeconds(json["hedgingDelay"], "hedgingDelay");
  if (!delay.ok()) return delay.status();
  policy.delay = *delay;
  for (const Json& code : json.value("nonFatalStatusCodes", Json::array())) {
    absl::StatusOr<absl::StatusCode> parsed = ParseCode(code);
    if (!parsed.ok()) return parsed.status();
    policy.non_fatal.insert(*parsed);
  }
  return policy;
}

// `policy` for each of a methodConfig's names.
template <typename Policy>
absl::Status SetForNames(const Json& method_config, const Policy& policy,
                         PolicyTable<Policy>* table) {
  for (const Json& name : method_config.value("name", Json::array())) {
    const std::string service = name.value("service", "");
    if (service.empty()) {
      return absl::InvalidArgumentError("service config: a name needs its \"service\"");
    }
    table->Set(service, name.value("method", ""), policy);
  }
  return absl::OkStatus();
}

}  // namespace

void RetryThrottle::OnFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::max(0.0, tokens_ - 1);
}

void RetryThrottle::OnSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::min(max_tokens_, tokens_ + token_ratio_);
}

bool RetryThrottle::RetryAllowed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_ > max_tokens_ / 2;
}

absl::StatusOr<std::unique_ptr<ServiceConfig>> ServiceConfig::Parse(absl::string_view text) {
  const Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("service config: not a JSON object");
  }
  auto config = std::unique_ptr<ServiceConfig>(new ServiceConfig());
  for (const Json& method_config : json.value("methodConfig", Json::array())) {
    if (method_config.contains("retryPolicy") && method_config.contains("hedgingPolicy")) {
      return absl::InvalidArgumentError(
          "service config: a method has a retryPolicy or a hedgingPolicy, not both");
    }
    absl::Status named;
    if (method_config.contains("hedgingPolicy")) {
      absl::StatusOr<HedgingPolicy> hedging = ParseHedging(method_config["hedgingPolicy"]);
      if (!hedging.ok()) return hedging.status();
      named = SetForNames(method_config, *hedging, &config->hedging_);
    } else if (method_config.contains("retryPolicy")) {
      absl::StatusOr<RetryPolicy> policy = ParsePolicy(method_config["retryPolicy"]);
      if (!policy.ok()) return policy.status();
      named = SetForNames(method_config, *policy, &config->retry_);
    }
    if (!named.ok()) return named;
  }
  if (json.contains("retryThrottling")) {
    const Json& t = json["retryThrottling"];
    if (!t.is_object() || !t.value("maxTokens", Json()).is_number() ||
        !t.value("tokenRatio", Json()).is_number() || t["maxTokens"].get<double>() <= 0 ||
        t["tokenRatio"].get<double>() <= 0) {
      return absl::InvalidArgumentError(
          "service config: retryThrottling needs positive maxTokens and tokenRatio");
    }
    config->throttle_ = std::make_unique<RetryThrottle>(t["maxTokens"].get<double>(),
                                                        t["tokenRatio"].get<double>());
  }
  if (json.contains("healthCheckConfig")) {
    const Json& h = json["healthCheckConfig"];
    if (!h.is_object() || !h.value("serviceName", Json("")).is_string()) {
      return absl::InvalidArgumentError(
          "service config: healthCheckConfig must be an object whose serviceName is a string");
    }
    config->health_service_ = h.value("serviceName", std::string());
  }
  return config;
}

}  // namespace framerpc
