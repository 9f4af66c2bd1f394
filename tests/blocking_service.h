// Test-only service whose calls block until the test opens a gate or the call is cancelled.
#ifndef FRAMERPC_TESTS_BLOCKING_SERVICE_H_
#define FRAMERPC_TESTS_BLOCKING_SERVICE_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "tests/test_service.frpc.h"

namespace framerpc::test {

// Thread-safe.
class BlockingServiceImpl final : public BlockingService::Service {
 public:
  absl::Status Block(ServerContext* context, const BlockRequest& request,
                     BlockReply* reply) override {
    {
      absl::MutexLock lock(&mu_);
      ++started_;
    }
    // Wake up on the gate or on cancellation, whichever comes first.
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        auto open = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return open_.contains(request.gate()); };
        if (mu_.AwaitWithTimeout(absl::Condition(&open), absl::Milliseconds(5))) break;
      }
      if (context->IsCancelled()) {
        absl::MutexLock lock(&mu_);
        ++cancelled_;
        return absl::CancelledError("handler saw the cancellation");
      }
    }
    reply->set_released(true);
    absl::MutexLock lock(&mu_);
    ++finished_;
    return absl::OkStatus();
  }

  void Open(const std::string& gate) {
    absl::MutexLock lock(&mu_);
    open_.insert(gate);
  }
  // Blocks until `n` handlers have started.
  void WaitForStarted(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_ >= n; };
    mu_.Await(absl::Condition(&reached));
  }
  // Blocks until `n` handlers have observed a cancellation.
  void WaitForCancelled(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return cancelled_ >= n; };
    mu_.Await(absl::Condition(&reached));
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> open_ ABSL_GUARDED_BY(mu_);
  int started_ ABSL_GUARDED_BY(mu_) = 0;
  int cancelled_ ABSL_GUARDED_BY(mu_) = 0;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace framerpc::test

#endif  // FRAMERPC_TESTS_BLOCKING_SERVICE_H_
