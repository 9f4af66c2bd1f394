#include "rpc/health_checker.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "services/health/health.pb.h"

namespace framerpc {

namespace {

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

}  // namespace

// One round of checks: shared with the checks' callbacks, which may end after CheckAll stops
// waiting for them only by a moment (they touch it last when they count themselves done).
struct HealthChecker::Round {
  struct Check {
    ClientContext context;
    HealthCheckResponse response;
  };
  std::mutex mu;
  std::condition_variable done;
  size_t pending = 0;                         // guarded by mu
  std::vector<std::unique_ptr<Check>> checks;  // filled before any call starts; then fixed
};

HealthChecker::HealthChecker(std::string service, absl::Duration interval)
    : service_(std::move(service)), interval_(interval), thread_([this] { Run(); }) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::SetProbes(std::vector<Probe> probes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    probes_ = std::move(probes);
    changed_ = true;
  }
  wake_.notify_all();
}

void HealthChecker::Stop() {
  std::shared_ptr<Round> round;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    round = round_;
  }
  wake_.notify_all();
  if (round != nullptr) {
    for (auto& check : round->checks) check->context.TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

int HealthChecker::Verdict(const absl::Status& status, int answer) {
  if (status.ok()) return answer == HealthCheckResponse::SERVING ? 1 : 0;
  if (absl::IsNotFound(status)) return 0;
  if (absl::IsUnimplemented(status)) return 1;
  return -1;
}

void HealthChecker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    changed_ = false;
    std::vector<Probe> probes = probes_;
    lock.unlock();
    CheckAll(probes);
    lock.lock();
    wake_.wait_until(lock, absl::ToChronoTime(absl::Now() + interval_),
                     [this] { return stopping_ || changed_; });
  }
}

void HealthChecker::CheckAll(const std::vector<Probe>& probes) {
  if (probes.empty()) return;
  auto round = std::make_shared<Round>();
  for (size_t i = 0; i < probes.size(); ++i) {
    auto check = std::make_unique<Round::Check>();
    check->context.set_timeout(std::max(interval_, absl::Seconds(1)));
    round->checks.push_back(std::move(check));
  }
  round->pending = probes.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    round_ = round;
  }
  HealthCheckRequest request;
  request.set_service(service_);
  for (size_t i = 0; i < probes.size(); ++i) {
    Round::Check* check = round->checks[i].get();
    probes[i].channel->StartCall(
        kCheckMethod, &check->context, request, &check->response,
        [round, check, report = probes[i].report](absl::Status status) {
          const int verdict = Verdict(status, check->response.status());
          if (verdict >= 0) report(verdict == 1);
          std::lock_guard<std::mutex> lock(round->mu);
          if (--round->pending == 0) round->done.notify_all();
        });
  }
  {
    std::unique_lock<std::mutex> lock(round->mu);
    round->done.wait(lock, [&] { return round->pending == 0; });
  }
  std::lock_guard<std::mutex> lock(mu_);
  round_.reset();
}

}  // namespace framerpc
