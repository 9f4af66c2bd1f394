#include "services/health/health_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/notification.h"

namespace framerpc {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

void HealthService::SetServingStatus(const std::string& service, ServingStatus status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    statuses_[service] = status;
    ++version_;
  }
  changed_.notify_all();
}

void HealthService::SetServingForAll(const Dispatcher& dispatcher) {
  SetServingStatus("", kServing);
  for (const framerpc::Service* service : dispatcher.services()) {
    for (const MethodEntry& method : service->methods()) {
      // "/package.Service/Method" -> "package.Service"
      const std::string& name = method.full_name;
      const size_t slash = name.find('/', 1);
      if (slash != std::string::npos) SetServingStatus(name.substr(1, slash - 1), kServing);
    }
  }
}

void HealthService::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    for (auto& [name, status] : statuses_) status = kNotServing;
    ++version_;
  }
  changed_.notify_all();
}

HealthService::ServingStatus HealthService::StatusLocked(const std::string& service) const {
  auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
}

HealthService::ServingStatus HealthService::GetStatus(const std::string& service) {
  std::lock_guard<std::mutex> lock(mu_);
  return StatusLocked(service);
}

absl::Status HealthService::Check(ServerContext* context, const HealthCheckRequest& request,
                                  HealthCheckResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  const ServingStatus status = StatusLocked(request.service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return absl::NotFoundError(absl::StrCat("unknown service '", request.service(), "'"));
  }
  response->set_status(status);
  return absl::OkStatus();
}

absl::Status HealthService::Watch(ServerContext* context, const HealthCheckRequest& request,
                                  ServerWriter<HealthCheckResponse>* writer) {
  HealthCheckResponse response;
  uint64_t seen_version = 0;
  bool first = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const ServingStatus status = StatusLocked(request.service());
    seen_version = version_;
    if (first || status != response.status()) {
      first = false;
      response.set_status(status);
      lock.unlock();
      if (!writer->Write(response)) return absl::CancelledError("the watch has ended");
      lock.lock();
      continue;  // Look again: it may have changed while we wrote.
    }
    // Wait for a change; look at the call's cancellation every interval meanwhile.
    while (version_ == seen_version) {
      if (context->IsCancelled()) return absl::CancelledError("the watch has ended");
      const absl::Time deadline =
          std::min(absl::Now() + kCancellationCheckInterval, context->deadline());
      changed_.wait_until(lock, ToChronoDeadline(deadline));
      if (absl::Now() >= context->deadline()) {
        return absl::DeadlineExceededError("deadline exceeded");
      }
    }
  }
}

}  // namespace framerpc
